//! The magentic manager: an executor that plans, keeps the ledgers and delegates.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use weft_core::{Agent, AgentSession, ChatOptions, Message, ResponseFormat};

use super::{
    MagenticEvent, MagenticFinish, MagenticPlan, PlanReview, PlanReviewRequest, ProgressLedger, prompts,
};
use crate::context::WorkflowContext;
use crate::error::BoxError;
use crate::executor::Executor;
use crate::message::AnyMessage;
use crate::orchestration::{INPUT_LEN_KEY, added_messages};
use crate::request::PendingRequest;

/// The executor id of the manager (and the author of its messages).
pub(super) const MANAGER_ID: &str = "magentic_manager";
/// Shared-state key of the run's [`RunState`].
const STATE_KEY: &str = "weft.magentic.state";
/// Shared-state key of the conversation waiting for a plan review.
const REVIEW_CONVERSATION_KEY: &str = "weft.magentic.review_conversation";

/// Where a run stands; kept in shared state so checkpoints hold it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunState {
    task: String,
    plan: MagenticPlan,
    round: usize,
    stalls: usize,
    resets: usize,
    reviews: usize,
}

pub(super) struct Manager {
    pub(super) agent: Arc<dyn Agent>,
    /// Names and descriptions, in the order they were added.
    pub(super) participants: Vec<(String, String)>,
    pub(super) max_rounds: usize,
    pub(super) max_stalls: usize,
    pub(super) max_resets: usize,
    pub(super) plan_review: bool,
}

/// The task as the input states it: the text of its messages.
fn task_text(conversation: &[Message]) -> String {
    conversation.iter().map(Message::text).filter(|t| !t.is_empty()).collect::<Vec<_>>().join("\n")
}

fn from_manager(text: String) -> Message {
    Message::user(text).with_author(MANAGER_ID)
}

impl Manager {
    fn team(&self) -> String {
        prompts::roster(&self.participants)
    }

    fn names(&self) -> Vec<String> {
        self.participants.iter().map(|(name, _)| name.clone()).collect()
    }

    /// One model call of the manager: the conversation, then `prompt`.
    async fn ask(
        &self,
        mut messages: Vec<Message>,
        prompt: String,
        options: ChatOptions,
    ) -> Result<String, BoxError> {
        messages.push(Message::user(prompt));
        let response = self.agent.run_messages(&mut AgentSession::new(), messages, options).await?;
        Ok(response.text())
    }

    /// Facts, then a plan (taking a reviewer's feedback into account, when there is some).
    async fn make_plan(
        &self,
        conversation: &[Message],
        task: &str,
        feedback: Option<&str>,
    ) -> Result<MagenticPlan, BoxError> {
        let facts_prompt = prompts::facts(task);
        let facts = self.ask(conversation.to_vec(), facts_prompt.clone(), ChatOptions::default()).await?;
        let mut messages = conversation.to_vec();
        messages.extend([Message::user(facts_prompt), Message::assistant(facts.clone())]);
        let mut plan_prompt = prompts::plan(&self.team());
        if let Some(feedback) = feedback {
            plan_prompt
                .push_str(&format!("\n\nA reviewer asked for changes to the previous plan:\n{feedback}"));
        }
        let plan = self.ask(messages, plan_prompt, ChatOptions::default()).await?;
        Ok(MagenticPlan { facts, plan })
    }

    /// Updated facts and a new plan, after the team stalled.
    async fn remake_plan(
        &self,
        conversation: &[Message],
        state: &RunState,
    ) -> Result<MagenticPlan, BoxError> {
        let facts_prompt = prompts::update_facts(&state.task, &state.plan.facts);
        let facts = self.ask(conversation.to_vec(), facts_prompt.clone(), ChatOptions::default()).await?;
        let mut messages = conversation.to_vec();
        messages.extend([Message::user(facts_prompt), Message::assistant(facts.clone())]);
        let plan = self.ask(messages, prompts::update_plan(&self.team()), ChatOptions::default()).await?;
        Ok(MagenticPlan { facts, plan })
    }

    async fn progress_ledger(
        &self,
        conversation: &[Message],
        task: &str,
    ) -> Result<ProgressLedger, BoxError> {
        let names = self.names();
        let options = ChatOptions {
            response_format: Some(ResponseFormat::JsonSchema {
                name: "progress_ledger".into(),
                schema: prompts::progress_schema(&names),
                strict: true,
            }),
            ..Default::default()
        };
        let text =
            self.ask(conversation.to_vec(), prompts::progress(task, &self.team(), &names), options).await?;
        Ok(weft_core::agent::parse_structured(self.agent.name(), &text)?)
    }

    fn ledger_message(&self, state: &RunState) -> Message {
        from_manager(prompts::task_ledger(&state.task, &self.team(), &state.plan.facts, &state.plan.plan))
    }

    /// Asks for a plan review, keeping the conversation for the answer.
    fn request_review(
        &self,
        conversation: Vec<Message>,
        state: &RunState,
        ctx: &WorkflowContext<Vec<Message>>,
    ) -> Result<(), BoxError> {
        ctx.set_state(REVIEW_CONVERSATION_KEY, &conversation)?;
        ctx.set_state(STATE_KEY, state)?;
        ctx.request_info::<PlanReviewRequest, PlanReview>(PlanReviewRequest {
            task: state.task.clone(),
            plan: state.plan.clone(),
            revision: state.reviews,
        })?;
        Ok(())
    }

    /// Fills in the ledger and delegates one step, re-plans, or finishes.
    async fn step(
        &self,
        mut conversation: Vec<Message>,
        mut state: RunState,
        ctx: &WorkflowContext<Vec<Message>>,
    ) -> Result<(), BoxError> {
        loop {
            if state.round >= self.max_rounds {
                return self.finish(conversation, &state, MagenticFinish::RoundLimit, ctx).await;
            }
            let ledger = self.progress_ledger(&conversation, &state.task).await?;
            let stalled = !ledger.is_progress_being_made.answer || ledger.is_in_loop.answer;
            state.stalls = if stalled { state.stalls + 1 } else { state.stalls.saturating_sub(1) };
            ctx.add_event(MagenticEvent::Progress {
                round: state.round,
                ledger: ledger.clone(),
                stalls: state.stalls,
            });
            if ledger.is_request_satisfied.answer {
                return self.finish(conversation, &state, MagenticFinish::Satisfied, ctx).await;
            }
            if state.stalls > self.max_stalls {
                if state.resets >= self.max_resets {
                    return self.finish(conversation, &state, MagenticFinish::ResetLimit, ctx).await;
                }
                state.resets += 1;
                state.stalls = 0;
                state.plan = self.remake_plan(&conversation, &state).await?;
                ctx.add_event(MagenticEvent::Planned { plan: state.plan.clone(), reset: state.resets });
                conversation.push(self.ledger_message(&state));
                continue;
            }
            let next = ledger.next_speaker.answer;
            if !self.participants.iter().any(|(name, _)| *name == next) {
                return Err(format!("the manager picked '{next}', who is not a participant").into());
            }
            let instruction = ledger.instruction_or_question.answer;
            state.round += 1;
            conversation.push(from_manager(instruction.clone()));
            ctx.add_event(MagenticEvent::Delegated { to: next.clone(), instruction });
            ctx.set_state(STATE_KEY, &state)?;
            ctx.send_message_to(next, conversation);
            return Ok(());
        }
    }

    async fn finish(
        &self,
        mut conversation: Vec<Message>,
        state: &RunState,
        reason: MagenticFinish,
        ctx: &WorkflowContext<Vec<Message>>,
    ) -> Result<(), BoxError> {
        let answer = self
            .ask(conversation.clone(), prompts::final_answer(&state.task), ChatOptions::default())
            .await?;
        conversation.push(Message::assistant(answer).with_author(MANAGER_ID));
        ctx.add_event(MagenticEvent::Finished { reason });
        ctx.set_state(STATE_KEY, state)?;
        ctx.yield_output(added_messages(ctx, &conversation)?);
        Ok(())
    }
}

#[async_trait]
impl Executor for Manager {
    type Input = Vec<Message>;
    type Output = Vec<Message>;

    fn id(&self) -> &str {
        MANAGER_ID
    }

    async fn handle(
        &self,
        mut conversation: Vec<Message>,
        ctx: &WorkflowContext<Vec<Message>>,
    ) -> Result<(), BoxError> {
        if let Some(state) = ctx.get_state::<RunState>(STATE_KEY)? {
            // A participant answered.
            return self.step(conversation, state, ctx).await;
        }
        // The run's input: make the plan.
        ctx.set_state(INPUT_LEN_KEY, &conversation.len())?;
        let task = task_text(&conversation);
        let plan = self.make_plan(&conversation, &task, None).await?;
        ctx.add_event(MagenticEvent::Planned { plan: plan.clone(), reset: 0 });
        let state = RunState { task, plan, round: 0, stalls: 0, resets: 0, reviews: 0 };
        if self.plan_review {
            return self.request_review(conversation, &state, ctx);
        }
        conversation.push(self.ledger_message(&state));
        self.step(conversation, state, ctx).await
    }

    async fn handle_response(
        &self,
        request: PendingRequest,
        response: AnyMessage,
        ctx: &WorkflowContext<Vec<Message>>,
    ) -> Result<(), BoxError> {
        let review = response.take::<PlanReview>().map_err(|m| {
            format!(
                "the magentic manager waits for a plan review: answer request '{}' with a \
                     PlanReview (Approve or Revise {{ feedback }}), not a {}",
                request.request_id,
                m.type_name()
            )
        })?;
        let mut state: RunState =
            ctx.get_state(STATE_KEY)?.ok_or("a plan review answered, but the run has no plan")?;
        let mut conversation: Vec<Message> = ctx
            .get_state(REVIEW_CONVERSATION_KEY)?
            .ok_or("a plan review answered, but no conversation waits for it")?;
        ctx.remove_state(REVIEW_CONVERSATION_KEY);
        state.reviews += 1;
        match review {
            PlanReview::Approve => {
                conversation.push(self.ledger_message(&state));
                self.step(conversation, state, ctx).await
            }
            PlanReview::Revise { feedback } => {
                state.plan = self.make_plan(&conversation, &state.task, Some(&feedback)).await?;
                ctx.add_event(MagenticEvent::Planned { plan: state.plan.clone(), reset: state.resets });
                self.request_review(conversation, &state, ctx)
            }
        }
    }
}
