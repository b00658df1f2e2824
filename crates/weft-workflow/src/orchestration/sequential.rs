//! Agents one after another.

use std::sync::Arc;

use weft_core::{Agent, Message};

use super::{INPUT_ID, added_messages, check_participants, input_executor};
use crate::agent::AgentExecutor;
use crate::context::WorkflowContext;
use crate::error::BuildError;
use crate::executor::FnExecutor;
use crate::workflow::Workflow;
use crate::{CheckpointStore, WorkflowBuilder};

/// Runs agents one after another; each sees the whole conversation so far (the input and every
/// earlier agent's messages). The output is the messages the agents added.
///
/// ```
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use weft_core::{ChatAgent, Message, ScriptedClient};
/// use weft_workflow::SequentialBuilder;
///
/// let agent = |name: &str| Arc::new(ChatAgent::builder(Arc::new(ScriptedClient::new())).name(name).build());
/// let workflow = SequentialBuilder::new().participant(agent("writer")).participant(agent("editor")).build()?;
/// let result = workflow.run(vec![Message::user("a haiku about rust")]).await?;
/// assert_eq!(result.outputs_as::<Vec<Message>>()[0].len(), 2);
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct SequentialBuilder {
    agents: Vec<Arc<dyn Agent>>,
    store: Option<Arc<dyn CheckpointStore>>,
}

impl std::fmt::Debug for SequentialBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequentialBuilder")
            .field("agents", &self.agents.iter().map(|a| a.name()).collect::<Vec<_>>())
            .finish()
    }
}

impl SequentialBuilder {
    participant_methods!();

    /// No participants yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds the workflow: `input -> agent1 -> … -> agentN -> output`.
    pub fn build(self) -> Result<Workflow, BuildError> {
        check_participants(&self.agents)?;
        let mut builder = WorkflowBuilder::new().name("sequential").start_with(input_executor());
        let mut previous = INPUT_ID.to_string();
        for agent in self.agents {
            let id = agent.name().to_string();
            builder = builder.add_executor(AgentExecutor::new(agent)).add_edge(previous, id.clone());
            previous = id;
        }
        let output =
            FnExecutor::new("output", |conversation: Vec<Message>, ctx: WorkflowContext<()>| async move {
                ctx.yield_output(added_messages(&ctx, &conversation)?);
                Ok(())
            });
        builder = builder.add_executor(output).add_edge(previous, "output");
        if let Some(store) = self.store {
            builder = builder.with_checkpoint_store(store);
        }
        builder.build()
    }
}
