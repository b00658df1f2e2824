//! `weft chat` from a pipe (each line a prompt or a command) and on a terminal (rustyline's
//! line editing and history, through `script`, which gives it a pseudo-terminal).

// A test helper that fails is a failed test: panicking is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
use common::text;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use weft::{AgentSession, Role};

/// A fresh directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let unique =
        format!("weft-chat-{}-{}-{name}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    let path = std::env::temp_dir().join(unique);
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).unwrap();
    path
}

fn weft_in(dir: &Path) -> Command {
    let mut command = common::weft();
    command.env_remove("RUST_LOG").env("WEFT_HISTORY", dir.join("history")).current_dir(dir);
    command
}

/// `weft chat ARGS` with `input` piped to its stdin.
fn chat(dir: &Path, args: &[&str], input: &str) -> Output {
    let mut child = weft_in(dir)
        .arg("chat")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn user_lines(session: &AgentSession) -> Vec<String> {
    session.messages.iter().filter(|m| m.role == Role::User).map(|m| m.text()).collect()
}

#[test]
fn a_piped_chat_keeps_the_conversation_and_saves_and_resets_it() {
    let dir = temp_dir("pipe");
    let input = "My name is Ada\nWhat's the weather in Paris?\n/save f.json\n/reset\n/save g.json\n/nope\n";
    let output = chat(&dir, &[], input);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("weather in Paris"), "{stdout}");
    assert!(stderr.contains("weft: saved the conversation to f.json"), "{stderr}");
    assert!(stderr.contains("weft: unknown command /nope"), "{stderr}");

    let saved = AgentSession::load(dir.join("f.json")).expect("f.json loads");
    assert_eq!(user_lines(&saved), ["My name is Ada", "What's the weather in Paris?"]);
    assert!(
        saved.messages.iter().any(|m| m.role == Role::Assistant && m.text().contains("weather in Paris"))
    );
    let reset = AgentSession::load(dir.join("g.json")).expect("g.json loads");
    assert!(reset.messages.is_empty(), "{reset:?}");

    // The saved conversation goes on with --session, and is saved after each prompt.
    let output = chat(&dir, &["--session", "f.json"], "And add 2 and 3\n");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let continued = AgentSession::load(dir.join("f.json")).unwrap();
    assert_eq!(user_lines(&continued), ["My name is Ada", "What's the weather in Paris?", "And add 2 and 3"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failed_turn_is_shown_the_chat_goes_on_and_the_exit_code_says_so() {
    let dir = temp_dir("fail");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base_url = format!("http://127.0.0.1:{port}/v1");
    let output = chat(&dir, &["--base-url", &base_url], "hello\n/save after.json\n");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert_eq!(stderr.lines().filter(|l| l.starts_with("weft: error: ")).count(), 1, "{stderr}");
    assert!(stderr.contains("weft: saved the conversation to after.json"), "the chat went on: {stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `shell` (a `sh -c` script that starts `weft` under `script`, which gives it a
/// terminal); returns everything the terminal showed.
fn on_a_terminal(dir: &Path, shell: &str) -> String {
    let output = Command::new("sh")
        .args(["-c", shell])
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env("WEFT_HISTORY", dir.join("history"))
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .output()
        .expect("script(1) from util-linux runs");
    assert!(output.status.success(), "{}", text(&output.stdout));
    text(&output.stdout)
}

#[test]
fn on_a_terminal_lines_are_edited_and_recalled_from_history() {
    let dir = temp_dir("tty");
    let weft = env!("CARGO_BIN_EXE_weft");
    // Types "hello", then Up (recalls it) and Enter, then Ctrl-D. The pauses let each turn end.
    let shell = format!(
        "(sleep 1; printf 'hello\\r'; sleep 2; printf '\\033[A\\r'; sleep 2; printf '\\004') | \
         script -qec '{weft} chat --session s.json' /dev/null"
    );
    let screen = on_a_terminal(&dir, &shell);
    assert!(screen.contains("you> "), "{screen}");
    let session = AgentSession::load(dir.join("s.json")).unwrap_or_else(|e| panic!("{e}: {screen}"));
    assert_eq!(user_lines(&session), ["hello", "hello"], "{screen}");
    let history = std::fs::read_to_string(dir.join("history")).unwrap();
    assert!(history.contains("hello"), "{history}");
    let _ = std::fs::remove_dir_all(&dir);
}
