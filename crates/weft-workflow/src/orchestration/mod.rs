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

/// The builder methods every orchestration shares (its builder has `agents` and `store`
/// fields): adding participants and checkpointing the runs.
macro_rules! participant_methods {
    () => {
        /// Adds a participant (its name is its executor id; its description tells the others,
        /// or the manager, what it is good at).
        pub fn participant(mut self, agent: Arc<dyn Agent>) -> Self {
            self.agents.push(agent);
            self
        }

        /// Adds participants.
        pub fn participants(mut self, agents: impl IntoIterator<Item = Arc<dyn Agent>>) -> Self {
            self.agents.extend(agents);
            self
        }

        /// Checkpoints the runs in `store`.
        pub fn with_checkpoint_store(mut self, store: Arc<dyn CheckpointStore>) -> Self {
            self.store = Some(store);
            self
        }
    };
}

mod concurrent;
mod group_chat;
mod handoff;
mod magentic;
mod sequential;

use std::collections::HashSet;
use std::sync::Arc;

use weft_core::{Agent, Message};

use crate::agent::AgentExecutor;
use crate::context::WorkflowContext;
use crate::error::BuildError;
use crate::executor::Executor;
use crate::executor::FnExecutor;
use crate::message::WorkflowMessage;
use crate::workflow::Workflow;
use crate::{CheckpointStore, WorkflowBuilder};

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

/// A manager with an edge to and from every participant (run as an [`AgentExecutor`]), and
/// the checkpoint store, if any.
pub(crate) fn star<M: Executor<Input = Vec<Message>, Output = Vec<Message>>>(
    name: &str,
    manager: M,
    agents: Vec<Arc<dyn Agent>>,
    store: Option<Arc<dyn CheckpointStore>>,
) -> Result<Workflow, BuildError> {
    let manager_id = manager.id().to_string();
    let mut builder = WorkflowBuilder::new().name(name).start_with(manager);
    for agent in agents {
        let id = agent.name().to_string();
        builder = builder
            .add_executor(AgentExecutor::new(agent))
            .add_edge(manager_id.clone(), id.clone())
            .add_edge(id, manager_id.clone());
    }
    if let Some(store) = store {
        builder = builder.with_checkpoint_store(store);
    }
    builder.build()
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
