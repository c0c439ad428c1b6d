//! Terminals and attaching, as a user at a terminal sees them: `run -it busybox sh` on a
//! terminal the test owns (window size at start and after a resize, `tty` naming the
//! container's own `/dev/pts/0`, Ctrl-C reaching the container's foreground process),
//! detaching with ctrl-p ctrl-q and attaching again, `exec -it`, and the pipe cases
//! (`run -i` stdin and its end, `start -a -i`, `attach` to a stopped container). Root.

mod harness;

use harness::containers::{berth_command, root, run};
use harness::pty::{Pty, wait};

const PROMPT: &str = "/ # ";

fn winch(child: &std::process::Child) {
    let pid = rustix::process::Pid::from_child(child);
    rustix::process::kill_process(pid, rustix::process::Signal::WINCH).expect("SIGWINCH");
}

/// Types `stty size` until the shell reports `want` (the resize travels from a signal
/// thread, so the first try may run before it lands); the terminal's text.
fn wait_for_size(pty: &mut Pty, want: &str) {
    for _ in 0..50 {
        pty.write(b"stty size\r");
        let shown = pty.expect(PROMPT);
        if shown.contains(want) {
            return;
        }
    }
    panic!("the container's terminal never reported {want}");
}

#[test]
fn run_it_detach_attach_and_exec_it_on_a_terminal() {
    let root = root("tty");
    let mut pty = Pty::open(33, 101);
    let mut cli = pty.spawn(berth_command(&root).args([
        "run",
        "-it",
        "--name",
        "tty1",
        "--network",
        "none",
        "busybox",
        "sh",
    ]));
    pty.expect(PROMPT);
    pty.write(b"stty size; tty\r");
    let shown = pty.expect(PROMPT);
    assert!(shown.contains("33 101"), "{shown}");
    assert!(
        shown.contains("/dev/pts/0"),
        "the container's own devpts: {shown}"
    );

    pty.resize(40, 120);
    winch(&cli);
    wait_for_size(&mut pty, "40 120");

    // Raw mode: Ctrl-C is a byte the container's terminal turns into SIGINT for its
    // foreground process (which says when its trap is set; the arithmetic keeps the
    // echoed command line from matching).
    pty.write(b"sh -c 'trap \"echo got-$((2*3)); exit 0\" INT; echo armed-$((1+1)); while :; do sleep 1; done'\r");
    pty.expect("armed-2");
    pty.write(b"\x03");
    pty.expect("got-6");
    pty.expect(PROMPT);

    // ctrl-p ctrl-q: the CLI leaves with 0, the container goes on.
    pty.write(b"\x10\x11");
    assert_eq!(wait(&mut cli), 0);
    let status = root.ok(&["ps", "--filter", "name=^tty1$", "--format", "{{.Status}}"]);
    assert!(status.starts_with("Up"), "{status}");

    // attach: the same shell; its exit code is attach's.
    let mut pty = Pty::open(24, 80);
    let mut cli = pty.spawn(berth_command(&root).args(["attach", "tty1"]));
    pty.write(b"echo attached-$((1+1))\r");
    pty.expect("attached-2");
    pty.write(b"exit 3\r");
    assert_eq!(wait(&mut cli), 3);
    let status = root.ok(&[
        "ps",
        "-a",
        "--filter",
        "name=^tty1$",
        "--format",
        "{{.Status}}",
    ]);
    assert!(status.starts_with("Exited (3)"), "{status}");
    // What the terminal showed is the container's log (one stream, stdout).
    let logs = root.ok(&["logs", "tty1"]);
    assert!(logs.contains("attached-2"), "{logs}");

    // exec -it: a terminal of its own in the container, sized like ours.
    let (code, _, err) = run(&root, &["-d", "--name", "ex1", "busybox", "sleep", "60"]);
    assert_eq!(code, 0, "{err}");
    let mut pty = Pty::open(20, 70);
    let mut cli =
        pty.spawn(berth_command(&root).args(["exec", "-it", "-u", "nobody", "ex1", "sh"]));
    pty.expect("$ ");
    pty.write(b"tty; stty size; id -u\r");
    let shown = pty.expect("$ ");
    assert!(shown.contains("/dev/pts/"), "{shown}");
    assert!(shown.contains("20 70"), "{shown}");
    assert!(shown.contains("65534"), "{shown}");
    pty.resize(25, 90);
    winch(&cli);
    for _ in 0..50 {
        pty.write(b"stty size\r");
        if pty.expect("$ ").contains("25 90") {
            break;
        }
    }
    pty.write(b"exit 5\r");
    assert_eq!(wait(&mut cli), 5);
    root.ok(&["rm", "-f", "tty1", "ex1"]);
}

#[test]
fn stdin_pipes_half_close_and_refusals() {
    let root = root("stdin");
    // A container that ends before the CLI has said what it wants still shows its
    // output and its code (the supervisor has closed its side by then).
    for _ in 0..5 {
        let (code, out, err) = root.berth(&[
            "run",
            "-i",
            "--rm",
            "--network",
            "none",
            "busybox",
            "echo",
            "quick",
        ]);
        assert_eq!((code, out.as_str()), (0, "quick\n"), "{err}");
    }
    // run -i: stdin forwarded, its end closes the container's stdin.
    let (code, out, err) = root.berth_with(
        &[
            "run",
            "-i",
            "--rm",
            "--network",
            "none",
            "busybox",
            "sh",
            "-c",
            "cat; echo done",
        ],
        b"hello\n",
    );
    assert_eq!((code, out.as_str()), (0, "hello\ndone\n"), "{err}");
    // Without -i the container's stdin is empty.
    let (code, out, _) = root.berth_with(
        &[
            "run",
            "--rm",
            "--network",
            "none",
            "busybox",
            "sh",
            "-c",
            "cat; echo done",
        ],
        b"hello\n",
    );
    assert_eq!((code, out.as_str()), (0, "done\n"));
    // stderr stays apart from stdout through the attach socket.
    let (code, out, err) = root.berth_with(
        &[
            "run",
            "-i",
            "--rm",
            "--network",
            "none",
            "busybox",
            "sh",
            "-c",
            "read x; echo out-$x; echo err-$x >&2; exit 4",
        ],
        b"v\n",
    );
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (4, "out-v\n", "err-v\n")
    );

    // start -a -i on a created -i container.
    let id = root.ok(&[
        "create",
        "-i",
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        "read x; echo got-$x; exit 7",
    ]);
    let id = id.trim();
    let (code, out, _) = root.berth_with(&["start", "-a", "-i", id], b"abc\n");
    assert_eq!((code, out.as_str()), (7, "got-abc\n"));
    let (code, _, err) = root.berth(&["attach", id]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: You cannot attach to a stopped container, start it first\n"
    );

    // -it needs a terminal on stdin, as Docker's.
    let (code, out, err) =
        root.berth(&["run", "-it", "--rm", "--network", "none", "busybox", "true"]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (1, "", "error: the input device is not a TTY\n")
    );
    let (code, _, err) = root.berth(&[
        "run",
        "-t",
        "--detach-keys",
        "ctrl-1",
        "--network",
        "none",
        "busybox",
        "true",
    ]);
    assert_eq!(code, 125);
    assert!(
        err.starts_with("error: invalid --detach-keys \"ctrl-1\""),
        "{err}"
    );
    let (_, all, _) = root.berth(&["ps", "-aq"]);
    assert_eq!(all.lines().count(), 1, "only the created container: {all}");
}
