//! `weft run --approve`: the agent's tools need approval, and the CLI asks on the terminal
//! before each call: y(es), n(o), or a(lways) — which approves that tool for the rest of the run.

use std::collections::HashSet;
use std::io::BufRead;
use std::sync::{Arc, Mutex};

use weft::{ApprovalMode, ApprovalRequest, Message};

use crate::error::CliError;

/// What the user answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Run this call.
    Yes,
    /// Do not run it (the model is told so).
    No,
    /// Run this call and every later call of the same tool without asking.
    Always,
}

/// Parses one answer line; `None` when it is not an answer.
pub(crate) fn parse_answer(line: &str) -> Option<Answer> {
    match line.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Some(Answer::Yes),
        "n" | "no" => Some(Answer::No),
        "a" | "always" => Some(Answer::Always),
        _ => None,
    }
}

/// Asks the user about tool calls, and remembers the tools always approved.
#[derive(Debug, Clone)]
pub(crate) struct Approver {
    always: Arc<Mutex<HashSet<String>>>,
    /// Read the answers from `/dev/tty` (stdin carried the prompt).
    tty: bool,
}

impl Approver {
    /// An approver reading answers from stdin, or from the terminal when stdin held the prompt.
    pub(crate) fn new(prompt_from_stdin: bool) -> Self {
        Self { always: Arc::new(Mutex::new(HashSet::new())), tty: prompt_from_stdin }
    }

    /// The approval mode for the agent's tools: every call, except those of tools the user
    /// approved with "always".
    pub(crate) fn mode(&self) -> ApprovalMode {
        let always = self.always.clone();
        ApprovalMode::when(move |call| {
            !always.lock().map(|names| names.contains(&call.name)).unwrap_or(false)
        })
    }

    /// Asks about each request; returns the answers as the next run's input.
    pub(crate) async fn ask(&self, requests: Vec<ApprovalRequest>) -> Result<Vec<Message>, CliError> {
        let mut answers = Vec::new();
        for request in requests {
            let always_approved =
                self.always.lock().map(|names| names.contains(&request.call.name)).unwrap_or(false);
            let answer = if always_approved {
                Answer::Yes
            } else {
                let question = format!(
                    "weft: run {} {}? [y/n/a(lways)] ",
                    request.call.name,
                    request.call.arguments_text()
                );
                let tty = self.tty;
                tokio::task::spawn_blocking(move || read_answer(&question, tty))
                    .await
                    .map_err(|e| CliError::Usage(format!("could not read the approval: {e}")))??
            };
            if answer == Answer::Always {
                if let Ok(mut names) = self.always.lock() {
                    names.insert(request.call.name.clone());
                }
            }
            answers.push(if answer == Answer::No { request.reject() } else { request.approve() });
        }
        Ok(answers)
    }
}

/// Asks until the answer is understood (at most three times); the end of input means no.
fn read_answer(question: &str, tty: bool) -> Result<Answer, CliError> {
    let io_error = |source| CliError::Io { context: "could not read the approval answer".into(), source };
    let mut input: Box<dyn BufRead> = if tty {
        Box::new(std::io::BufReader::new(std::fs::File::open("/dev/tty").map_err(io_error)?))
    } else {
        Box::new(std::io::stdin().lock())
    };
    for _ in 0..3 {
        eprint!("{question}");
        let mut line = String::new();
        if input.read_line(&mut line).map_err(io_error)? == 0 {
            eprintln!("(no answer: not running it)");
            return Ok(Answer::No);
        }
        if let Some(answer) = parse_answer(&line) {
            return Ok(answer);
        }
        eprintln!("please answer y, n or a");
    }
    Ok(Answer::No)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        assert_eq!(parse_answer("y\n"), Some(Answer::Yes));
        assert_eq!(parse_answer(" YES "), Some(Answer::Yes));
        assert_eq!(parse_answer("n"), Some(Answer::No));
        assert_eq!(parse_answer("always"), Some(Answer::Always));
        assert_eq!(parse_answer("a"), Some(Answer::Always));
        assert_eq!(parse_answer("maybe"), None);
    }

    #[test]
    fn always_stops_asking_for_that_tool() {
        let approver = Approver::new(false);
        let mode = approver.mode();
        let call = weft::FunctionCall::new("c1", "get-sum", serde_json::json!({}));
        assert!(mode.requires_approval(&call));
        approver.always.lock().unwrap().insert("get-sum".into());
        assert!(mode.requires_approval(&weft::FunctionCall::new("c2", "echo", serde_json::json!({}))));
        assert!(!mode.requires_approval(&call));
    }
}
