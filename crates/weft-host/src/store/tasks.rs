//! Tasks in a [`SessionStore`](super::SessionStore): the long-running units of work a protocol
//! server keeps between requests (A2A's tasks), with the conversation of each context they
//! belong to. The store knows no protocol: a task is its protocol's JSON object plus the few
//! fields the store selects and forgets by. What only a running process holds (the run itself,
//! its open streams, its cancellation) stays with the server that runs it.

use std::collections::HashMap;

use serde_json::Value;
use weft_core::AgentSession;

/// Where a stored task is in its life, as the store's retention sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskPhase {
    /// Submitted or working: never forgotten.
    Running,
    /// Waiting for the client's input: forgotten after its retention, after the ended ones.
    Waiting,
    /// Ended (completed, failed, canceled): forgotten after its retention, first.
    Ended,
}

/// A task as kept by the store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTask {
    /// The task id.
    pub id: String,
    /// The agent (entity) it was sent to.
    pub agent: String,
    /// The context (conversation) it belongs to.
    pub context_id: String,
    /// The protocol's name of its state (what a listing filters on).
    pub state: String,
    /// Its phase (what retention goes by).
    pub phase: TaskPhase,
    /// The protocol's task object.
    pub task: Value,
    /// What the server needs to go on with a waiting task (A2A: the tool calls waiting for
    /// approval); `Value::Null` when nothing.
    pub pending: Value,
    /// When it last changed, in Unix milliseconds.
    pub updated_at_ms: u64,
}

/// Which tasks a listing returns: the tasks of `agent`, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskQuery {
    /// The agent.
    pub agent: String,
    /// Only the tasks of this context.
    pub context_id: Option<String>,
    /// Only the tasks in this state (the protocol's name).
    pub state: Option<String>,
    /// Skip this many.
    pub offset: usize,
    /// At most this many.
    pub limit: usize,
}

/// One page of tasks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskPage {
    /// The tasks, newest first.
    pub tasks: Vec<StoredTask>,
    /// How many tasks the query selects in all.
    pub total: usize,
}

/// How many tasks a store keeps, and how long: ended and waiting tasks last changed before
/// `expire_before_ms` are forgotten, then the oldest of those past `max_tasks` (ended ones
/// first), and the conversations of the contexts they leave without a task. Running tasks are
/// never forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskRetention {
    /// The most tasks kept (running ones may exceed it).
    pub max_tasks: usize,
    /// Unix milliseconds: ended and waiting tasks last changed before it are forgotten.
    pub expire_before_ms: u64,
}

/// A change to a stored task, applied in one atomic step; it returns whether it changed the task
/// (only then is the task written back).
pub type TaskChange<'a> = &'a mut (dyn FnMut(&mut StoredTask) -> bool + Send);

/// The tasks and context conversations of the in-memory store.
#[derive(Debug, Default)]
pub(crate) struct MemoryTasks {
    /// Each task with its creation order.
    tasks: HashMap<String, (u64, StoredTask)>,
    /// The conversation of each (agent, context).
    contexts: HashMap<(String, String), AgentSession>,
    counter: u64,
}

impl MemoryTasks {
    pub(crate) fn create(&mut self, task: StoredTask, retention: &TaskRetention) {
        self.counter += 1;
        self.tasks.insert(task.id.clone(), (self.counter, task));
        self.forget(retention);
    }

    pub(crate) fn get(&self, id: &str) -> Option<StoredTask> {
        self.tasks.get(id).map(|(_, task)| task.clone())
    }

    pub(crate) fn update(&mut self, id: &str, change: TaskChange<'_>) -> Option<StoredTask> {
        let (_, task) = self.tasks.get_mut(id)?;
        // The change works on a copy: a change that says it changed nothing leaves nothing.
        let mut changed = task.clone();
        if change(&mut changed) {
            changed.id = id.to_string();
            *task = changed;
        }
        Some(task.clone())
    }

    pub(crate) fn list(&self, query: &TaskQuery) -> TaskPage {
        let mut selected: Vec<&(u64, StoredTask)> = self
            .tasks
            .values()
            .filter(|(_, t)| t.agent == query.agent)
            .filter(|(_, t)| query.context_id.as_ref().is_none_or(|c| *c == t.context_id))
            .filter(|(_, t)| query.state.as_ref().is_none_or(|s| *s == t.state))
            .collect();
        selected.sort_by_key(|(order, _)| std::cmp::Reverse(*order));
        let total = selected.len();
        let tasks =
            selected.into_iter().skip(query.offset).take(query.limit).map(|(_, t)| t.clone()).collect();
        TaskPage { tasks, total }
    }

    pub(crate) fn forget(&mut self, retention: &TaskRetention) {
        let settled = |t: &StoredTask| t.phase != TaskPhase::Running;
        self.tasks.retain(|_, (_, t)| !(settled(t) && t.updated_at_ms < retention.expire_before_ms));
        let excess = self.tasks.len().saturating_sub(retention.max_tasks);
        if excess > 0 {
            let mut candidates: Vec<(bool, u64, String)> = self
                .tasks
                .values()
                .filter(|(_, t)| settled(t))
                .map(|(order, t)| (t.phase != TaskPhase::Ended, *order, t.id.clone()))
                .collect();
            candidates.sort_unstable();
            for (_, _, id) in candidates.into_iter().take(excess) {
                self.tasks.remove(&id);
            }
        }
        let tasks = &self.tasks;
        self.contexts.retain(|(agent, context), _| {
            tasks.values().any(|(_, t)| t.agent == *agent && t.context_id == *context)
        });
    }

    pub(crate) fn put_context(&mut self, agent: &str, context_id: &str, session: AgentSession) {
        self.contexts.insert((agent.to_string(), context_id.to_string()), session);
    }

    pub(crate) fn get_context(&self, agent: &str, context_id: &str) -> Option<AgentSession> {
        self.contexts.get(&(agent.to_string(), context_id.to_string())).cloned()
    }
}

/// What every store does with tasks, checked on each of them.
#[cfg(test)]
pub(crate) mod contract {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;
    use weft_core::{AgentSession, Message};

    use super::*;
    use crate::store::SessionStore;

    pub(crate) fn task(id: &str, context: &str, phase: TaskPhase, at: u64) -> StoredTask {
        StoredTask {
            id: id.into(),
            agent: "helper".into(),
            context_id: context.into(),
            state: format!("{phase:?}"),
            phase,
            task: json!({"id": id}),
            pending: Value::Null,
            updated_at_ms: at,
        }
    }

    fn keep_all() -> TaskRetention {
        TaskRetention { max_tasks: 100, expire_before_ms: 0 }
    }

    async fn ids(store: &dyn SessionStore, query: TaskQuery) -> (Vec<String>, usize) {
        let page = store.list_tasks(&query).await.unwrap();
        (page.tasks.into_iter().map(|t| t.id).collect(), page.total)
    }

    /// Tasks are listed newest first by agent, context and state, and changed atomically.
    pub(crate) async fn lists_and_updates(store: &dyn SessionStore) {
        for (id, context, phase) in [
            ("t1", "c1", TaskPhase::Ended),
            ("t2", "c2", TaskPhase::Waiting),
            ("t3", "c1", TaskPhase::Running),
        ] {
            store.create_task(task(id, context, phase, 10), &keep_all()).await.unwrap();
        }
        let mut other = task("t4", "c1", TaskPhase::Ended, 10);
        other.agent = "other".into();
        store.create_task(other, &keep_all()).await.unwrap();
        let all = TaskQuery { agent: "helper".into(), limit: 10, ..TaskQuery::default() };
        assert_eq!(ids(store, all.clone()).await, (vec!["t3".into(), "t2".into(), "t1".into()], 3));
        let page = TaskQuery { offset: 1, limit: 1, ..all.clone() };
        assert_eq!(ids(store, page).await, (vec!["t2".into()], 3));
        let context = TaskQuery { context_id: Some("c1".into()), ..all.clone() };
        assert_eq!(ids(store, context).await, (vec!["t3".into(), "t1".into()], 2));
        let state = TaskQuery { state: Some("Waiting".into()), ..all.clone() };
        assert_eq!(ids(store, state).await, (vec!["t2".into()], 1));

        // A change that changes nothing writes nothing; one that does is kept, order and all.
        let mut lose = |t: &mut StoredTask| {
            t.state = "lost".into();
            false
        };
        let unchanged = store.update_task("t3", &mut lose).await.unwrap().unwrap();
        assert_eq!(unchanged.state, "Running");
        let mut end = |t: &mut StoredTask| {
            t.phase = TaskPhase::Ended;
            t.pending = json!({"k": 1});
            true
        };
        assert_eq!(store.update_task("t3", &mut end).await.unwrap().unwrap().phase, TaskPhase::Ended);
        let kept = store.get_task("t3").await.unwrap().unwrap();
        assert_eq!((kept.phase, kept.pending), (TaskPhase::Ended, json!({"k": 1})));
        assert_eq!(ids(store, all).await.0[0], "t3");
        assert!(store.update_task("nope", &mut |_| true).await.unwrap().is_none());
        assert!(store.get_task("nope").await.unwrap().is_none());
    }

    /// Retention forgets expired tasks, then the oldest past the cap (ended first), never running
    /// ones, and the conversations of the contexts left without a task.
    pub(crate) async fn forgets_by_retention(store: &dyn SessionStore) {
        let mut session = AgentSession::new();
        session.messages.push(Message::user("My name is Ada."));
        store.create_task(task("old", "c0", TaskPhase::Ended, 1), &keep_all()).await.unwrap();
        store.create_task(task("run", "c1", TaskPhase::Running, 1), &keep_all()).await.unwrap();
        store.create_task(task("wait", "c2", TaskPhase::Waiting, 50), &keep_all()).await.unwrap();
        store.create_task(task("done", "c3", TaskPhase::Ended, 50), &keep_all()).await.unwrap();
        for context in ["c0", "c2", "c3"] {
            store.put_task_context("helper", context, &session).await.unwrap();
        }
        // "old" expired; then one more past the cap of 2: the ended "done" before the waiting one.
        store.forget_tasks(&TaskRetention { max_tasks: 2, expire_before_ms: 10 }).await.unwrap();
        assert!(store.get_task("old").await.unwrap().is_none());
        assert!(store.get_task("done").await.unwrap().is_none());
        assert!(store.get_task("wait").await.unwrap().is_some());
        assert!(store.get_task("run").await.unwrap().is_some());
        assert!(store.get_task_context("helper", "c0").await.unwrap().is_none());
        assert!(store.get_task_context("helper", "c3").await.unwrap().is_none());
        let kept = store.get_task_context("helper", "c2").await.unwrap().unwrap();
        assert_eq!(kept.messages, session.messages);
        // Running tasks stay past the cap.
        store.forget_tasks(&TaskRetention { max_tasks: 0, expire_before_ms: 0 }).await.unwrap();
        assert!(store.get_task("wait").await.unwrap().is_none());
        assert!(store.get_task("run").await.unwrap().is_some());
    }
}
