//! The A2A client: [`A2AAgent`], a remote A2A agent as a Weft [`Agent`].
//!
//! The agent card is resolved by URL (`{url}/.well-known/agent-card.json`, or the URL itself
//! when it names a `.json` file) on first use, or at once with [`A2AAgent::connect`]. Of the
//! interfaces the card offers, the client takes protocol 1.0 before 0.3, and JSON-RPC before
//! HTTP+JSON unless [`A2AAgentBuilder::binding`] says otherwise (HTTP+JSON is spoken in 1.0 only).
//!
//! - A run sends the new messages' text as one A2A message (`SendMessage`, answered at once,
//!   then `GetTask` until the task has ended or waits for input); a streamed run uses
//!   `SendStreamingMessage` and yields the artifacts' text as it comes.
//! - The session keeps the remote `contextId` (and the id of a task waiting for input) in its
//!   metadata, under `a2a` and the agent's URL, so the next run continues the remote
//!   conversation, also after the session was saved and loaded.
//! - A task that ends `input-required` ends the run with approval requests: those the remote
//!   Weft agent named (a data part `{"approvalRequests": [...]}`), or one request
//!   `a2a_input_required` whose arguments hold the agent's question. Answer with
//!   [`weft_core::ApprovalRequest::approve`] / `reject` (sent as `yes` / `no` and a data part
//!   `{"approved": …}`) or with any text: the next run sends it to the waiting task.
//! - A run dropped or failed while its task runs cancels the task (`CancelTask`), best effort,
//!   within [`A2aClientConfig::cancel_timeout`]; [`A2AAgent::close`] waits for those cancels.
//! - Failures are [`A2aClientError`]s (inside [`AgentError::Other`]) naming the URL and the
//!   cause; a task that ends `failed` or `canceled` is one too. Every request has a deadline,
//!   every answer and streamed event a size limit ([`A2aClientConfig`]).
//!
//! The run's [`ChatOptions`] are not sent: the remote agent has its own.

mod builder;
mod card;
mod error;
mod turn;
mod wire;

pub use builder::A2AAgentBuilder;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::Value;
use tokio_util::task::TaskTracker;
use weft_core::{
    Agent, AgentError, AgentResponse, AgentResponseUpdate, AgentSession, ChatOptions, Content,
    Message as CoreMessage, Role as CoreRole,
};

pub use card::{AgentCard, Binding, Interface};
pub use error::{A2aClientError, A2aClientErrorKind, UnreachableCause};

use turn::{Outcome, Progress, approval_requests, outgoing, question_text, remote_of, store_remote};
use wire::{Event, RemoteState, Wire};

/// The name of the approval request that stands for a remote agent's question.
pub const INPUT_REQUIRED_TOOL: &str = "a2a_input_required";

/// The session metadata key under which the remote ids are kept (an object keyed by URL).
pub const SESSION_KEY: &str = "a2a";

/// The limits and choices of an [`A2AAgent`].
#[derive(Debug, Clone)]
pub struct A2aClientConfig {
    /// The binding taken when the card offers both in the same version.
    pub binding: Binding,
    /// Opening a connection.
    pub connect_timeout: Duration,
    /// One request: the card, a send, a `GetTask`; for a stream, its response headers.
    pub request_timeout: Duration,
    /// The longest silence of a stream (servers send keep-alives; these do not count as
    /// silence only if they arrive).
    pub idle_timeout: Duration,
    /// A whole run, waiting for the remote task included.
    pub run_timeout: Duration,
    /// How long the cancel of an abandoned task may take.
    pub cancel_timeout: Duration,
    /// The largest answer, card or streamed event, in bytes.
    pub max_bytes: usize,
}

impl Default for A2aClientConfig {
    fn default() -> Self {
        Self {
            binding: Binding::JsonRpc,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(300),
            run_timeout: Duration::from_secs(600),
            cancel_timeout: Duration::from_secs(5),
            max_bytes: 16 * 1024 * 1024,
        }
    }
}

/// The card and the interface chosen.
struct Resolved {
    card: AgentCard,
    wire: Wire,
}

struct Inner {
    url: String,
    name: String,
    description: Option<String>,
    http: reqwest::Client,
    config: A2aClientConfig,
    resolved: tokio::sync::OnceCell<Resolved>,
    /// The cancels of abandoned remote tasks.
    cancels: TaskTracker,
}

/// A remote A2A agent as a Weft [`Agent`] (see the [module docs](self)). Cheap to clone.
#[derive(Clone)]
pub struct A2AAgent {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for A2AAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("A2AAgent")
            .field("name", &self.inner.name)
            .field("url", &weft_core::redact::redact_url(&self.inner.url))
            .finish()
    }
}

impl Inner {
    async fn resolve(&self) -> Result<&Resolved, A2aClientError> {
        self.resolved
            .get_or_try_init(|| async {
                let card_url = card::card_url(&self.url);
                let request = self.http.get(&card_url).header(reqwest::header::ACCEPT, "application/json");
                let fetch = async {
                    let response =
                        request.send().await.map_err(|e| A2aClientError::from_reqwest(&card_url, e))?;
                    let status = response.status();
                    let body = wire::read_body(&card_url, response, self.config.max_bytes).await?;
                    Ok::<_, A2aClientError>((status, body))
                };
                let (status, body) =
                    tokio::time::timeout(self.config.request_timeout, fetch).await.map_err(|_| {
                        A2aClientError::new(
                            A2aClientErrorKind::Timeout,
                            &card_url,
                            "the agent card did not arrive in time",
                        )
                    })??;
                if !status.is_success() {
                    return Err(A2aClientError::new(
                        A2aClientErrorKind::HttpStatus(status.as_u16()),
                        &card_url,
                        format!("the agent card could not be fetched: the server answered {status}"),
                    ));
                }
                let raw: Value = serde_json::from_slice(&body).map_err(|e| {
                    A2aClientError::new(
                        A2aClientErrorKind::MalformedCard,
                        &card_url,
                        format!("the card is not JSON: {e}"),
                    )
                })?;
                let card = AgentCard::parse(raw, &card_url)?;
                let interface = card.pick(self.config.binding, &card_url)?;
                let wire = Wire {
                    http: self.http.clone(),
                    interface,
                    max_bytes: self.config.max_bytes,
                    request_timeout: self.config.request_timeout,
                    idle_timeout: self.config.idle_timeout,
                };
                Ok(Resolved { card, wire })
            })
            .await
    }
}

impl A2AAgent {
    /// The agent at `url` (its base URL, where `/.well-known/agent-card.json` is, or the card's
    /// own URL), with the default [`A2aClientConfig`]. The card is resolved on first use.
    pub fn new(url: impl Into<String>) -> Self {
        Self::builder(url).build()
    }

    /// A builder for the agent at `url`.
    pub fn builder(url: impl Into<String>) -> A2AAgentBuilder {
        A2AAgentBuilder {
            url: url.into(),
            name: None,
            description: None,
            config: A2aClientConfig::default(),
            http: None,
        }
    }

    /// The agent at `url`, its card resolved now (its name and description come from it).
    pub async fn connect(url: impl Into<String>) -> Result<Self, A2aClientError> {
        Self::builder(url).connect().await
    }

    /// The agent's card, resolved if it was not yet.
    pub async fn card(&self) -> Result<&AgentCard, A2aClientError> {
        Ok(&self.inner.resolve().await?.card)
    }

    /// The interface the agent is called through, resolving the card if it was not yet.
    pub async fn interface(&self) -> Result<&Interface, A2aClientError> {
        Ok(&self.inner.resolve().await?.wire.interface)
    }

    /// Runs the remote agent on `input` (text or messages), adding the exchange to `session`.
    pub async fn run(
        &self,
        session: &mut AgentSession,
        input: impl Into<weft_core::RunInput>,
    ) -> Result<AgentResponse, AgentError> {
        self.run_inner(session, input.into().0).await
    }

    /// Runs the remote agent streaming; `session` is updated when the stream ends, and dropping
    /// the stream cancels the remote task.
    pub fn run_stream<'a>(
        &'a self,
        session: &'a mut AgentSession,
        input: impl Into<weft_core::RunInput>,
    ) -> BoxStream<'a, Result<AgentResponseUpdate, AgentError>> {
        self.run_messages_stream(session, input.into().0, ChatOptions::default())
    }

    /// Waits for the cancels of abandoned remote tasks (each bounded by
    /// [`A2aClientConfig::cancel_timeout`]).
    pub async fn close(&self) {
        self.inner.cancels.close();
        self.inner.cancels.wait().await;
        self.inner.cancels.reopen();
    }

    fn error(&self, error: A2aClientError) -> AgentError {
        AgentError::Other { agent: self.inner.name.clone(), source: Box::new(error) }
    }

    fn invalid(&self, message: impl Into<String>) -> AgentError {
        AgentError::InvalidInput { agent: self.inner.name.clone(), message: message.into() }
    }
}

/// Cancels the remote task when dropped armed: a run abandoned or failed mid-task.
struct CancelGuard {
    inner: Arc<Inner>,
    wire: Wire,
    task_id: Option<String>,
}

impl CancelGuard {
    fn arm(&mut self, task_id: &str) {
        self.task_id = Some(task_id.to_string());
    }

    fn disarm(&mut self) {
        self.task_id = None;
    }
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        let Some(task_id) = self.task_id.take() else { return };
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let wire = self.wire.clone();
        let deadline = self.inner.config.cancel_timeout;
        // Owned by the agent's tracker (`A2AAgent::close` waits for it) and bounded by the
        // cancel deadline.
        self.inner.cancels.spawn(async move {
            match tokio::time::timeout(deadline, wire.cancel(&task_id)).await {
                Ok(Ok(_)) => tracing::debug!(task = %task_id, "A2A: cancelled the abandoned remote task"),
                Ok(Err(error)) => {
                    tracing::debug!(task = %task_id, "A2A: cancel of the abandoned task failed: {error}")
                }
                Err(_) => tracing::debug!(task = %task_id, "A2A: cancel of the abandoned task timed out"),
            }
        });
    }
}

impl A2AAgent {
    /// The messages a run's outcome adds to the session.
    fn answer_messages(&self, outcome: &Outcome) -> Vec<CoreMessage> {
        let name = self.inner.name.clone();
        match outcome {
            Outcome::Answer(text) => vec![CoreMessage::assistant(text.clone()).with_author(name)],
            Outcome::Input { task_id, question } => {
                let mut contents = Vec::new();
                if let Some(text) = question.as_ref().map(question_text).filter(|t| !t.is_empty()) {
                    contents.push(Content::text(text));
                }
                contents.extend(
                    approval_requests(task_id, question.as_ref()).into_iter().map(Content::ApprovalRequest),
                );
                vec![CoreMessage::new(CoreRole::Assistant, contents).with_author(name)]
            }
        }
    }

    /// Records a run in the session: its input, its answer, and the remote ids.
    fn record(
        &self,
        session: &mut AgentSession,
        input: Vec<CoreMessage>,
        outcome: &Outcome,
        progress: &Progress,
        answer: &[CoreMessage],
    ) {
        let mut remote = remote_of(session, &self.inner.url);
        remote.context_id = progress.context_id.clone().or(remote.context_id);
        remote.task_id = match outcome {
            Outcome::Input { task_id, .. } => Some(task_id.clone()),
            Outcome::Answer(_) => None,
        };
        store_remote(session, &self.inner.url, &remote);
        session.messages.extend(input);
        session.messages.extend(answer.iter().cloned());
    }

    /// Waits for a task sent with `returnImmediately` to settle, polling `GetTask`.
    async fn poll(&self, wire: &Wire, progress: &mut Progress) -> Result<(), A2aClientError> {
        let mut delay = Duration::from_millis(20);
        while progress.state.is_some_and(|s| !s.settled()) {
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_millis(500));
            let Some(id) = progress.task_id.clone() else { break };
            let task = wire.get_task(&id).await?;
            progress.take_task(&task);
        }
        Ok(())
    }

    async fn run_inner(
        &self,
        session: &mut AgentSession,
        messages: Vec<CoreMessage>,
    ) -> Result<AgentResponse, AgentError> {
        let resolved = self.inner.resolve().await.map_err(|e| self.error(e))?;
        let wire = &resolved.wire;
        let remote = remote_of(session, &self.inner.url);
        let message = outgoing(&messages, &remote).map_err(|m| self.invalid(m))?;
        let mut guard = CancelGuard { inner: Arc::clone(&self.inner), wire: wire.clone(), task_id: None };
        let mut progress = Progress { context_id: remote.context_id.clone(), ..Progress::default() };
        let url = wire.interface.url.clone();
        let work = async {
            match wire.send(&message, true).await? {
                Event::Message(reply) => {
                    progress.context_id = reply.context_id.clone().or(progress.context_id.take());
                    progress.state = Some(RemoteState::Completed);
                    progress.text = question_text(&reply);
                }
                Event::Task(task) => {
                    guard.arm(&task.id);
                    progress.take_task(&task);
                    self.poll(wire, &mut progress).await?;
                }
                _ => {
                    return Err(A2aClientError::new(
                        A2aClientErrorKind::Protocol,
                        &url,
                        "the answer to SendMessage is neither a task nor a message",
                    ));
                }
            }
            Ok(())
        };
        tokio::time::timeout(self.inner.config.run_timeout, work)
            .await
            .map_err(|_| {
                let secs = self.inner.config.run_timeout.as_secs_f64();
                self.error(A2aClientError::new(
                    A2aClientErrorKind::Timeout,
                    &url,
                    format!("the run took longer than {secs} s"),
                ))
            })?
            .map_err(|e| self.error(e))?;
        let outcome = progress.outcome(&url).unwrap_or_else(|| {
            Err(A2aClientError::new(A2aClientErrorKind::Protocol, &url, "the task did not settle"))
        });
        guard.disarm();
        let outcome = outcome.map_err(|e| self.error(e))?;
        let answer = self.answer_messages(&outcome);
        self.record(session, messages, &outcome, &progress, &answer);
        Ok(AgentResponse { messages: answer, model_calls: 1, ..AgentResponse::default() })
    }
}

#[async_trait::async_trait]
impl Agent for A2AAgent {
    fn name(&self) -> &str {
        &self.inner.name
    }

    fn description(&self) -> Option<&str> {
        self.inner.description.as_deref()
    }

    async fn run_messages(
        &self,
        session: &mut AgentSession,
        messages: Vec<CoreMessage>,
        _options: ChatOptions,
    ) -> Result<AgentResponse, AgentError> {
        self.run_inner(session, messages).await
    }

    fn run_messages_stream<'a>(
        &'a self,
        session: &'a mut AgentSession,
        messages: Vec<CoreMessage>,
        _options: ChatOptions,
    ) -> BoxStream<'a, Result<AgentResponseUpdate, AgentError>> {
        async_stream::try_stream! {
            let resolved = self.inner.resolve().await.map_err(|e| self.error(e))?;
            let wire = &resolved.wire;
            let url = wire.interface.url.clone();
            let remote = remote_of(session, &self.inner.url);
            let message = outgoing(&messages, &remote).map_err(|m| self.invalid(m))?;
            let mut guard = CancelGuard { inner: Arc::clone(&self.inner), wire: wire.clone(), task_id: None };
            let mut progress = Progress { context_id: remote.context_id.clone(), ..Progress::default() };
            let deadline = tokio::time::Instant::now() + self.inner.config.run_timeout;
            let timeout = || {
                let secs = self.inner.config.run_timeout.as_secs_f64();
                self.error(A2aClientError::new(A2aClientErrorKind::Timeout, &url, format!("the run took longer than {secs} s")))
            };
            let mut events = wire.stream(&message);
            let message_id = crate::model::new_id();
            let mut streamed = String::new();
            loop {
                let next = tokio::time::timeout_at(deadline, events.next()).await.map_err(|_| timeout())?;
                let Some(event) = next else { break };
                let event = event.map_err(|e| self.error(e))?;
                let mut piece = None;
                match event {
                    Event::Task(task) => {
                        guard.arm(&task.id);
                        progress.take_task(&task);
                    }
                    Event::Message(reply) => {
                        progress.context_id = reply.context_id.clone().or(progress.context_id.take());
                        progress.state = Some(RemoteState::Completed);
                        progress.text = question_text(&reply);
                        piece = Some(progress.text.clone());
                    }
                    Event::Status { task_id, context_id, state, message } => {
                        if progress.task_id.is_none() {
                            guard.arm(&task_id);
                            progress.task_id = Some(task_id);
                        }
                        progress.context_id = context_id.or(progress.context_id.take());
                        progress.state = Some(state);
                        if message.is_some() {
                            progress.status_message = message;
                        }
                    }
                    Event::Artifact { task_id, context_id, text, append } => {
                        if progress.task_id.is_none() {
                            guard.arm(&task_id);
                            progress.task_id = Some(task_id);
                        }
                        progress.context_id = context_id.or(progress.context_id.take());
                        if !append && !progress.text.is_empty() {
                            progress.text.push('\n');
                            piece = Some(format!("\n{text}"));
                        } else {
                            piece = Some(text.clone());
                        }
                        progress.text.push_str(&text);
                    }
                }
                if let Some(piece) = piece.filter(|p| !p.is_empty()) {
                    streamed.push_str(&piece);
                    let mut update = AgentResponseUpdate::text(piece);
                    update.author_name = Some(self.inner.name.clone());
                    update.message_id = Some(message_id.clone());
                    yield update;
                }
                if progress.state.is_some_and(RemoteState::settled) {
                    break;
                }
            }
            if !progress.state.is_some_and(RemoteState::settled) {
                // The stream ended before the task did: ask where it stands.
                let lost = || A2aClientError::new(
                    A2aClientErrorKind::ConnectionLost,
                    &url,
                    "the stream ended before the task did",
                );
                let Some(id) = progress.task_id.clone() else { Err(self.error(lost()))? ; return };
                let task = tokio::time::timeout_at(deadline, wire.get_task(&id)).await.map_err(|_| timeout())?
                    .map_err(|e| self.error(lost().with_source(e)))?;
                progress.take_task(&task);
                if !task.state.settled() {
                    Err(self.error(lost()))?;
                }
            }
            let outcome = progress.outcome(&url).unwrap_or_else(|| Err(A2aClientError::new(A2aClientErrorKind::Protocol, &url, "the task did not settle")));
            guard.disarm();
            let outcome = outcome.map_err(|e| self.error(e))?;
            let answer = self.answer_messages(&outcome);
            match &outcome {
                Outcome::Answer(text) => {
                    // What the stream did not carry (an answer in the final status message).
                    if let Some(rest) = text.strip_prefix(streamed.as_str()).filter(|r| !r.is_empty()) {
                        let mut update = AgentResponseUpdate::text(rest.to_string());
                        update.author_name = Some(self.inner.name.clone());
                        update.message_id = Some(message_id.clone());
                        yield update;
                    }
                }
                Outcome::Input { .. } => {
                    let contents = answer.iter().flat_map(|m| m.contents.iter().cloned()).collect();
                    yield AgentResponseUpdate {
                        role: Some(CoreRole::Assistant),
                        author_name: Some(self.inner.name.clone()),
                        contents,
                        message_id: Some(crate::model::new_id()),
                        ..AgentResponseUpdate::default()
                    };
                }
            }
            self.record(session, messages, &outcome, &progress, &answer);
        }
        .boxed()
    }
}
