//! Magentic orchestration (after Magentic-One): a manager agent plans, keeps a progress
//! ledger, delegates each step to a participant, and re-plans when the work stalls.

mod manager;
mod prompts;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use weft_core::Agent;

use super::check_participants;
use crate::CheckpointStore;
use crate::error::BuildError;
use crate::workflow::Workflow;
use manager::{MANAGER_ID, Manager};

/// One answer of the progress ledger, with the manager's reason for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry<T> {
    /// Why the manager answers so.
    pub reason: String,
    /// The answer.
    pub answer: T,
}

/// What the manager decides before each step: is the task done, is the team looping or
/// stalled, who acts next and with which instruction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressLedger {
    /// The original request is fully satisfied.
    pub is_request_satisfied: LedgerEntry<bool>,
    /// The team repeats itself without getting anywhere.
    pub is_in_loop: LedgerEntry<bool>,
    /// The last steps brought the task forward.
    pub is_progress_being_made: LedgerEntry<bool>,
    /// The participant who acts next.
    pub next_speaker: LedgerEntry<String>,
    /// The instruction or question for that participant.
    pub instruction_or_question: LedgerEntry<String>,
}

/// The manager's plan: what it knows and how the team will proceed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MagenticPlan {
    /// Facts given, to look up, to derive, and educated guesses.
    pub facts: String,
    /// The steps, each naming the participant expected to take it.
    pub plan: String,
}

/// Why a magentic run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MagenticFinish {
    /// The manager judged the request satisfied.
    Satisfied,
    /// [`MagenticBuilder::max_rounds`] participant turns were taken.
    RoundLimit,
    /// The work stalled after [`MagenticBuilder::max_resets`] re-plans.
    ResetLimit,
}

/// Reported (as [`crate::WorkflowEvent::Custom`] events) as a magentic run proceeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MagenticEvent {
    /// A plan was made (`reset` 0) or remade after a stall (`reset` n: the n-th re-plan).
    Planned {
        /// The plan.
        plan: MagenticPlan,
        /// How many re-plans came before it.
        reset: usize,
    },
    /// The manager filled in the progress ledger.
    Progress {
        /// Participant turns taken so far.
        round: usize,
        /// The ledger.
        ledger: ProgressLedger,
        /// Consecutive stalled steps, after this ledger.
        stalls: usize,
    },
    /// The manager handed a step to a participant.
    Delegated {
        /// The participant.
        to: String,
        /// The instruction it got.
        instruction: String,
    },
    /// The run ends with the manager's final answer.
    Finished {
        /// Why.
        reason: MagenticFinish,
    },
}

/// Asks a human to review the manager's plan before the team starts (see
/// [`MagenticBuilder::with_plan_review`]). Answer it with a [`PlanReview`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanReviewRequest {
    /// The task, as the input stated it.
    pub task: String,
    /// The plan to review.
    pub plan: MagenticPlan,
    /// How many reviews of this run came before (each revision asks again).
    pub revision: usize,
}

/// A human's answer to a [`PlanReviewRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum PlanReview {
    /// Go ahead with the plan.
    Approve,
    /// Remake the plan taking this feedback into account (then ask again).
    Revise {
        /// What to change.
        feedback: String,
    },
}

/// Builds a magentic orchestration. The manager agent first gathers the facts and makes a plan
/// (optionally reviewed by a human); then, before each step, it fills in a
/// [`ProgressLedger`] (structured output) and hands the step to the participant it names,
/// with an instruction that joins the conversation. When the ledger says the request is
/// satisfied the manager writes the final answer. When the team stalls (no progress, or a
/// loop) more than `max_stalls` times in a row, the manager updates its facts and plan and
/// carries on, at most `max_resets` times. Progress is reported as [`MagenticEvent`]s.
///
/// The output (yielded once) is every message added to the input: the manager's plan and
/// instructions, the participants' answers, and last the final answer.
pub struct MagenticBuilder {
    agents: Vec<Arc<dyn Agent>>,
    manager: Option<Arc<dyn Agent>>,
    max_rounds: usize,
    max_stalls: usize,
    max_resets: usize,
    plan_review: bool,
    store: Option<Arc<dyn CheckpointStore>>,
}

impl Default for MagenticBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MagenticBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MagenticBuilder")
            .field("agents", &self.agents.iter().map(|a| a.name()).collect::<Vec<_>>())
            .field("manager", &self.manager.as_ref().map(|m| m.name()))
            .field("max_rounds", &self.max_rounds)
            .field("max_stalls", &self.max_stalls)
            .field("max_resets", &self.max_resets)
            .field("plan_review", &self.plan_review)
            .finish()
    }
}

impl MagenticBuilder {
    participant_methods!();

    /// No participants and no manager yet; at most 20 rounds, 3 stalls in a row, 2 re-plans.
    pub fn new() -> Self {
        Self {
            agents: Vec::new(),
            manager: None,
            max_rounds: 20,
            max_stalls: 3,
            max_resets: 2,
            plan_review: false,
            store: None,
        }
    }

    /// The manager: an agent whose model plans, fills in the progress ledger (it must support
    /// JSON-schema structured output) and writes the final answer.
    pub fn manager(mut self, agent: Arc<dyn Agent>) -> Self {
        self.manager = Some(agent);
        self
    }

    /// The most participant turns (then the manager answers with what the team has).
    pub fn max_rounds(mut self, rounds: usize) -> Self {
        self.max_rounds = rounds;
        self
    }

    /// How many stalled steps in a row the manager tolerates before it re-plans.
    pub fn max_stalls(mut self, stalls: usize) -> Self {
        self.max_stalls = stalls;
        self
    }

    /// How many re-plans the manager may make (then it answers with what the team has).
    pub fn max_resets(mut self, resets: usize) -> Self {
        self.max_resets = resets;
        self
    }

    /// Asks a human to approve (or revise) the first plan with a [`PlanReviewRequest`]; the
    /// run pauses until the answer comes, in this process or after a restart from a checkpoint.
    pub fn with_plan_review(mut self) -> Self {
        self.plan_review = true;
        self
    }

    /// Builds the workflow: the manager, with an edge to and from every participant.
    pub fn build(self) -> Result<Workflow, BuildError> {
        check_participants(&self.agents)?;
        let manager_agent = self.manager.ok_or_else(|| BuildError::Orchestration {
            reason: "a magentic orchestration needs a manager: call MagenticBuilder::manager".into(),
        })?;
        if self.agents.iter().any(|a| a.name() == MANAGER_ID) {
            return Err(BuildError::DuplicateExecutor { id: MANAGER_ID.to_string() });
        }
        let manager = Manager {
            agent: manager_agent,
            participants: self
                .agents
                .iter()
                .map(|a| (a.name().to_string(), a.description().unwrap_or("").to_string()))
                .collect(),
            max_rounds: self.max_rounds,
            max_stalls: self.max_stalls,
            max_resets: self.max_resets,
            plan_review: self.plan_review,
        };
        super::star("magentic", manager, self.agents, self.store)
    }
}
