//! Every agent on the same conversation at once, then an aggregator.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use weft_core::{Agent, Message};

use super::{INPUT_ID, check_participants, input_executor};
use crate::agent::AgentExecutor;
use crate::context::WorkflowContext;
use crate::error::BuildError;
use crate::executor::FnExecutor;
use crate::workflow::Workflow;
use crate::{CheckpointStore, WorkflowBuilder};

/// What one participant of a concurrent run added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipantResult {
    /// The agent's name.
    pub agent: String,
    /// The messages it added.
    pub messages: Vec<Message>,
}

type Aggregator = Arc<dyn Fn(Vec<ParticipantResult>) -> Vec<Message> + Send + Sync>;

/// Sends the conversation to every agent at once (fan-out) and joins their answers (fan-in).
/// The default aggregator outputs each agent's last message, in the order the agents were
/// added; [`ConcurrentBuilder::with_aggregator`] replaces it.
#[derive(Default)]
pub struct ConcurrentBuilder {
    agents: Vec<Arc<dyn Agent>>,
    aggregator: Option<Aggregator>,
    store: Option<Arc<dyn CheckpointStore>>,
}

impl std::fmt::Debug for ConcurrentBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConcurrentBuilder")
            .field("agents", &self.agents.iter().map(|a| a.name()).collect::<Vec<_>>())
            .finish()
    }
}

impl ConcurrentBuilder {
    participant_methods!();

    /// No participants yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Joins the participants' results (in the order the agents were added) into the output.
    pub fn with_aggregator(
        mut self,
        aggregate: impl Fn(Vec<ParticipantResult>) -> Vec<Message> + Send + Sync + 'static,
    ) -> Self {
        self.aggregator = Some(Arc::new(aggregate));
        self
    }

    /// Builds the workflow: `input -> [agents] -> aggregator`.
    pub fn build(self) -> Result<Workflow, BuildError> {
        check_participants(&self.agents)?;
        let names: Vec<String> = self.agents.iter().map(|a| a.name().to_string()).collect();
        let aggregate: Aggregator = self.aggregator.unwrap_or_else(|| {
            Arc::new(|results: Vec<ParticipantResult>| {
                results.into_iter().filter_map(|r| r.messages.into_iter().last()).collect()
            })
        });
        let participants = names.clone();
        let aggregator =
            FnExecutor::new("aggregator", move |answers: Vec<Vec<Message>>, ctx: WorkflowContext<()>| {
                let aggregate = aggregate.clone();
                let participants = participants.clone();
                async move {
                    let input_len: usize = ctx.get_state(super::INPUT_LEN_KEY)?.unwrap_or(0);
                    let results = participants
                        .into_iter()
                        .zip(answers)
                        .map(|(agent, conversation)| ParticipantResult {
                            agent,
                            messages: conversation.get(input_len..).unwrap_or_default().to_vec(),
                        })
                        .collect();
                    ctx.yield_output(aggregate(results));
                    Ok(())
                }
            });
        let mut builder = WorkflowBuilder::new().name("concurrent").start_with(input_executor());
        for agent in self.agents {
            builder = builder.add_executor(AgentExecutor::new(agent));
        }
        builder = builder
            .add_executor(aggregator)
            .add_fan_out(INPUT_ID, names.clone())
            .add_fan_in(names, "aggregator");
        if let Some(store) = self.store {
            builder = builder.with_checkpoint_store(store);
        }
        builder.build()
    }
}
