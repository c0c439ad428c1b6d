//! `berth compose config` end to end over the hand-written corpus in
//! `tests/data/compose/`: every case runs the built binary in its own directory and
//! compares stdout byte for byte with the recorded Docker Compose v2.40.3 output, or
//! stderr with the expected one-line error.
//!
//! A case directory holds the compose files and:
//! - `args`: the command line after `berth compose` (default `-f compose.yaml config --format json`);
//! - `env`: `KEY=VALUE` lines, the whole environment besides PATH and HOME;
//! - `expected.json`: the expected stdout (`${DIR}` stands for the case directory), or
//! - `expected.error`: the expected stderr line (same placeholder), exit status 1;
//! - `expected.hash`: the expected `config --hash '*'` output, checked as well.

mod harness;

use std::path::Path;

use harness::{Case, cases, run_berth};

#[test]
fn compose_config_corpus() {
    let mut failures = Vec::new();
    let all = cases(&harness::data_dir().join("compose"));
    assert!(
        all.len() >= 20,
        "the corpus should not shrink unnoticed: {} cases",
        all.len()
    );
    for case in &all {
        if let Err(e) = check_case(case) {
            failures.push(format!("{}: {e}", case.name));
        }
    }
    let _ = std::fs::remove_dir_all(harness::CASE_ROOT);
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

fn check_case(case: &Case) -> Result<(), String> {
    let out = run_berth(&case.dir, &case.args, &case.env, None);
    let dir = case.dir.display().to_string();
    if let Some(expected) = case.read("expected.json") {
        let expected = expected.replace("${DIR}", &dir);
        if out.status != Some(0) {
            return Err(format!(
                "exit {:?}, stderr: {}",
                out.status,
                out.stderr.trim()
            ));
        }
        if out.stdout != expected {
            return Err(format!(
                "stdout differs:\n{}",
                harness::diff(&expected, &out.stdout)
            ));
        }
        let json = case
            .args
            .windows(2)
            .any(|w| w[0] == "--format" && w[1] == "json");
        // `--no-interpolate` prints the untyped model, which is not meant to load back.
        if json && !case.args.iter().any(|a| a == "--no-interpolate") {
            round_trip(case, &out.stdout)?;
        }
    } else if let Some(expected) = case.read("expected.error") {
        let expected = expected.trim_end().replace("${DIR}", &dir);
        if out.status != Some(1) {
            return Err(format!(
                "expected exit 1, got {:?} (stdout {} bytes)",
                out.status,
                out.stdout.len()
            ));
        }
        let got = out.stderr.trim_end();
        if got != expected {
            return Err(format!(
                "stderr differs:\nexpected: {expected}\n     got: {got}"
            ));
        }
        if got.lines().count() != 1 || got.contains("panicked") {
            return Err(format!("an error must be one line: {got}"));
        }
    } else {
        return Err("no expected.json or expected.error".into());
    }
    if let Some(expected) = case.read("expected.hash") {
        let mut args = case.args.clone();
        let at = args
            .iter()
            .position(|a| a == "config")
            .ok_or("args lack `config`")?;
        args.truncate(at + 1);
        args.extend(["--hash".to_string(), "*".to_string()]);
        let out = run_berth(&case.dir, &args, &case.env, None);
        if out.stdout != expected {
            return Err(format!(
                "config --hash differs:\n{}",
                harness::diff(&expected, &out.stdout)
            ));
        }
    }
    Ok(())
}

/// The printed configuration loads back to itself: `config` of `config` is stable.
fn round_trip(case: &Case, first: &str) -> Result<(), String> {
    let mut env = case.env.clone();
    env.retain(|(k, _)| k != "COMPOSE_FILE");
    // The case's own flags (profiles, env files...), reading the printed output instead
    // of the case's files.
    let mut args = vec!["-f".to_string(), "-".to_string()];
    let mut rest = case.args.iter();
    while let Some(a) = rest.next() {
        if a == "-f" {
            rest.next();
        } else {
            args.push(a.clone());
        }
    }
    let out = run_berth(Path::new(&case.dir), &args, &env, Some(first));
    if out.status != Some(0) {
        return Err(format!("round trip failed to load: {}", out.stderr.trim()));
    }
    if out.stdout != first {
        return Err(format!(
            "round trip changed the output:\n{}",
            harness::diff(first, &out.stdout)
        ));
    }
    Ok(())
}

/// The headline example loads to what Compose v2.40.3 prints for it.
#[test]
fn wordpress_example_config() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let args: Vec<String> = [
        "-f",
        "examples/wordpress-mysql/compose.yaml",
        "config",
        "--format",
        "json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = run_berth(root, &args, &[], None);
    assert_eq!(out.status, Some(0), "stderr: {}", out.stderr);
    let expected =
        std::fs::read_to_string(harness::data_dir().join("wordpress-mysql.expected.json"))
            .expect("read the recorded output");
    assert_eq!(
        out.stdout,
        expected,
        "{}",
        harness::diff(&expected, &out.stdout)
    );
}
