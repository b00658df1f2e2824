//! The history a run starts from and where the run's messages go: the session's own messages
//! or a history store's window, compacted when the agent has a strategy.
//!
//! A run is prepared ([`AgentInner::prepare_history`]) before the agent middleware and the
//! loop, and finished ([`AgentInner::finish_run`]) after them, only when the run succeeded: a
//! failed or dropped run leaves the session (and the store) as they were. Steps that add to
//! what a run is sent, or see what it did, belong beside these two.

use std::sync::Arc;

use super::AgentInner;
use super::function_loop::SessionAppend;
use super::response::AgentResponse;
use super::session::{AgentSession, HistoryRef};
use crate::compaction::{CompactionContext, check_cut, turn_starts};
use crate::error::AgentError;
use crate::history::{HistoryError, HistoryStore, HistoryWindow};
use crate::message::Message;
use crate::options::ChatOptions;

/// The default number of stored messages a run loads (see
/// [`ChatAgentBuilder::history_window`](super::ChatAgentBuilder::history_window)).
pub const DEFAULT_HISTORY_WINDOW: u64 = 200;

/// The history a run is sent, and what the session becomes if the run succeeds.
pub(crate) struct PreparedHistory {
    /// The messages before the run's input (after compaction).
    pub(crate) history: Arc<Vec<Message>>,
    /// The session's change beyond appending the run's messages.
    update: SessionUpdate,
}

enum SessionUpdate {
    /// Nothing but the append.
    None,
    /// A session carrying its messages was compacted: they become `history`.
    Replace,
    /// A stored session's compaction moved on.
    Stored(HistoryRef),
}

impl AgentInner {
    fn store_for(&self, session: &AgentSession, wanted: &str) -> Result<&Arc<dyn HistoryStore>, AgentError> {
        match &self.history_store {
            Some(store) if store.id() == wanted => Ok(store),
            other => Err(self.history_error(HistoryError::UnknownStore {
                session: session.id.clone(),
                store: wanted.to_string(),
                available: other.as_ref().map_or_else(
                    || "no history store".to_string(),
                    |store| format!("the store '{}'", store.id()),
                ),
            })),
        }
    }

    fn history_error(&self, source: HistoryError) -> AgentError {
        AgentError::History { agent: self.name.clone(), source }
    }

    /// Loads (for a stored session) and compacts the history of the run about to start.
    pub(crate) async fn prepare_history(
        &self,
        session: &AgentSession,
        input: &[Message],
        options: &ChatOptions,
    ) -> Result<PreparedHistory, AgentError> {
        let Some(reference) = &session.history else {
            return self.compact_carried(session, input, options).await;
        };
        let store = self.store_for(session, &reference.store)?;
        let len = store.len(&session.id).await.map_err(|e| self.history_error(e))?;
        let mut start = reference.compacted_through.max(len.saturating_sub(self.history_window));
        let mut loaded = store
            .load(&session.id, HistoryWindow::from_position(start))
            .await
            .map_err(|e| self.history_error(e))?;
        if start > reference.compacted_through {
            // The window cut into the conversation: begin at a turn, so that no result is
            // sent without its call.
            let first = turn_starts(&loaded).first().copied().unwrap_or(loaded.len());
            loaded.drain(..first);
            start += first as u64;
        }
        let summary_len = reference.summary.len();
        let mut history = Vec::with_capacity(summary_len + loaded.len());
        history.extend(reference.summary.iter().cloned());
        history.extend(loaded);

        let Some(strategy) = &self.compaction else {
            return Ok(PreparedHistory { history: Arc::new(history), update: SessionUpdate::None });
        };
        let compacted = strategy
            .compact(&history, self.compaction_context(input, options))
            .await
            .and_then(|compacted| check_cut(&history, &compacted).map(|()| compacted))
            .map_err(|source| AgentError::Compaction { agent: self.name.clone(), source })?;
        if compacted.is_unchanged() {
            return Ok(PreparedHistory { history: Arc::new(history), update: SessionUpdate::None });
        }
        let keep_from = compacted.keep_from;
        let mut next = HistoryRef { store: reference.store.clone(), ..HistoryRef::default() };
        next.summary.extend(compacted.summary.clone());
        if keep_from >= summary_len {
            next.compacted_through = start + (keep_from - summary_len) as u64;
        } else {
            next.compacted_through = reference.compacted_through;
            next.summary.extend(reference.summary[keep_from..].iter().cloned());
        }
        Ok(PreparedHistory {
            history: Arc::new(compacted.apply(history)),
            update: SessionUpdate::Stored(next),
        })
    }

    /// Compacts the messages a session carries.
    async fn compact_carried(
        &self,
        session: &AgentSession,
        input: &[Message],
        options: &ChatOptions,
    ) -> Result<PreparedHistory, AgentError> {
        let Some(strategy) = &self.compaction else {
            return Ok(PreparedHistory {
                history: Arc::new(session.messages.clone()),
                update: SessionUpdate::None,
            });
        };
        let compacted = strategy
            .compact(&session.messages, self.compaction_context(input, options))
            .await
            .and_then(|compacted| check_cut(&session.messages, &compacted).map(|()| compacted))
            .map_err(|source| AgentError::Compaction { agent: self.name.clone(), source })?;
        if compacted.is_unchanged() {
            return Ok(PreparedHistory {
                history: Arc::new(session.messages.clone()),
                update: SessionUpdate::None,
            });
        }
        let keep_from = compacted.keep_from.min(session.messages.len());
        let mut history = Vec::with_capacity(session.messages.len() - keep_from + 1);
        history.extend(compacted.summary);
        history.extend(session.messages[keep_from..].iter().cloned());
        Ok(PreparedHistory { history: Arc::new(history), update: SessionUpdate::Replace })
    }

    fn compaction_context<'a>(
        &'a self,
        input: &'a [Message],
        options: &'a ChatOptions,
    ) -> CompactionContext<'a> {
        CompactionContext {
            agent_name: &self.name,
            model: options
                .model
                .as_deref()
                .or(self.options.model.as_deref())
                .or(self.info.default_model.as_deref()),
            instructions: self.instructions.as_deref(),
            input,
        }
    }

    /// Adds a successful run to the session: what the loop recorded, or (when a middleware
    /// answered on its own) the input and the answer; appended to the store for a stored
    /// session.
    pub(crate) async fn finish_run(
        &self,
        session: &mut AgentSession,
        prepared: PreparedHistory,
        append: &SessionAppend,
        original_input: Vec<Message>,
        response: &AgentResponse,
    ) -> Result<(), AgentError> {
        let recorded = append.lock().ok().and_then(|mut slot| slot.take());
        let new_messages = recorded.unwrap_or_else(|| {
            let mut messages = original_input;
            messages.extend(response.messages.iter().cloned());
            messages
        });
        let PreparedHistory { history, update } = prepared;
        if let Some(reference) = &session.history {
            let store = self.store_for(session, &reference.store)?;
            if !new_messages.is_empty() {
                store.append(&session.id, &new_messages).await.map_err(|e| self.history_error(e))?;
            }
            if let SessionUpdate::Stored(next) = update {
                session.history = Some(next);
            }
        } else {
            if let SessionUpdate::Replace = update {
                session.messages = Arc::try_unwrap(history).unwrap_or_else(|shared| shared.as_ref().clone());
            }
            session.messages.extend(new_messages);
        }
        Ok(())
    }

    /// The approval requests a session's conversation ends with.
    pub(crate) async fn pending_approvals(
        &self,
        session: &AgentSession,
    ) -> Result<Vec<crate::message::ApprovalRequest>, AgentError> {
        let Some(reference) = &session.history else {
            return Ok(session.pending_approvals());
        };
        let store = self.store_for(session, &reference.store)?;
        let last =
            store.load(&session.id, HistoryWindow::Last(1)).await.map_err(|e| self.history_error(e))?;
        Ok(super::session::pending_approvals_in(&last))
    }
}
