//! `weft run --session FILE`: concurrent runs on one file take turns, a session path that cannot
//! be saved stops the run before the model is asked, and a damaged file is named.

// A test helper that fails is a failed test: panicking is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
use common::{text, weft};

use std::path::Path;
use std::process::Output;

use weft::{AgentSession, Role};

fn run_on(session: &Path, prompt: &str) -> Output {
    weft().args(["run", "--session"]).arg(session).arg(prompt).output().expect("the weft binary runs")
}

fn user_turns(path: &Path) -> Vec<String> {
    let session = AgentSession::load(path).expect("the session file loads");
    session.messages.iter().filter(|m| m.role == Role::User).map(|m| m.text()).collect()
}

#[test]
fn concurrent_runs_on_one_session_file_keep_every_turn() {
    const PROCESSES: usize = 4;
    const RUNS: usize = 15;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat.json");
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..PROCESSES)
            .map(|process| {
                let path = &path;
                scope.spawn(move || {
                    let mut failures = Vec::new();
                    for run in 0..RUNS {
                        let output = run_on(path, &format!("add {process} and {run}"));
                        if !output.status.success() {
                            failures.push(format!(
                                "process {process} run {run}: {:?}\n{}",
                                output.status,
                                text(&output.stderr)
                            ));
                        }
                    }
                    failures
                })
            })
            .collect();
        workers.into_iter().flat_map(|worker| worker.join().unwrap()).collect()
    });
    assert!(failures.is_empty(), "{} runs failed:\n{}", failures.len(), failures.join("\n"));

    let turns = user_turns(&path);
    let mut missing = Vec::new();
    for process in 0..PROCESSES {
        for run in 0..RUNS {
            let prompt = format!("add {process} and {run}");
            if !turns.contains(&prompt) {
                missing.push(prompt);
            }
        }
    }
    assert!(missing.is_empty(), "{} of {} turns lost: {missing:?}", missing.len(), PROCESSES * RUNS);
    assert_eq!(turns.len(), PROCESSES * RUNS);
    // Each process's turns are in its own order.
    for process in 0..PROCESSES {
        let own: Vec<&String> =
            turns.iter().filter(|t| t.starts_with(&format!("add {process} and "))).collect();
        let expected: Vec<String> = (0..RUNS).map(|run| format!("add {process} and {run}")).collect();
        assert_eq!(own, expected.iter().collect::<Vec<_>>());
    }
    // The session file, its lock file, and nothing else (no temporary file left behind).
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["chat.json", "chat.json.lock"]);
}

#[test]
fn an_unusable_session_path_stops_the_run_before_the_model_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let missing_dir = dir.path().join("nowhere").join("chat.json");
    let output = run_on(&missing_dir, "What's the weather in Paris?");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(stderr.contains("weft: error: session file") && stderr.contains("does not exist"), "{stderr}");
    assert!(stderr.contains("nowhere"), "{stderr}");
    assert!(output.stdout.is_empty(), "the model was asked: {}", text(&output.stdout));
    assert!(!stderr.contains("get_weather"), "the model was asked:\n{stderr}");

    let directory = dir.path().join("a-directory");
    std::fs::create_dir(&directory).unwrap();
    let output = run_on(&directory, "What's the weather in Paris?");
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert!(text(&output.stderr).contains("a-directory"), "{}", text(&output.stderr));
}

#[test]
fn a_damaged_session_file_is_named_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat.json");
    std::fs::write(&path, "").unwrap();
    let output = run_on(&path, "hello");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(stderr.contains(&format!("session file {}", path.display())), "{stderr}");
    assert!(stderr.contains("invalid session JSON"), "{stderr}");
    assert_eq!(std::fs::read(&path).unwrap(), b"", "the file is not touched");
}

#[cfg(unix)]
#[test]
fn a_session_behind_a_symlink_is_saved_to_its_target() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.json");
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink("real.json", &link).unwrap();
    for prompt in ["add 1 and 2", "add 3 and 4"] {
        let output = run_on(&link, prompt);
        assert!(output.status.success(), "stderr:\n{}", text(&output.stderr));
        // The permissions set on the file survive the next save.
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(user_turns(&real), ["add 1 and 2", "add 3 and 4"]);
    assert_eq!(std::fs::metadata(&real).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(dir.path().join("real.json.lock").exists(), "the lock is beside the target");
}
