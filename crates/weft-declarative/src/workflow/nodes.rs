//! The executors a workflow file's graph is made of, besides agents (weft-workflow's
//! `AgentExecutor`) and sub-workflows (`SubWorkflow`): every one takes and sends a
//! conversation (`Vec<Message>`), so any executor may follow any other.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use weft_core::Message;
use weft_workflow::{AnyMessage, BoxError, Executor, PendingRequest, WorkflowContext};

use crate::bindings::Step;

/// The request a `request:` executor makes (with weft-workflow's request mechanism): answer it
/// with a `String`, which joins the conversation as a user message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HumanInputRequest {
    /// The executor that asks.
    pub executor: String,
    /// The question (the file's `request:`).
    pub prompt: String,
    /// The conversation so far.
    pub conversation: Vec<Message>,
}

/// A registered function (`function:`).
pub(crate) struct FunctionNode {
    pub(crate) id: String,
    pub(crate) step: Step,
    pub(crate) output: bool,
}

#[async_trait]
impl Executor for FunctionNode {
    type Input = Vec<Message>;
    type Output = Vec<Message>;

    fn id(&self) -> &str {
        &self.id
    }

    async fn handle(&self, input: Vec<Message>, ctx: &WorkflowContext<Vec<Message>>) -> Result<(), BoxError> {
        let received = input.len();
        let conversation = (self.step)(input).await.map_err(|e| format!("function `{}`: {e}", self.id))?;
        if self.output {
            ctx.yield_output(added(&conversation, received));
        }
        ctx.send_message(conversation);
        Ok(())
    }
}

/// The messages after the first `received`, or all of them when there are no more.
fn added(conversation: &[Message], received: usize) -> Vec<Message> {
    match conversation.get(received..) {
        Some(new) if !new.is_empty() => new.to_vec(),
        _ => conversation.to_vec(),
    }
}

/// Human input (`request:`): asks, then sends the conversation on with the answer.
pub(crate) struct RequestNode {
    pub(crate) id: String,
    pub(crate) prompt: String,
    pub(crate) output: bool,
}

#[async_trait]
impl Executor for RequestNode {
    type Input = Vec<Message>;
    type Output = Vec<Message>;

    fn id(&self) -> &str {
        &self.id
    }

    async fn handle(&self, input: Vec<Message>, ctx: &WorkflowContext<Vec<Message>>) -> Result<(), BoxError> {
        ctx.request_info::<HumanInputRequest, String>(HumanInputRequest {
            executor: self.id.clone(),
            prompt: self.prompt.clone(),
            conversation: input,
        })?;
        Ok(())
    }

    async fn handle_response(
        &self,
        request: PendingRequest,
        response: AnyMessage,
        ctx: &WorkflowContext<Vec<Message>>,
    ) -> Result<(), BoxError> {
        let asked: HumanInputRequest = request.data_as()?;
        let answer = response.take::<String>().map_err(|m| {
            format!(
                "`{}` asks for text: answer request '{}' with a String, not a {}",
                self.id,
                request.request_id,
                m.type_name()
            )
        })?;
        let message = Message::user(answer);
        if self.output {
            ctx.yield_output(vec![message.clone()]);
        }
        let mut conversation = asked.conversation;
        conversation.push(message);
        ctx.send_message(conversation);
        Ok(())
    }
}

/// Joins the conversations of a fan-in into one: their common beginning, then what each
/// branch added, in the order of the edge's sources.
pub(crate) struct JoinNode {
    pub(crate) id: String,
}

#[async_trait]
impl Executor for JoinNode {
    type Input = Vec<Vec<Message>>;
    type Output = Vec<Message>;

    fn id(&self) -> &str {
        &self.id
    }

    async fn handle(
        &self,
        branches: Vec<Vec<Message>>,
        ctx: &WorkflowContext<Vec<Message>>,
    ) -> Result<(), BoxError> {
        ctx.send_message(join(branches));
        Ok(())
    }
}

fn join(branches: Vec<Vec<Message>>) -> Vec<Message> {
    let Some(first) = branches.first() else { return Vec::new() };
    let common =
        (0..first.len()).take_while(|&i| branches.iter().all(|b| b.get(i) == Some(&first[i]))).count();
    let mut joined = first[..common].to_vec();
    for branch in &branches {
        joined.extend(branch[common..].iter().cloned());
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_keeps_the_common_beginning_once() {
        let start = Message::user("q");
        let joined = join(vec![
            vec![start.clone(), Message::assistant("a")],
            vec![start.clone(), Message::assistant("b")],
        ]);
        assert_eq!(joined, vec![start, Message::assistant("a"), Message::assistant("b")]);
        assert!(join(Vec::new()).is_empty());
    }
}
