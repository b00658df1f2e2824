//! One agent run as the protocols see it: a stream of [`RunEvent`]s that owns the agent, the
//! session and the run's permit. Dropping the stream drops the run (its model call and tools): a
//! client that disconnects cancels its run, and no task is left behind.
//!
//! A run that hits the model's output limit (`finish_reason: length`), the agent's
//! `max_iterations` or a run budget ([`weft_core::budget`]) ends [`RunEvent::Finished`] with
//! `incomplete` set: its conversation is kept, cut short.

use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;
use weft_core::{
    Agent, AgentError, AgentSession, ApprovalRequest, ChatOptions, Content, FinishReason, FunctionCall,
    FunctionResult, Message, Usage,
};

/// What happened in a run, in order.
#[derive(Debug)]
pub(crate) enum RunEvent {
    /// A piece of the model's answer.
    Text(String),
    /// The model called a tool (run on the server).
    Call(FunctionCall),
    /// A tool's result.
    Result(FunctionResult),
    /// A call (shown by [`RunEvent::Call`] before) waits for the caller's approval; the run
    /// ends with its session holding the request.
    Approval(ApprovalRequest),
    /// Tokens used by one model call.
    Usage(Usage),
    /// Progress of the run for watchers ([`Content::Event`]: a workflow's executors).
    Event {
        /// The vocabulary of `data`.
        kind: String,
        /// The event.
        data: serde_json::Value,
    },
    /// The run ended; the session holds the whole conversation. `incomplete` says why the answer
    /// is cut short (`max_output_tokens`, `content_filter`, `max_iterations`,
    /// `budget_exceeded`), if it is.
    Finished {
        /// The conversation after the run.
        session: Box<AgentSession>,
        /// Why the answer is incomplete, if it is.
        incomplete: Option<&'static str>,
    },
    /// The run did not end well; the session is left as it was.
    Failed(RunFailure),
}

/// Why a run failed, as told to the client (the agent's own error goes to the log only: it may
/// name hosts, paths or arguments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunFailure {
    /// The agent returned an error.
    Agent,
    /// The run passed the server's deadline.
    Timeout(Duration),
    /// The server shut down before the run ended.
    Shutdown,
    /// The client cancelled the run (`POST /v1/responses/{id}/cancel`).
    Cancelled,
}

impl RunFailure {
    /// The message for the client.
    pub(crate) fn message(&self) -> String {
        match self {
            RunFailure::Agent => "The agent's run failed; the server's log has the details".into(),
            RunFailure::Timeout(limit) => {
                format!("The run took longer than the server's limit of {} s", limit.as_secs())
            }
            RunFailure::Shutdown => "The server shut down before the run ended".into(),
            RunFailure::Cancelled => "The run was cancelled".into(),
        }
    }
}

/// What a run needs.
pub(crate) struct RunSpec {
    pub(crate) agent: Arc<dyn Agent>,
    pub(crate) session: AgentSession,
    pub(crate) input: Vec<Message>,
    pub(crate) options: ChatOptions,
    pub(crate) timeout: Duration,
    pub(crate) cancel: CancellationToken,
    /// Cancelled when the client cancels the run (a background response).
    pub(crate) stop: Option<CancellationToken>,
    pub(crate) permit: OwnedSemaphorePermit,
    /// The id the log names the run by.
    pub(crate) id: String,
}

/// The run's events; the last one is [`RunEvent::Finished`] or [`RunEvent::Failed`].
pub(crate) fn run_events(spec: RunSpec) -> impl Stream<Item = RunEvent> + Send + 'static {
    // The request's span: a streamed answer's body is polled outside of it, and the run's spans
    // belong under it all the same (one trace per request).
    let parent = tracing::Span::current();
    async_stream::stream! {
        let RunSpec { agent, mut session, input, options, timeout, cancel, stop, permit, id } = spec;
        let _permit = permit;
        let deadline = tokio::time::Instant::now() + timeout;
        let mut failure = None;
        let mut finish_reason = None;
        // What a run cut short by the agent did so far, and why it was cut.
        let mut partial: Option<(Vec<Message>, &'static str)> = None;
        let stop = stop.unwrap_or_default();
        {
            let mut updates =
                parent.in_scope(|| agent.run_messages_stream(&mut session, input.clone(), options));
            loop {
                let next = tokio::select! {
                    biased;
                    () = cancel.cancelled() => Err(RunFailure::Shutdown),
                    () = stop.cancelled() => Err(RunFailure::Cancelled),
                    next = tokio::time::timeout_at(deadline, updates.next()) => {
                        next.map_err(|_| RunFailure::Timeout(timeout))
                    }
                };
                let update = match next {
                    Ok(Some(Ok(update))) => update,
                    Ok(None) => break,
                    Ok(Some(Err(AgentError::MaxIterations { response, .. }))) => {
                        // The agent kept calling tools: what it did so far is kept, cut short.
                        partial = Some((response.messages, "max_iterations"));
                        break;
                    }
                    Ok(Some(Err(AgentError::BudgetExceeded { overrun, response, .. }))) => {
                        // A run budget stopped it: what it did so far is kept, cut short (calls
                        // the budget refused have an error result saying so).
                        tracing::info!(run = %id, agent = agent.name(), "run budget exceeded: {overrun}");
                        partial = Some((response.messages, "budget_exceeded"));
                        break;
                    }
                    Ok(Some(Err(error))) => {
                        tracing::warn!(run = %id, agent = agent.name(), "run failed: {error}");
                        failure = Some(RunFailure::Agent);
                        break;
                    }
                    Err(reason) => {
                        tracing::warn!(run = %id, agent = agent.name(), "run stopped: {}", reason.message());
                        failure = Some(reason);
                        break;
                    }
                };
                if update.finish_reason.is_some() {
                    finish_reason = update.finish_reason;
                }
                for content in update.contents {
                    match content {
                        Content::Text { text } if !text.is_empty() => yield RunEvent::Text(text),
                        Content::FunctionCall(call) => yield RunEvent::Call(call),
                        Content::FunctionResult(result) => yield RunEvent::Result(result),
                        Content::ApprovalRequest(request) => yield RunEvent::Approval(request),
                        Content::Usage(usage) => yield RunEvent::Usage(usage),
                        Content::Event { kind, data } => yield RunEvent::Event { kind, data },
                        _ => {}
                    }
                }
            }
        }
        match (failure, partial) {
            (Some(failure), _) => yield RunEvent::Failed(failure),
            (None, Some((messages, reason))) => {
                session.messages.extend(input);
                session.messages.extend(messages);
                yield RunEvent::Finished { session: Box::new(session), incomplete: Some(reason) };
            }
            (None, None) => {
                let incomplete = match finish_reason {
                    Some(FinishReason::Length) => Some("max_output_tokens"),
                    Some(FinishReason::ContentFilter) => Some("content_filter"),
                    _ => None,
                };
                yield RunEvent::Finished { session: Box::new(session), incomplete };
            }
        }
    }
}

/// A random id with a prefix, e.g. `resp_…`.
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// Now, in Unix seconds.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
