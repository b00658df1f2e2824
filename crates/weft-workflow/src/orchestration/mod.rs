//! Multi-agent orchestrations built on workflows: each builder takes agents
//! (`Arc<dyn Agent>`) and builds a [`crate::Workflow`] whose input is the conversation
//! (`Vec<Message>`) and whose output (yielded once, when it finishes) is the messages the
//! participants added, in order. Wrap one in a [`crate::WorkflowAgent`] to use it as an agent.
//! In all of them, a participant's tool call that needs approval pauses the run with an
//! [`crate::AgentApprovalRequest`] (answer it with `Vec<ApprovalResponse>`).
//!
//! - [`SequentialBuilder`]: agents one after another, each seeing the conversation so far.
//! - [`ConcurrentBuilder`]: every agent on the same conversation at once, then an aggregator.
//! - [`HandoffBuilder`]: agents pass control with generated `handoff_to_<name>` tools, with an
//!   optional human turn when an agent answers without handing off.
//! - [`GroupChatBuilder`]: a manager (round robin, a function or an agent) picks who speaks
//!   next until a termination condition holds.
//! - [`MagenticBuilder`]: a manager agent plans, keeps a progress ledger, delegates each step
//!   and re-plans when the work stalls.

mod concurrent;
mod group_chat;
mod handoff;
mod magentic;
mod sequential;

use std::collections::HashSet;
use std::sync::Arc;

use weft_core::{Agent, Message};

use crate::context::WorkflowContext;
use crate::error::BuildError;
use crate::executor::FnExecutor;
use crate::message::WorkflowMessage;

pub use concurrent::{ConcurrentBuilder, ParticipantResult};
pub use group_chat::{GroupChatBuilder, GroupChatState, SpeakerSelector};
pub use handoff::{HandoffBuilder, HandoffEvent, HandoffUserRequest, handoff_tool_name};
pub use magentic::{
    LedgerEntry, MagenticBuilder, MagenticEvent, MagenticFinish, MagenticPlan, PlanReview, PlanReviewRequest,
    ProgressLedger,
};
pub use sequential::SequentialBuilder;

/// Shared-state key: how many messages the run's input had.
pub(crate) const INPUT_LEN_KEY: &str = "weft.orchestration.input_len";
/// The id of the executor that receives an orchestration's input.
pub(crate) const INPUT_ID: &str = "input";

/// The executor that records the input's length and passes the conversation on.
pub(crate) fn input_executor() -> impl crate::Executor<Input = Vec<Message>, Output = Vec<Message>> {
    FnExecutor::new(INPUT_ID, |conversation: Vec<Message>, ctx: WorkflowContext<Vec<Message>>| async move {
        ctx.set_state(INPUT_LEN_KEY, &conversation.len())?;
        ctx.send_message(conversation);
        Ok(())
    })
}

/// The messages added to the run's input.
pub(crate) fn added_messages<O: WorkflowMessage>(
    ctx: &WorkflowContext<O>,
    conversation: &[Message],
) -> Result<Vec<Message>, serde_json::Error> {
    let input_len: usize = ctx.get_state(INPUT_LEN_KEY)?.unwrap_or(0);
    Ok(conversation.get(input_len..).unwrap_or_default().to_vec())
}

/// Checks that there are participants and that their names are unique executor ids.
pub(crate) fn check_participants(agents: &[Arc<dyn Agent>]) -> Result<(), BuildError> {
    if agents.is_empty() {
        return Err(BuildError::Orchestration { reason: "no participants: add at least one agent".into() });
    }
    let mut seen = HashSet::new();
    for agent in agents {
        if agent.name() == INPUT_ID || !seen.insert(agent.name()) {
            return Err(BuildError::DuplicateExecutor { id: agent.name().to_string() });
        }
    }
    Ok(())
}
