//! Helpers shared by the orchestration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use weft_core::Message;
use weft_workflow::{RunStatus, WorkflowRunResult};

/// The one output of a finished orchestration: the messages added to the input.
pub fn added(result: &WorkflowRunResult) -> Vec<Message> {
    assert_eq!(result.status, RunStatus::Idle, "{:?}", result.error());
    let outputs = result.outputs_as::<Vec<Message>>();
    assert_eq!(outputs.len(), 1);
    outputs.into_iter().next().unwrap()
}

/// Who wrote each message (`-` for nobody).
pub fn authors(messages: &[Message]) -> Vec<&str> {
    messages.iter().map(|m| m.author_name.as_deref().unwrap_or("-")).collect()
}
