//! Session files: a process killed mid-save leaves a whole session, errors name the file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use weft_core::agent::AgentSession;
use weft_core::{Message, SessionError};

/// Set in the environment of the writer process: the session file it saves to, in a loop.
const WRITER_ENV: &str = "WEFT_TEST_SESSION_WRITER";

/// A session of `messages` kilobyte-long messages.
fn big_session(messages: usize) -> AgentSession {
    let mut session = AgentSession::new();
    let paragraph = "The quick brown fox jumps over the lazy dog. ".repeat(25);
    for i in 0..messages {
        session.messages.push(Message::user(format!("{i}: {paragraph}")));
    }
    session
}

/// Not a test: the process the kill test starts (and kills). It saves a big session to the
/// file named by `WEFT_TEST_SESSION_WRITER` until it is killed, printing `saved` after each
/// save; without that variable, it does nothing.
#[test]
#[ignore = "helper process of a_process_killed_mid_save_leaves_a_whole_session"]
fn session_writer_process() {
    let Some(path) = std::env::var_os(WRITER_ENV) else { return };
    let session = big_session(1_000);
    loop {
        session.save(&path).unwrap();
        println!("saved");
    }
}

#[test]
fn a_process_killed_mid_save_leaves_a_whole_session() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat.json");
    let first = AgentSession::new();
    first.save(&path).unwrap();
    for round in 0..8u64 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "session_writer_process", "--ignored", "--nocapture", "--test-threads=1"])
            .env(WRITER_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Once it has saved, kill it (SIGKILL) at a different moment of its next saves each round.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let saved = lines.by_ref().map_while(Result::ok).any(|line| line == "saved");
        std::thread::sleep(Duration::from_millis(round * 13));
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(saved, "round {round}: the writer process did not save");
        let session = AgentSession::load(&path)
            .unwrap_or_else(|error| panic!("round {round}: the session file is damaged: {error}"));
        assert_ne!(session.id, first.id);
        assert_eq!(session.messages.len(), 1_000);
    }
}

#[test]
fn a_reader_during_saves_always_sees_a_whole_session() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat.json");
    let sessions = [big_session(300), big_session(300)];
    let texts: Vec<Vec<u8>> = sessions.iter().map(|s| s.to_json().unwrap().into_bytes()).collect();
    sessions[0].save(&path).unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    let (reads, torn) = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let (mut reads, mut torn) = (0, 0);
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                let bytes = std::fs::read(&path).unwrap();
                reads += 1;
                if !texts.contains(&bytes) {
                    torn += 1;
                }
            }
            (reads, torn)
        });
        for i in 0..30 {
            sessions[i % 2].save(&path).unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::Release);
        reader.join().unwrap()
    });
    assert!(reads > 0);
    assert_eq!(torn, 0, "{torn} of {reads} reads saw a partial session");
}

#[test]
fn load_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.json");
    std::fs::write(&path, "").unwrap();
    let error = AgentSession::load(&path).unwrap_err();
    assert!(
        matches!(&error, SessionError::InvalidFile { source, .. } if matches!(**source, SessionError::Json(_)))
    );
    let text = error.to_string();
    assert!(text.contains(&path.display().to_string()) && text.contains("invalid session JSON"), "{text}");

    let future = dir.path().join("future.json");
    let mut json: serde_json::Value = serde_json::from_str(&AgentSession::new().to_json().unwrap()).unwrap();
    json["format_version"] = 99.into();
    std::fs::write(&future, json.to_string()).unwrap();
    let text = AgentSession::load(&future).unwrap_err().to_string();
    assert!(text.contains("future.json") && text.contains("format version 99"), "{text}");

    let missing = dir.path().join("missing.json");
    let error = AgentSession::load(&missing).unwrap_err();
    assert!(matches!(&error, SessionError::Io { .. }), "{error:?}");
    assert!(error.to_string().contains("missing.json"), "{error}");
}

#[test]
fn check_path_refuses_a_missing_directory_and_returns_a_symlink_target() {
    let dir = tempfile::tempdir().unwrap();
    let error = AgentSession::check_path(dir.path().join("nowhere/chat.json")).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("nowhere/chat.json") && text.contains("does not exist"), "{text}");
    let plain = dir.path().join("chat.json");
    assert_eq!(AgentSession::check_path(&plain).unwrap(), plain);
    #[cfg(unix)]
    {
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("chat.json", &link).unwrap();
        assert_eq!(AgentSession::check_path(&link).unwrap(), plain);
    }
}

#[tokio::test]
async fn async_save_and_load_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat.json");
    let mut session = AgentSession::new();
    session.messages.push(Message::user("hello"));
    session.save_async(&path).await.unwrap();
    let loaded = AgentSession::load_async(&path).await.unwrap();
    assert_eq!(loaded, session);
    assert_eq!(list(dir.path()), ["chat.json"]);
}

fn list(directory: &Path) -> Vec<String> {
    std::fs::read_dir(directory)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}
