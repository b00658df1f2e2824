//! The tasks of the A2A server and the agent runs behind them.
//!
//! A task lives in the server's [`SessionStore`] (in memory, or a SQLite file that survives a
//! restart), with the conversation of its context: a message that names a context continues its
//! conversation, and the turns of one context run one after the other. What only this process
//! holds stays here, in memory: the runs going on (each owned by the server's [`TaskTracker`],
//! stopped when its task is cancelled, passes its deadline or the server shuts down) and the
//! streams that follow them. A task the store says is running but no run of this server holds
//! (its server stopped without recording the end) is recorded `failed` when it is next read.

mod run;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use weft_core::{Agent, ApprovalRequest};
use weft_host::store::{SessionStore, StoreError, StoredTask, TaskPhase, TaskQuery, TaskRetention};

use crate::error::A2aError;
use crate::model::{Message, Task, TaskEvent, TaskState, TaskStatus, Version, new_id};

/// The run of a task going on in this process.
struct Live {
    /// The entity (agent name) it was sent to.
    entity: String,
    /// Cancels the run.
    cancel: CancellationToken,
    /// The open streams that follow it.
    subscribers: Vec<Follower>,
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

/// The lock of each (entity, context): its turns run one after the other.
type Turns = HashMap<(String, String), Arc<tokio::sync::Mutex<()>>>;

/// The tasks: in the store, and the runs going on here.
pub(crate) struct Tasks {
    store: Arc<dyn SessionStore>,
    /// The runs going on, by task id.
    live: Mutex<HashMap<String, Live>>,
    turns: Mutex<Turns>,
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
}

/// Now, in Unix milliseconds.
fn now_ms() -> u64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

/// What the client is told when the store fails (the details go to the log).
fn store_error(error: StoreError) -> A2aError {
    match error {
        StoreError::TooLarge { .. } | StoreError::Full { .. } => A2aError::InvalidParams(error.to_string()),
        StoreError::Backend(_) => {
            tracing::warn!("the A2A task store failed: {error}");
            A2aError::Internal("the server's task store failed; the server's log has the details".into())
        }
    }
}

/// The task kept in `stored`.
fn decode(stored: &StoredTask) -> Result<Task, A2aError> {
    Task::parse(&stored.task)
        .ok_or_else(|| A2aError::Internal(format!("the stored task {} is not an A2A task", stored.id)))
}

/// Writes `task` (and what it waits on) into `stored`.
fn encode(stored: &mut StoredTask, task: &Task, pending: &[ApprovalRequest]) {
    let state = task.status.state;
    stored.state = state.name(Version::V1).to_string();
    stored.phase = match state {
        TaskState::Submitted | TaskState::Working => TaskPhase::Running,
        TaskState::InputRequired => TaskPhase::Waiting,
        TaskState::Completed | TaskState::Failed | TaskState::Canceled => TaskPhase::Ended,
    };
    stored.task = task.to_json(Version::V1, None, true);
    stored.pending = if pending.is_empty() { Value::Null } else { serde_json::json!(pending) };
    stored.updated_at_ms = now_ms();
}

impl Tasks {
    pub(crate) fn new(
        store: Arc<dyn SessionStore>,
        tracker: TaskTracker,
        shutdown: CancellationToken,
        config: &crate::A2aConfig,
    ) -> Self {
        Self {
            store,
            live: Mutex::default(),
            turns: Mutex::default(),
            tracker,
            shutdown,
            run_timeout: config.run_timeout,
            max_tasks: config.max_tasks.max(1),
            task_ttl: config.task_ttl,
            follower_buffer: config.follower_buffer.max(1),
            runs: Arc::new(tokio::sync::Semaphore::new(config.max_concurrent_runs.max(1))),
        }
    }

    /// A new follower and its receiving end.
    fn follower(&self) -> (Follower, Follow) {
        let (sender, events) = mpsc::channel(self.follower_buffer);
        let lagged = Arc::new(AtomicBool::new(false));
        (Follower { sender, lagged: lagged.clone() }, Follow { events, lagged })
    }

    fn live(&self) -> MutexGuard<'_, HashMap<String, Live>> {
        // A panic while holding the lock leaves plain data behind: keep serving it.
        self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What the store keeps: `max_tasks`, and settled tasks for `task_ttl`.
    fn retention(&self) -> TaskRetention {
        let ttl = u64::try_from(self.task_ttl.as_millis()).unwrap_or(u64::MAX);
        TaskRetention { max_tasks: self.max_tasks, expire_before_ms: now_ms().saturating_sub(ttl) }
    }

    /// Forgets the tasks past their retention.
    async fn forget(&self) -> Result<(), A2aError> {
        self.store.forget_tasks(&self.retention()).await.map_err(store_error)
    }

    /// A live run for `task_id`, followed when `follow` is set.
    fn go_live(&self, entity: &str, task_id: &str, follow: bool) -> (CancellationToken, Option<Follow>) {
        let cancel = self.shutdown.child_token();
        let (subscribers, receiver) = if follow {
            let (sender, receiver) = self.follower();
            (vec![sender], Some(receiver))
        } else {
            (Vec::new(), None)
        };
        let live = Live { entity: entity.into(), cancel: cancel.clone(), subscribers };
        self.live().insert(task_id.into(), live);
        (cancel, receiver)
    }

    /// Starts a task for `message` sent to `agent` (served as `entity`); returns the task as
    /// submitted and, when `follow` is set, a receiver of its events.
    pub(crate) async fn start(
        self: &Arc<Self>,
        entity: &str,
        agent: Arc<dyn Agent>,
        mut message: Message,
        follow: bool,
    ) -> Result<(Task, Option<Follow>), A2aError> {
        if let Some(task_id) = message.task_id.clone() {
            return self.resume(entity, agent, message, &task_id, follow).await;
        }
        if self.shutdown.is_cancelled() {
            return Err(A2aError::Internal("the server is shutting down".into()));
        }
        let permit = self.runs.clone().try_acquire_owned().map_err(|_| A2aError::Busy)?;
        let context_id = message.context_id.clone().unwrap_or_else(new_id);
        let task_id = new_id();
        message.context_id = Some(context_id.clone());
        message.task_id = Some(task_id.clone());
        let input = vec![weft_core::Message::user(message.text())];
        let task = Task {
            id: task_id.clone(),
            context_id: context_id.clone(),
            status: TaskStatus::now(TaskState::Submitted, None),
            artifacts: Vec::new(),
            history: vec![message],
        };
        let mut stored = StoredTask {
            id: task_id.clone(),
            agent: entity.into(),
            context_id: context_id.clone(),
            state: String::new(),
            phase: TaskPhase::Running,
            task: Value::Null,
            pending: Value::Null,
            updated_at_ms: 0,
        };
        encode(&mut stored, &task, &[]);
        // Live before stored: a running task in the store always has its run here.
        let (cancel, receiver) = self.go_live(entity, &task_id, follow);
        if let Err(error) = self.store.create_task(stored, &self.retention()).await {
            self.live().remove(&task_id);
            return Err(store_error(error));
        }
        let tasks = Arc::clone(self);
        let entity = entity.to_string();
        self.tracker.spawn(async move {
            let _permit = permit;
            tasks.run(agent, entity, input, context_id, task_id, cancel).await;
        });
        Ok((task, receiver))
    }

    /// Goes on with a task waiting for approvals: `message` answers them (a data part
    /// `{"approved": true|false}`, or the text `yes` / `no`), and the agent runs on. The task
    /// may have been left waiting by an earlier run of the server: it is read from the store.
    async fn resume(
        self: &Arc<Self>,
        entity: &str,
        agent: Arc<dyn Agent>,
        mut message: Message,
        task_id: &str,
        follow: bool,
    ) -> Result<(Task, Option<Follow>), A2aError> {
        let task = self.get(entity, task_id).await?;
        if task.status.state != TaskState::InputRequired {
            return Err(not_waiting(task_id, task.status.state));
        }
        let approved = approval(&message).ok_or_else(|| {
            A2aError::InvalidParams(
                "the task waits for an approval: answer with a data part {\"approved\": true} (or false), or the \
                 text yes or no"
                    .into(),
            )
        })?;
        if message.context_id.as_ref().is_some_and(|c| *c != task.context_id) {
            return Err(A2aError::InvalidParams("the message's contextId is not its task's".into()));
        }
        if self.shutdown.is_cancelled() {
            return Err(A2aError::Internal("the server is shutting down".into()));
        }
        let permit = self.runs.clone().try_acquire_owned().map_err(|_| A2aError::Busy)?;
        message.context_id = Some(task.context_id.clone());
        if self.live().contains_key(task_id) {
            return Err(not_waiting(task_id, TaskState::Working));
        }
        let (cancel, receiver) = self.go_live(entity, task_id, follow);
        // The answer is taken in one atomic step: of two answers, one runs the task on.
        let mut pending: Option<Result<Vec<ApprovalRequest>, A2aError>> = None;
        let mut resumed: Option<Task> = None;
        let outcome = self
            .store
            .update_task(task_id, &mut |stored| {
                let Some(mut task) = Task::parse(&stored.task) else { return false };
                if task.status.state != TaskState::InputRequired {
                    pending = Some(Err(not_waiting(&stored.id, task.status.state)));
                    return false;
                }
                let requests = serde_json::from_value::<Vec<ApprovalRequest>>(stored.pending.clone());
                pending = Some(requests.map_err(|error| {
                    A2aError::Internal(format!(
                        "the calls task {} waits on cannot be read: {error}",
                        stored.id
                    ))
                }));
                task.history.push(message.clone());
                task.status = TaskStatus::now(TaskState::Submitted, None);
                encode(stored, &task, &[]);
                resumed = Some(task);
                true
            })
            .await;
        let taken = match (outcome, pending, resumed) {
            (Ok(Some(_)), Some(Ok(requests)), Some(task)) => Ok((requests, task)),
            (Err(error), _, _) => Err(store_error(error)),
            (Ok(_), Some(Err(error)), _) => Err(error),
            (Ok(_), _, _) => Err(A2aError::TaskNotFound(task_id.into())),
        };
        let (requests, task) = match taken {
            Ok(taken) => taken,
            Err(error) => {
                self.live().remove(task_id);
                return Err(error);
            }
        };
        let input: Vec<weft_core::Message> =
            requests.into_iter().map(|r| if approved { r.approve() } else { r.reject() }).collect();
        let (context_id, id) = (task.context_id.clone(), task.id.clone());
        let tasks = Arc::clone(self);
        let entity = entity.to_string();
        self.tracker.spawn(async move {
            let _permit = permit;
            tasks.run(agent, entity, input, context_id, id, cancel).await;
        });
        Ok((task, receiver))
    }

    /// The stored task `task_id` of `entity` (forgetting the tasks past their retention first),
    /// with a run its server left behind recorded as failed.
    async fn stored(&self, entity: &str, task_id: &str) -> Result<StoredTask, A2aError> {
        self.forget().await?;
        let stored = self.store.get_task(task_id).await.map_err(store_error)?;
        let stored =
            stored.filter(|s| s.agent == entity).ok_or_else(|| A2aError::TaskNotFound(task_id.into()))?;
        self.settle_orphan(stored).await
    }

    /// `stored` as it is, or, when the store says it runs but no run of this server holds it,
    /// recorded as failed.
    async fn settle_orphan(&self, stored: StoredTask) -> Result<StoredTask, A2aError> {
        if stored.phase != TaskPhase::Running || self.live().contains_key(&stored.id) {
            return Ok(stored);
        }
        let settled = self
            .store
            .update_task(&stored.id, &mut |kept| {
                // Checked again inside the atomic step: a run may have started on it since.
                if kept.phase != TaskPhase::Running || self.live().contains_key(&kept.id) {
                    return false;
                }
                let Some(mut task) = Task::parse(&kept.task) else { return false };
                let reason =
                    Message::agent("The server stopped before the run ended", &task.context_id, &task.id);
                task.status = TaskStatus::now(TaskState::Failed, Some(reason));
                encode(kept, &task, &[]);
                true
            })
            .await
            .map_err(store_error)?;
        settled.ok_or(A2aError::TaskNotFound(stored.id))
    }

    /// The task `task_id` of `entity`.
    pub(crate) async fn get(&self, entity: &str, task_id: &str) -> Result<Task, A2aError> {
        decode(&self.stored(entity, task_id).await?)
    }

    /// The task `task_id` of `entity` and a receiver of its next events, while it is not ended.
    pub(crate) async fn subscribe(&self, entity: &str, task_id: &str) -> Result<(Task, Follow), A2aError> {
        // The follower is added before the task is read: it misses no event after what it reads.
        let (sender, receiver) = self.follower();
        let following = match self.live().get_mut(task_id).filter(|l| l.entity == entity) {
            Some(live) => {
                live.subscribers.push(sender);
                true
            }
            None => false,
        };
        let task = self.get(entity, task_id).await?;
        if !following || task.status.state.ends_stream() {
            return Err(A2aError::UnsupportedOperation(format!(
                "task {task_id} is {}: there is nothing to follow",
                task.status.state.name(Version::V03)
            )));
        }
        Ok((task, receiver))
    }

    /// Cancels the task `task_id` of `entity`: its run stops and it ends `canceled`.
    pub(crate) async fn cancel(&self, entity: &str, task_id: &str) -> Result<Task, A2aError> {
        let stored = self.stored(entity, task_id).await?;
        let mut ended = None;
        let changed = self
            .store
            .update_task(&stored.id, &mut |kept| {
                let Some(mut task) = Task::parse(&kept.task) else { return false };
                if task.status.state.is_terminal() {
                    ended = Some(task.status.state);
                    return false;
                }
                task.status = TaskStatus::now(TaskState::Canceled, None);
                encode(kept, &task, &[]);
                true
            })
            .await
            .map_err(store_error)?
            .ok_or_else(|| A2aError::TaskNotFound(task_id.into()))?;
        if let Some(state) = ended {
            return Err(A2aError::TaskNotCancelable { id: task_id.into(), state });
        }
        let task = decode(&changed)?;
        self.end_live(task_id, &task.status);
        Ok(task)
    }

    /// Stops the run of `task_id` (when there is one) and ends its streams with `status`.
    fn end_live(&self, task_id: &str, status: &TaskStatus) {
        if let Some(live) = self.live().remove(task_id) {
            live.cancel.cancel();
            for subscriber in live.subscribers {
                let _ = subscriber.send(TaskEvent::Status(status.clone()));
            }
        }
    }

    /// The tasks of `entity` that `query` selects, newest first, and how many there are in all.
    pub(crate) async fn list(&self, entity: &str, query: &ListQuery) -> Result<(Vec<Task>, usize), A2aError> {
        self.forget().await?;
        let query = TaskQuery {
            agent: entity.into(),
            context_id: query.context_id.clone(),
            state: query.state.map(|s| s.name(Version::V1).to_string()),
            offset: query.offset,
            limit: query.page_size,
        };
        let page = self.store.list_tasks(&query).await.map_err(store_error)?;
        let mut tasks = Vec::with_capacity(page.tasks.len());
        for stored in page.tasks {
            tasks.push(decode(&self.settle_orphan(stored).await?)?);
        }
        Ok((tasks, page.total))
    }
}

/// The error for an answer to a task that does not wait for one.
fn not_waiting(task_id: &str, state: TaskState) -> A2aError {
    A2aError::UnsupportedOperation(format!(
        "task {task_id} is {} and takes no more messages; send a new message with its contextId to continue \
         the conversation",
        state.name(Version::V03)
    ))
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
