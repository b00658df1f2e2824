//! The run behind a task, and how what it does is recorded: each change of state in the store
//! first, then told to the streams that follow the task.

use std::sync::Arc;

use futures::StreamExt;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use weft_core::{Agent, AgentSession, ApprovalRequest, ChatOptions, Content};

use super::{Tasks, encode};
use crate::model::{Artifact, Message, Part, Task, TaskEvent, TaskState, TaskStatus, new_id};

/// How a task's state changes when its run ends.
struct Ending {
    status: TaskStatus,
    artifact: Option<Artifact>,
    answer: Option<Message>,
    /// The calls it waits on (state `input-required`).
    pending: Vec<ApprovalRequest>,
}

impl Ending {
    fn failed(reason: impl Into<String>, context_id: &str, task_id: &str) -> Self {
        let status = TaskStatus::now(TaskState::Failed, Some(Message::agent(reason, context_id, task_id)));
        Self { status, artifact: None, answer: None, pending: Vec::new() }
    }
}

impl Tasks {
    /// The lock of `entity`'s context `context_id` (forgetting the locks no one holds).
    fn turn_lock(&self, entity: &str, context_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut turns = self.turns.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        turns.retain(|_, lock| Arc::strong_count(lock) > 1);
        turns.entry((entity.to_string(), context_id.to_string())).or_default().clone()
    }

    /// Runs the agent for one task and records what it does.
    pub(super) async fn run(
        &self,
        agent: Arc<dyn Agent>,
        entity: String,
        input: Vec<weft_core::Message>,
        context_id: String,
        task_id: String,
        cancel: CancellationToken,
    ) {
        let lock = self.turn_lock(&entity, &context_id);
        let _turn = tokio::select! {
            () = cancel.cancelled() => return self.stopped(&context_id, &task_id).await,
            turn = lock.lock_owned() => turn,
        };
        // The run works on a copy: a failed or cancelled turn leaves the conversation as it was.
        let mut session = match self.store.get_task_context(&entity, &context_id).await {
            Ok(session) => session.unwrap_or_else(AgentSession::new),
            Err(error) => {
                tracing::warn!(task = %task_id, "could not read the A2A context's conversation: {error}");
                let reason = "The server could not read the conversation; its log has the details";
                return self.finish(&task_id, Ending::failed(reason, &context_id, &task_id)).await;
            }
        };
        self.set_status(&task_id, TaskStatus::now(TaskState::Working, None)).await;
        let ending = self.turn(&agent, &mut session, input, &context_id, &task_id, &cancel).await;
        let Some(mut ending) = ending else { return self.stopped(&context_id, &task_id).await };
        if ending.status.state != TaskState::Failed
            && let Err(error) = self.store.put_task_context(&entity, &context_id, &session).await
        {
            tracing::warn!(task = %task_id, "could not keep the A2A context's conversation: {error}");
            let reason = format!("The server could not keep the conversation: {error}");
            ending = Ending::failed(reason, &context_id, &task_id);
        }
        self.finish(&task_id, ending).await;
    }

    /// One turn of the agent on `session`: how the task ends, or `None` when it was cancelled.
    async fn turn(
        &self,
        agent: &Arc<dyn Agent>,
        session: &mut AgentSession,
        input: Vec<weft_core::Message>,
        context_id: &str,
        task_id: &str,
        cancel: &CancellationToken,
    ) -> Option<Ending> {
        let artifact_id = new_id();
        let mut text = String::new();
        let mut approvals = Vec::new();
        let deadline = tokio::time::Instant::now() + self.run_timeout;
        let mut updates = agent.run_messages_stream(session, input, ChatOptions::default());
        loop {
            let next = tokio::select! {
                biased;
                () = cancel.cancelled() => return None,
                next = tokio::time::timeout_at(deadline, updates.next()) => next,
            };
            match next {
                Ok(None) => break,
                Ok(Some(Ok(update))) => {
                    for content in update.contents {
                        if let Content::ApprovalRequest(request) = content {
                            approvals.push(request);
                            continue;
                        }
                        if let Content::Text { text: piece } = content {
                            if piece.is_empty() {
                                continue;
                            }
                            let append = !text.is_empty();
                            text.push_str(&piece);
                            let artifact = Artifact {
                                artifact_id: artifact_id.clone(),
                                name: "response".into(),
                                parts: vec![piece],
                            };
                            self.notify(task_id, TaskEvent::Artifact { artifact, append, last_chunk: false });
                        }
                    }
                }
                Ok(Some(Err(error))) => {
                    tracing::warn!(task = %task_id, agent = agent.name(), "A2A run failed: {error}");
                    let reason = "The agent's run failed; the server's log has the details";
                    return Some(Ending::failed(reason, context_id, task_id));
                }
                Err(_) => {
                    let limit = self.run_timeout.as_secs();
                    let reason = format!("The run took longer than the server's limit of {limit} s");
                    return Some(Ending::failed(reason, context_id, task_id));
                }
            }
        }
        if !approvals.is_empty() {
            return Some(waiting(context_id, task_id, approvals));
        }
        let answer = Message::agent(text.clone(), context_id, task_id);
        Some(Ending {
            status: TaskStatus::now(TaskState::Completed, None),
            artifact: Some(Artifact { artifact_id, name: "response".into(), parts: vec![text] }),
            answer: Some(answer),
            pending: Vec::new(),
        })
    }

    /// Records a run stopped by a cancel or a shutdown (a cancel has already set the state).
    async fn stopped(&self, context_id: &str, task_id: &str) {
        let reason = "The server shut down before the run ended";
        self.finish(task_id, Ending::failed(reason, context_id, task_id)).await;
    }

    /// Sets a non-terminal status and tells the followers.
    async fn set_status(&self, task_id: &str, status: TaskStatus) {
        let mut working = |task: &mut Task| {
            if task.status.state.is_terminal() {
                return false;
            }
            task.status = status.clone();
            true
        };
        if self.change(task_id, &[], &mut working).await {
            self.notify(task_id, TaskEvent::Status(status));
        }
    }

    /// Tells the followers of a task something.
    fn notify(&self, task_id: &str, event: TaskEvent) {
        if let Some(live) = self.live().get_mut(task_id) {
            live.subscribers.retain(|s| s.send(event.clone()));
        }
    }

    /// Ends a run: records how its task ends (unless it has ended already, e.g. cancelled),
    /// tells its followers and closes their streams.
    async fn finish(&self, task_id: &str, ending: Ending) {
        let Ending { status, artifact, answer, pending } = ending;
        let mut end = |task: &mut Task| {
            if task.status.state.is_terminal() {
                return false;
            }
            if let Some(artifact) = &artifact {
                task.artifacts.push(artifact.clone());
            }
            if let Some(answer) = &answer {
                task.history.push(answer.clone());
            }
            if let Some(question) = &status.message
                && status.state == TaskState::InputRequired
            {
                task.history.push(question.clone());
            }
            task.status = status.clone();
            true
        };
        let changed = self.change(task_id, &pending, &mut end).await;
        if let Some(live) = self.live().remove(task_id) {
            for subscriber in live.subscribers {
                if changed {
                    let _ = subscriber.send(TaskEvent::Status(status.clone()));
                }
            }
        }
    }

    /// Applies `change` to the task `task_id` in the store, with `pending` as the calls it waits
    /// on, in one atomic step; whether it changed it. A store that fails is logged (the run has
    /// no one to tell).
    async fn change(
        &self,
        task_id: &str,
        pending: &[ApprovalRequest],
        change: &mut (dyn FnMut(&mut Task) -> bool + Send),
    ) -> bool {
        let mut changed = false;
        let outcome = self
            .store
            .update_task(task_id, &mut |stored| {
                let Some(mut task) = Task::parse(&stored.task) else { return false };
                if !change(&mut task) {
                    return false;
                }
                encode(stored, &task, pending);
                changed = true;
                true
            })
            .await;
        if let Err(error) = outcome {
            tracing::warn!(task = %task_id, "could not record the A2A task's state: {error}");
        }
        changed
    }
}

/// How a run that asks for approvals ends: `input-required`, its status message naming the calls
/// that wait (a data part `{"approvalRequests": [{id, name, arguments}]}`).
fn waiting(context_id: &str, task_id: &str, approvals: Vec<ApprovalRequest>) -> Ending {
    let calls: Vec<Value> = approvals
        .iter()
        .map(|r| json!({"id": r.id, "name": r.call.name, "arguments": r.call.arguments}))
        .collect();
    let names: Vec<&str> = approvals.iter().map(|r| r.call.name.as_str()).collect();
    let mut question = Message::agent(
        format!(
            "Approve the call of {}? Answer yes or no (or a data part {{\"approved\": true}}).",
            names.join(", ")
        ),
        context_id,
        task_id,
    );
    question.parts.push(Part::Data(json!({"approvalRequests": calls})));
    Ending {
        status: TaskStatus::now(TaskState::InputRequired, Some(question)),
        artifact: None,
        answer: None,
        pending: approvals,
    }
}
