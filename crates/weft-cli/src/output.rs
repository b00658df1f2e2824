//! Rendering a run: the answer on stdout and tool activity on stderr for humans, or one JSON
//! object per line on stdout for programs.

use std::collections::HashMap;
use std::io::Write;

use serde_json::{Value, json};
use weft::{AgentResponseUpdate, Content, Role, Usage};

use crate::error::CliError;

/// The longest tool result shown on stderr, in characters.
const RESULT_PREVIEW_CHARS: usize = 300;

/// Renders the updates of a run as they arrive.
pub(crate) struct Renderer {
    json: bool,
    /// Summed over every model call of the run.
    usage: Usage,
    /// The assistant's text since the last tool results: the answer.
    answer: String,
    /// Whether stdout is at the start of a line (human mode).
    at_line_start: bool,
    /// Tool names by call id, to name the results.
    call_names: HashMap<String, String>,
    approvals: usize,
}

fn stdout_error(source: std::io::Error) -> CliError {
    CliError::Io { context: "could not write to stdout".into(), source }
}

impl Renderer {
    /// A renderer for human (`json == false`) or JSON-lines output.
    pub(crate) fn new(json: bool) -> Self {
        Self {
            json,
            usage: Usage::default(),
            answer: String::new(),
            at_line_start: true,
            call_names: HashMap::new(),
            approvals: 0,
        }
    }

    /// Renders one update.
    pub(crate) fn update(&mut self, update: &AgentResponseUpdate) -> Result<(), CliError> {
        let from_tool = update.role == Some(Role::Tool);
        if from_tool {
            self.answer.clear();
        }
        for content in &update.contents {
            self.content(content, from_tool)?;
        }
        std::io::stdout().flush().map_err(stdout_error)
    }

    fn content(&mut self, content: &Content, from_tool: bool) -> Result<(), CliError> {
        match content {
            Content::Text { text } if !from_tool => {
                self.answer.push_str(text);
                if self.json {
                    self.line(&json!({"type": "text", "text": text}))?;
                } else if !text.is_empty() {
                    write!(std::io::stdout(), "{text}").map_err(stdout_error)?;
                    self.at_line_start = text.ends_with('\n');
                }
            }
            Content::Reasoning { text, .. } => {
                if self.json {
                    self.line(&json!({"type": "reasoning", "text": text}))?;
                }
            }
            Content::FunctionCall(call) => {
                self.call_names.insert(call.call_id.clone(), call.name.clone());
                if self.json {
                    self.line(&json!({
                        "type": "function_call",
                        "call_id": call.call_id,
                        "name": call.name,
                        "arguments": call.arguments,
                    }))?;
                } else {
                    self.end_stdout_line()?;
                    if !crate::logging::quiet() {
                        eprintln!("→ {} {}", call.name, call.arguments_text());
                    }
                }
            }
            Content::FunctionResult(result) => {
                let name = self.call_names.get(&result.call_id).cloned();
                if self.json {
                    let mut event = json!({
                        "type": "function_result",
                        "call_id": result.call_id,
                        "name": name,
                        "result": result.result,
                    });
                    if let (Some(error), Some(object)) = (&result.error, event.as_object_mut()) {
                        object.insert("error".into(), Value::String(error.clone()));
                    }
                    self.line(&event)?;
                } else {
                    self.end_stdout_line()?;
                    match &result.error {
                        _ if crate::logging::quiet() => {}
                        Some(error) => eprintln!("← error: {}", preview(error)),
                        None => eprintln!("← {}", preview(&result.to_model_text())),
                    }
                }
            }
            Content::ApprovalRequest(request) => {
                self.approvals += 1;
                if self.json {
                    self.line(&json!({
                        "type": "approval_request",
                        "id": request.id,
                        "name": request.call.name,
                        "arguments": request.call.arguments,
                    }))?;
                } else {
                    self.end_stdout_line()?;
                    eprintln!("? {} {} needs approval", request.call.name, request.call.arguments_text());
                }
            }
            Content::Usage(usage) => self.usage += *usage,
            Content::Error { message, code } => {
                if self.json {
                    self.line(&json!({"type": "model_error", "message": message, "code": code}))?;
                } else {
                    self.end_stdout_line()?;
                    eprintln!("weft: the model reported an error: {message}");
                }
            }
            other => {
                if self.json {
                    self.line(&json!({"type": "content", "content": other}))?;
                }
            }
        }
        Ok(())
    }

    /// Counts `count` approval requests as answered (they no longer hold the run).
    pub(crate) fn approvals_answered(&mut self, count: usize) {
        self.approvals = self.approvals.saturating_sub(count);
    }

    /// Ends the run: the final `done` event (JSON) or the answer's last newline (human).
    pub(crate) fn done(&mut self, session: Option<&std::path::Path>) -> Result<(), CliError> {
        tracing::info!(
            input_tokens = self.usage.input_tokens,
            output_tokens = self.usage.output_tokens,
            "run finished"
        );
        if self.json {
            self.line(&json!({
                "type": "done",
                "text": self.answer,
                "usage": self.usage,
                "pending_approvals": self.approvals,
                "session": session.map(|path| path.display().to_string()),
            }))?;
        } else {
            self.end_stdout_line()?;
            if self.approvals > 0 {
                eprintln!("weft: the run stopped waiting for approval of {} tool call(s)", self.approvals);
            }
        }
        std::io::stdout().flush().map_err(stdout_error)
    }

    /// Reports a failed run on stdout too, in JSON mode (the error line goes to stderr anyway).
    pub(crate) fn failed(&mut self, error: &CliError) {
        if self.json {
            let _ = self.line(&json!({
                "type": "error",
                "kind": error.kind(),
                "exit_code": error.exit_code(),
                "message": error.chain(),
            }));
        } else {
            let _ = self.end_stdout_line();
        }
        let _ = std::io::stdout().flush();
    }

    fn line(&mut self, event: &Value) -> Result<(), CliError> {
        writeln!(std::io::stdout(), "{event}").map_err(stdout_error)
    }

    fn end_stdout_line(&mut self) -> Result<(), CliError> {
        if !self.at_line_start {
            writeln!(std::io::stdout()).map_err(stdout_error)?;
            self.at_line_start = true;
        }
        std::io::stdout().flush().map_err(stdout_error)
    }
}

/// One line of at most [`RESULT_PREVIEW_CHARS`] characters.
fn preview(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(RESULT_PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::preview;

    #[test]
    fn previews_are_one_short_line() {
        assert_eq!(preview("a\n  b"), "a b");
        let long = "x".repeat(400);
        let shown = preview(&long);
        assert_eq!(shown.chars().count(), 301);
        assert!(shown.ends_with('…'));
    }
}
