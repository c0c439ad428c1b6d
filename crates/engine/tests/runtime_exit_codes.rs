//! A container's exit code is its process's, as Docker reports it: 0 and 1 as the program
//! exits, 126 when it cannot be executed, 127 when it does not exist, 128 + n when signal n
//! killed it; signals sent from the host reach PID 1 when it handles them.

mod runtime_support;

use runtime_support::Sandbox;

#[test]
fn true_exits_0_and_false_exits_1() {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&["true"]).code(), 0);
    assert_eq!(sb.run(&["false"]).code(), 1);
    assert_eq!(sb.run(&["sh", "-c", "exit 42"]).code(), 42);
}

#[test]
fn output_reaches_stdout_and_stderr() {
    let sb = Sandbox::new();
    let out = sb.run(&["sh", "-c", "echo out; echo err >&2"]);
    assert_eq!(out.ok(), "out\n");
    assert_eq!(out.stderr, "err\n");
}

#[test]
fn a_missing_program_is_127() {
    let sb = Sandbox::new();
    let err = sb.start(sb.spec(&["nonexistent-program"])).unwrap_err();
    assert_eq!(err.exit_code(), 127);
    assert_eq!(
        err.to_string(),
        "exec: \"nonexistent-program\": executable file not found in $PATH"
    );
    let err = sb.start(sb.spec(&["/no/such/file"])).unwrap_err();
    assert_eq!(err.exit_code(), 127);
    assert_eq!(
        err.to_string(),
        "exec: \"/no/such/file\": stat /no/such/file: no such file or directory"
    );
}

#[test]
fn a_program_that_cannot_be_executed_is_126() {
    let sb = Sandbox::new();
    let err = sb.start(sb.spec(&["/etc/passwd"])).unwrap_err();
    assert_eq!(err.exit_code(), 126);
    assert_eq!(err.to_string(), "exec: \"/etc/passwd\": permission denied");
}

#[test]
fn sigkill_from_the_host_is_137() {
    let sb = Sandbox::new();
    let started = sb.start(sb.spec(&["sleep", "100"])).unwrap();
    started.init.signal(libc::SIGKILL).unwrap();
    assert_eq!(started.finish().code(), 137);
}

#[test]
fn a_process_killed_by_sigterm_is_143() {
    // PID 1 ignores signals it has no handler for, so the shell runs the program as a child
    // and exits with its status.
    let sb = Sandbox::new();
    let out = sb.run(&["sh", "-c", "sleep 100 & kill -TERM $!; wait $!"]);
    assert_eq!(out.code(), 143);
    // PID 1 itself: SIGTERM from the host has no effect without a handler (the kernel
    // protects a namespace's init); with `--init` it is forwarded (runtime_init.rs).
}

#[test]
fn a_signal_from_the_host_reaches_pid_1() {
    let sb = Sandbox::new();
    let started = sb
        .start(sb.spec(&[
            "sh",
            "-c",
            "trap 'echo got USR1; exit 7' USR1; echo ready; while :; do sleep 0.05; done",
        ]))
        .unwrap();
    assert_eq!(started.read_line(), "ready");
    started.init.signal(libc::SIGUSR1).unwrap();
    let out = started.finish();
    assert_eq!(out.code(), 7);
    assert_eq!(out.stdout, "got USR1\n");
}
