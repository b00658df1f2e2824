//! The tasks of the A2A server and the agent runs behind them. Each run is owned by the server's
//! [`TaskTracker`] and stops when its task is cancelled, passes its deadline or the server shuts
//! down. The agent's session is kept per `contextId` (in memory), so a message that names a
//! context continues its conversation; the turns of one context run one after the other.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use weft_core::{Agent, AgentSession, ApprovalRequest, ChatOptions, Content};

use crate::error::A2aError;
use crate::model::{Artifact, Message, Part, Task, TaskEvent, TaskState, TaskStatus, new_id};

/// The agent session of each (entity, context), each behind its own lock (a context's turns run
/// one after the other).
type Sessions = HashMap<(String, String), Arc<tokio::sync::Mutex<AgentSession>>>;

/// One task with the run behind it.
struct Entry {
    /// The entity (agent name) it was sent to.
    entity: String,
    task: Task,
    /// Cancels the run.
    cancel: CancellationToken,
    /// The open streams that follow it.
    subscribers: Vec<Follower>,
    /// When it was created (its place in `ListTasks`).
    order: u64,
    /// The tool calls waiting for the client's approval (state `input-required`).
    pending: Vec<ApprovalRequest>,
    /// When its state last changed (its retention counts from here).
    updated: tokio::time::Instant,
}

/// One open stream following a task: a bounded channel. A follower that falls
/// `follower_buffer` events behind is dropped (its stream ends with an error saying so); the
/// task goes on.
struct Follower {
    sender: mpsc::Sender<TaskEvent>,
    lagged: Arc<AtomicBool>,
}

impl Follower {
    /// Sends `event`; `false` when the follower is gone or has fallen behind (drop it).
    fn send(&self, event: TaskEvent) -> bool {
        match self.sender.try_send(event) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.lagged.store(true, Ordering::SeqCst);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

/// The receiving end of a [`Follower`].
pub(crate) struct Follow {
    /// The task's events; the channel closes when the task's stream ends.
    pub(crate) events: mpsc::Receiver<TaskEvent>,
    /// Set when the follower fell behind and was dropped.
    pub(crate) lagged: Arc<AtomicBool>,
}

/// What [`Tasks::list`] selects.
#[derive(Debug, Default)]
pub(crate) struct ListQuery {
    pub(crate) context_id: Option<String>,
    pub(crate) state: Option<TaskState>,
    pub(crate) page_size: usize,
    pub(crate) offset: usize,
}

/// The tasks and the sessions of their contexts.
pub(crate) struct Tasks {
    entries: Mutex<HashMap<String, Entry>>,
    /// The agent session of each (entity, context).
    sessions: Mutex<Sessions>,
    tracker: TaskTracker,
    /// Cancelled when the server shuts down: every run stops.
    shutdown: CancellationToken,
    run_timeout: Duration,
    max_tasks: usize,
    /// How long an ended or waiting task is kept.
    task_ttl: Duration,
    /// How many events a follower may fall behind.
    follower_buffer: usize,
    /// The permits of the runs going on.
    runs: Arc<tokio::sync::Semaphore>,
    counter: std::sync::atomic::AtomicU64,
}

impl Tasks {
    pub(crate) fn new(tracker: TaskTracker, shutdown: CancellationToken, config: &crate::A2aConfig) -> Self {
        Self {
            entries: Mutex::default(),
            sessions: Mutex::default(),
            tracker,
            shutdown,
            run_timeout: config.run_timeout,
            max_tasks: config.max_tasks.max(1),
            task_ttl: config.task_ttl,
            follower_buffer: config.follower_buffer.max(1),
            runs: Arc::new(tokio::sync::Semaphore::new(config.max_concurrent_runs.max(1))),
            counter: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// A new follower and its receiving end.
    fn follower(&self) -> (Follower, Follow) {
        let (sender, events) = mpsc::channel(self.follower_buffer);
        let lagged = Arc::new(AtomicBool::new(false));
        (Follower { sender, lagged: lagged.clone() }, Follow { events, lagged })
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves plain data behind: keep serving it.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts a task for `message` sent to `agent` (served as `entity`); returns the task as
    /// submitted and, when `follow` is set, a receiver of its events.
    pub(crate) fn start(
        self: &Arc<Self>,
        entity: &str,
        agent: Arc<dyn Agent>,
        mut message: Message,
        follow: bool,
    ) -> Result<(Task, Option<Follow>), A2aError> {
        if let Some(task_id) = message.task_id.clone() {
            return self.resume(entity, agent, message, &task_id, follow);
        }
        if self.shutdown.is_cancelled() {
            return Err(A2aError::Internal("the server is shutting down".into()));
        }
        let permit = self.runs.clone().try_acquire_owned().map_err(|_| A2aError::Busy)?;
        let context_id = message.context_id.clone().unwrap_or_else(new_id);
        let task_id = new_id();
        message.context_id = Some(context_id.clone());
        message.task_id = Some(task_id.clone());
        let task = Task {
            id: task_id.clone(),
            context_id: context_id.clone(),
            status: TaskStatus::now(TaskState::Submitted, None),
            artifacts: Vec::new(),
            history: vec![message.clone()],
        };
        let cancel = self.shutdown.child_token();
        let (sender, receiver) = if follow {
            let (sender, receiver) = self.follower();
            (vec![sender], Some(receiver))
        } else {
            (Vec::new(), None)
        };
        let order = self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.entries().insert(
            task_id.clone(),
            Entry {
                entity: entity.into(),
                task: task.clone(),
                updated: tokio::time::Instant::now(),
                cancel: cancel.clone(),
                subscribers: sender,
                order,
                pending: Vec::new(),
            },
        );
        self.forget_oldest();
        let session = self.session(entity, &context_id);
        let input = vec![weft_core::Message::user(message.text())];
        let tasks = Arc::clone(self);
        self.tracker.spawn(async move {
            let _permit = permit;
            tasks.run(agent, session, input, context_id, task_id, cancel).await;
        });
        Ok((task, receiver))
    }

    /// Forgets the tasks that ended, or wait for input, since longer than the TTL, then the
    /// oldest of those past `max_tasks` (ended ones first), and the sessions of the contexts
    /// they leave without a task. Running tasks are never forgotten.
    fn forget_oldest(&self) {
        let mut entries = self.entries();
        let settled = |e: &Entry| e.task.status.state.ends_stream();
        let expired: Vec<String> = entries
            .iter()
            .filter(|(_, e)| settled(e) && e.updated.elapsed() > self.task_ttl)
            .map(|(id, _)| id.clone())
            .collect();
        let excess = entries.len().saturating_sub(expired.len()).saturating_sub(self.max_tasks);
        let mut candidates: Vec<(bool, u64, String)> = entries
            .iter()
            .filter(|(id, e)| settled(e) && !expired.contains(id))
            .map(|(id, e)| (!e.task.status.state.is_terminal(), e.order, id.clone()))
            .collect();
        candidates.sort_unstable();
        let forget = expired.into_iter().chain(candidates.into_iter().take(excess).map(|(_, _, id)| id));
        let mut contexts = Vec::new();
        for id in forget {
            if let Some(entry) = entries.remove(&id) {
                entry.cancel.cancel();
                contexts.push((entry.entity, entry.task.context_id));
            }
        }
        contexts.retain(|(entity, context)| {
            !entries.values().any(|e| e.entity == *entity && e.task.context_id == *context)
        });
        drop(entries);
        let mut sessions = self.sessions.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for context in contexts {
            sessions.remove(&context);
        }
    }

    /// The session of `entity`'s context `context_id`.
    fn session(&self, entity: &str, context_id: &str) -> Arc<tokio::sync::Mutex<AgentSession>> {
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry((entity.to_string(), context_id.to_string()))
            .or_default()
            .clone()
    }

    /// Goes on with a task waiting for approvals: `message` answers them (a data part
    /// `{"approved": true|false}`, or the text `yes` / `no`), and the agent runs on.
    fn resume(
        self: &Arc<Self>,
        entity: &str,
        agent: Arc<dyn Agent>,
        mut message: Message,
        task_id: &str,
        follow: bool,
    ) -> Result<(Task, Option<Follow>), A2aError> {
        self.forget_oldest();
        let mut entries = self.entries();
        let entry = entries
            .get_mut(task_id)
            .filter(|e| e.entity == entity)
            .ok_or_else(|| A2aError::TaskNotFound(task_id.into()))?;
        if entry.task.status.state != TaskState::InputRequired {
            return Err(A2aError::UnsupportedOperation(format!(
                "task {task_id} is {} and takes no more messages; send a new message with its contextId to \
                 continue the conversation",
                entry.task.status.state.name(crate::model::Version::V03)
            )));
        }
        let approved = approval(&message).ok_or_else(|| {
            A2aError::InvalidParams(
                "the task waits for an approval: answer with a data part {\"approved\": true} (or false), or the \
                 text yes or no"
                    .into(),
            )
        })?;
        if message.context_id.as_ref().is_some_and(|c| *c != entry.task.context_id) {
            return Err(A2aError::InvalidParams("the message's contextId is not its task's".into()));
        }
        let permit = self.runs.clone().try_acquire_owned().map_err(|_| A2aError::Busy)?;
        message.context_id = Some(entry.task.context_id.clone());
        let input: Vec<weft_core::Message> =
            entry.pending.drain(..).map(|r| if approved { r.approve() } else { r.reject() }).collect();
        entry.task.history.push(message);
        entry.updated = tokio::time::Instant::now();
        entry.task.status = TaskStatus::now(TaskState::Submitted, None);
        let receiver = follow.then(|| {
            let (sender, receiver) = self.follower();
            entry.subscribers.push(sender);
            receiver
        });
        let task = entry.task.clone();
        let cancel = entry.cancel.clone();
        drop(entries);
        let session = self.session(entity, &task.context_id);
        let (context_id, id) = (task.context_id.clone(), task.id.clone());
        let tasks = Arc::clone(self);
        self.tracker.spawn(async move {
            let _permit = permit;
            tasks.run(agent, session, input, context_id, id, cancel).await;
        });
        Ok((task, receiver))
    }

    /// Runs the agent for one task and records what it does.
    async fn run(
        &self,
        agent: Arc<dyn Agent>,
        session: Arc<tokio::sync::Mutex<AgentSession>>,
        input: Vec<weft_core::Message>,
        context_id: String,
        task_id: String,
        cancel: CancellationToken,
    ) {
        let mut session = tokio::select! {
            () = cancel.cancelled() => return self.stopped(&task_id),
            session = session.lock_owned() => session,
        };
        self.set_status(&task_id, TaskStatus::now(TaskState::Working, None));
        let artifact_id = new_id();
        let mut text = String::new();
        let mut approvals = Vec::new();
        let deadline = tokio::time::Instant::now() + self.run_timeout;
        // The run works on a copy: a failed or cancelled turn leaves the conversation as it was.
        let mut turn = session.clone();
        let outcome = {
            let mut updates = agent.run_messages_stream(&mut turn, input, ChatOptions::default());
            loop {
                let next = tokio::select! {
                    biased;
                    () = cancel.cancelled() => break None,
                    next = tokio::time::timeout_at(deadline, updates.next()) => next,
                };
                match next {
                    Ok(None) => break Some(Ok(())),
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
                                self.notify(
                                    &task_id,
                                    TaskEvent::Artifact { artifact, append, last_chunk: false },
                                );
                            }
                        }
                    }
                    Ok(Some(Err(error))) => {
                        tracing::warn!(task = %task_id, agent = agent.name(), "A2A run failed: {error}");
                        break Some(Err(
                            "The agent's run failed; the server's log has the details".to_string()
                        ));
                    }
                    Err(_) => {
                        let limit = self.run_timeout.as_secs();
                        break Some(Err(format!("The run took longer than the server's limit of {limit} s")));
                    }
                }
            }
        };
        match outcome {
            None => self.stopped(&task_id),
            Some(Ok(())) if !approvals.is_empty() => {
                *session = turn;
                self.wait_for_approval(&task_id, &context_id, approvals);
            }
            Some(Ok(())) => {
                *session = turn;
                let answer = Message::agent(text.clone(), &context_id, &task_id);
                let artifact = Artifact { artifact_id, name: "response".into(), parts: vec![text] };
                self.finish(
                    &task_id,
                    TaskStatus::now(TaskState::Completed, None),
                    Some(artifact),
                    Some(answer),
                );
            }
            Some(Err(reason)) => {
                let status =
                    TaskStatus::now(TaskState::Failed, Some(Message::agent(reason, &context_id, &task_id)));
                self.finish(&task_id, status, None, None);
            }
        }
    }

    /// Sets a task whose run ended asking for approvals `input-required`: its status message says
    /// which calls wait (a data part `{"approvalRequests": [{id, name, arguments}]}`), and its
    /// streams end.
    fn wait_for_approval(&self, task_id: &str, context_id: &str, approvals: Vec<ApprovalRequest>) {
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
        let mut entries = self.entries();
        let Some(entry) = entries.get_mut(task_id) else { return };
        if entry.task.status.state.is_terminal() {
            entry.subscribers.clear();
            return;
        }
        entry.pending = approvals;
        entry.task.history.push(question.clone());
        let status = TaskStatus::now(TaskState::InputRequired, Some(question));
        entry.updated = tokio::time::Instant::now();
        entry.task.status = status.clone();
        for subscriber in entry.subscribers.drain(..) {
            let _ = subscriber.send(TaskEvent::Status(status.clone()));
        }
    }

    /// Records a run stopped by a cancel or a shutdown (a cancel has already set the state).
    fn stopped(&self, task_id: &str) {
        let context_id = self.entries().get(task_id).map(|e| e.task.context_id.clone()).unwrap_or_default();
        let reason = Message::agent("The server shut down before the run ended", &context_id, task_id);
        self.finish(task_id, TaskStatus::now(TaskState::Failed, Some(reason)), None, None);
    }

    /// Sets a non-terminal status and tells the followers.
    fn set_status(&self, task_id: &str, status: TaskStatus) {
        let mut entries = self.entries();
        if let Some(entry) = entries.get_mut(task_id).filter(|e| !e.task.status.state.is_terminal()) {
            entry.updated = tokio::time::Instant::now();
            entry.task.status = status.clone();
            entry.subscribers.retain(|s| s.send(TaskEvent::Status(status.clone())));
        }
    }

    /// Tells the followers of a task something.
    fn notify(&self, task_id: &str, event: TaskEvent) {
        if let Some(entry) = self.entries().get_mut(task_id) {
            entry.subscribers.retain(|s| s.send(event.clone()));
        }
    }

    /// Ends a task (unless it has ended already, e.g. cancelled), tells its followers and closes
    /// their streams.
    fn finish(&self, task_id: &str, status: TaskStatus, artifact: Option<Artifact>, answer: Option<Message>) {
        let mut entries = self.entries();
        let Some(entry) = entries.get_mut(task_id) else { return };
        if entry.task.status.state.is_terminal() {
            entry.subscribers.clear();
            return;
        }
        if let Some(artifact) = artifact {
            entry.task.artifacts.push(artifact);
        }
        if let Some(answer) = answer {
            entry.task.history.push(answer);
        }
        entry.updated = tokio::time::Instant::now();
        entry.task.status = status.clone();
        for subscriber in entry.subscribers.drain(..) {
            let _ = subscriber.send(TaskEvent::Status(status.clone()));
        }
    }

    /// The task `task_id` of `entity`.
    pub(crate) fn get(&self, entity: &str, task_id: &str) -> Result<Task, A2aError> {
        self.forget_oldest();
        self.entries()
            .get(task_id)
            .filter(|e| e.entity == entity)
            .map(|e| e.task.clone())
            .ok_or_else(|| A2aError::TaskNotFound(task_id.into()))
    }

    /// The task `task_id` of `entity` and a receiver of its next events, while it is not ended.
    pub(crate) fn subscribe(&self, entity: &str, task_id: &str) -> Result<(Task, Follow), A2aError> {
        let mut entries = self.entries();
        let entry = entries
            .get_mut(task_id)
            .filter(|e| e.entity == entity)
            .ok_or_else(|| A2aError::TaskNotFound(task_id.into()))?;
        if entry.task.status.state.ends_stream() {
            return Err(A2aError::UnsupportedOperation(format!(
                "task {task_id} is {}: there is nothing to follow",
                entry.task.status.state.name(crate::model::Version::V03)
            )));
        }
        let (sender, receiver) = self.follower();
        entry.subscribers.push(sender);
        Ok((entry.task.clone(), receiver))
    }

    /// Cancels the task `task_id` of `entity`: its run stops and it ends `canceled`.
    pub(crate) fn cancel(&self, entity: &str, task_id: &str) -> Result<Task, A2aError> {
        let mut entries = self.entries();
        let entry = entries
            .get_mut(task_id)
            .filter(|e| e.entity == entity)
            .ok_or_else(|| A2aError::TaskNotFound(task_id.into()))?;
        let state = entry.task.status.state;
        if state.is_terminal() {
            return Err(A2aError::TaskNotCancelable { id: task_id.into(), state });
        }
        entry.cancel.cancel();
        let status = TaskStatus::now(TaskState::Canceled, None);
        entry.updated = tokio::time::Instant::now();
        entry.task.status = status.clone();
        for subscriber in entry.subscribers.drain(..) {
            let _ = subscriber.send(TaskEvent::Status(status.clone()));
        }
        Ok(entry.task.clone())
    }

    /// The tasks of `entity` that `query` selects, newest first, and how many there are in all.
    pub(crate) fn list(&self, entity: &str, query: &ListQuery) -> (Vec<Task>, usize) {
        let entries = self.entries();
        let mut selected: Vec<&Entry> = entries
            .values()
            .filter(|e| e.entity == entity)
            .filter(|e| query.context_id.as_ref().is_none_or(|c| *c == e.task.context_id))
            .filter(|e| query.state.is_none_or(|s| s == e.task.status.state))
            .collect();
        selected.sort_by_key(|e| std::cmp::Reverse(e.order));
        let total = selected.len();
        let page =
            selected.into_iter().skip(query.offset).take(query.page_size).map(|e| e.task.clone()).collect();
        (page, total)
    }
}

/// The client's answer to an approval: a data part with `approved`, or a yes/no text.
fn approval(message: &Message) -> Option<bool> {
    if let Some(approved) = message.data().find_map(|d| d.get("approved").and_then(Value::as_bool)) {
        return Some(approved);
    }
    let text = message.text().trim().trim_end_matches(['.', '!']).to_lowercase();
    match text.as_str() {
        "yes" | "y" | "approve" | "approved" | "ok" => Some(true),
        "no" | "n" | "reject" | "rejected" | "deny" => Some(false),
        _ => None,
    }
}
