//! `POST /v1/responses`: the OpenAI Responses protocol, as JSON or SSE (`stream: true`), with
//! `previous_response_id` or `conversation` continuing a stored conversation, and
//! `background: true` runs owned by the host (see [`stored`] for `GET`, `DELETE`, `cancel` and
//! `input_items`).
//!
//! What the host reads of the request: `model` (the agent), `input` (a string or input items:
//! messages, `function_call`, `function_call_output`, `mcp_approval_request` and
//! `mcp_approval_response` items), `stream`, `previous_response_id`,
//! `conversation` (an id or `{"id"}`), `store`, `background`, `temperature`, `top_p`,
//! `max_output_tokens`. The agent's own instructions and tools apply; a request's
//! `instructions` and `tools` are not used in this version.
//!
//! What a turn keeps of a run that ends, fails, is cancelled or dropped: see the crate docs.
//! Approvals: see [`approvals`]. Requests of a workflow served as an agent: see [`conversation_state`].

pub(crate) mod approvals;
mod background;
pub(crate) mod conversation_state;
mod events;
pub(crate) mod items;
pub(crate) mod stored;

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::Value;
use weft_core::{AgentSession, ChatOptions, Role};

use crate::HostState;
use crate::error::ApiError;
use crate::guard::{JsonBody, run_permit};
use crate::run::{RunEvent, RunSpec, new_id, run_events};
use crate::store::{ItemQuery, StoredResponse};
use events::{ResponseBuilder, ResponseMeta};

pub(crate) use background::BackgroundRuns;

/// The fields of a Responses request the host reads.
#[derive(Debug, Deserialize)]
pub(crate) struct CreateResponse {
    model: String,
    #[serde(default)]
    input: Option<Input>,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    previous_response_id: Option<String>,
    #[serde(default)]
    conversation: Option<ConversationRef>,
    #[serde(default)]
    store: Option<bool>,
    #[serde(default)]
    background: bool,
    #[serde(default)]
    temperature: Option<f32>,
    #[serde(default)]
    top_p: Option<f32>,
    #[serde(default)]
    max_output_tokens: Option<u32>,
}

/// `input`: text, or a list of items.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Input {
    Text(String),
    Items(Vec<Value>),
}

/// `conversation`: its id, or `{"id": …}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ConversationRef {
    Id(String),
    Object { id: String },
}

/// What ends a turn: where its response and items are kept.
pub(crate) struct Turn {
    state: Arc<HostState>,
    id: String,
    agent: String,
    store: bool,
    input_items: Vec<Value>,
    conversation: Option<String>,
}

impl Turn {
    /// Keeps what the run that ended in `builder` leaves (see the module docs): the response
    /// when `store`, the turn's items in the conversation when the run ended well, and a ticket
    /// for each approval request it ends with. Failures are logged: the answer stands.
    async fn end(&self, builder: &ResponseBuilder, session: Option<AgentSession>) {
        let Some(response) = builder.ended() else { return };
        if let Some(session) = &session {
            let requests = session.pending_approvals();
            if self.store {
                approvals::put_tickets(&self.state, &self.id, &self.agent, &requests).await;
            }
            if let Some(conversation) = &self.conversation {
                approvals::put_tickets(&self.state, conversation, &self.agent, &requests).await;
                conversation_state::keep(&self.state, conversation, session).await;
            }
        }
        if let (Some(conversation), Some(_)) = (&self.conversation, &session) {
            let mut items = self.input_items.clone();
            items.extend(builder.output().iter().filter(|item| !item.is_null()).cloned());
            let limit = self.state.config.max_conversation_items;
            match self.state.store.append_items(conversation, items, limit).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(response = %self.id, "the conversation was deleted during the turn")
                }
                Err(error) => tracing::error!(response = %self.id, "appending the turn's items: {error}"),
            }
        }
        if self.store {
            self.put(response.clone(), session).await;
        }
    }

    /// Stores the response object `response`.
    async fn put(&self, response: Value, session: Option<AgentSession>) {
        let stored = StoredResponse {
            agent: self.agent.clone(),
            response,
            input_items: self.input_items.clone(),
            session,
        };
        if let Err(error) = self.state.store.put_response(&self.id, stored).await {
            tracing::error!(response = %self.id, "storing the response: {error}");
        }
    }

    /// Passes `event` to `builder`, ending the turn when it is the last; the protocol's events.
    async fn on(&self, builder: &mut ResponseBuilder, event: RunEvent) -> Vec<Value> {
        let session = match &event {
            RunEvent::Finished { session, .. } => Some(Some((**session).clone())),
            RunEvent::Failed(_) => Some(None),
            _ => None,
        };
        let events = builder.on(event);
        if let Some(session) = session {
            self.end(builder, session).await;
        }
        events
    }
}

/// The routes, under `/v1`.
pub(crate) fn routes() -> Router<Arc<HostState>> {
    Router::new()
        .route("/responses", post(create))
        .route("/responses/{id}", get(stored::get).delete(stored::delete))
        .route("/responses/{id}/input_items", get(stored::input_items))
        .route("/responses/{id}/cancel", post(stored::cancel))
}

/// `POST /v1/responses`.
pub(crate) async fn create(
    State(state): State<Arc<HostState>>,
    JsonBody(request): JsonBody<CreateResponse>,
) -> Result<Response, ApiError> {
    let agent = state.agent(&request.model)?;
    let input_items: Vec<Value> = match &request.input {
        None => Vec::new(),
        Some(Input::Text(text)) => vec![items::text_item(text)],
        Some(Input::Items(given)) => given.iter().map(items::normalize).collect::<Result<_, _>>()?,
    };
    if input_items.is_empty() {
        return Err(ApiError::invalid("`input` is empty: give the text or the items to answer"));
    }
    let store = request.store.unwrap_or(true);
    if request.background && !store {
        return Err(ApiError::invalid_param("background responses need `store: true`", "background"));
    }
    let conversation = request.conversation.map(|c| match c {
        ConversationRef::Id(id) | ConversationRef::Object { id } => id,
    });
    // Where the turn continues from: a stored response, a conversation, or nothing (then any
    // history comes whole in `input`).
    let (mut session, origin) = match (&request.previous_response_id, &conversation) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_param(
                "Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' \
                 or 'conversation'.",
                "conversation",
            ));
        }
        (Some(previous), None) => (previous_session(&state, previous).await?, Some(previous.clone())),
        (None, Some(conversation)) => {
            (conversation_session(&state, conversation, input_items.len()).await?, Some(conversation.clone()))
        }
        (None, None) => (AgentSession::new(), None),
    };
    let mut input = items::to_messages(&input_items, &session.pending_approvals(), false)?;
    let answered = items::answered_requests(&input_items);
    if origin.is_none() && !answered.is_empty() {
        // The whole history came in `input`: what precedes the turn the answers resume is the
        // session (the agent finds the requests it answers at the end of it).
        let split = input.iter().rposition(|m| m.role == Role::Assistant).map_or(0, |i| i + 1);
        let rest = input.split_off(split);
        session.messages = std::mem::replace(&mut input, rest);
    }
    // The permit comes before the tickets: taking one and then answering 503 would lose it.
    let permit = run_permit(&state)?;
    if let Some(origin) = &origin {
        approvals::take_tickets(&state, origin, &answered).await?;
    }
    let options = ChatOptions {
        temperature: request.temperature,
        top_p: request.top_p,
        max_tokens: request.max_output_tokens,
        ..ChatOptions::default()
    };
    let meta = ResponseMeta {
        model: request.model.clone(),
        previous_response_id: request.previous_response_id,
        conversation: conversation.clone(),
        store,
        background: request.background,
        max_output_tokens: request.max_output_tokens,
    };
    let mut builder = ResponseBuilder::new(new_id("resp"), meta);
    let turn = Turn {
        state: state.clone(),
        id: builder.id().to_string(),
        agent: request.model,
        store,
        input_items,
        conversation,
    };
    let spec = RunSpec {
        agent,
        session,
        input,
        options,
        timeout: state.config.run_timeout,
        cancel: state.cancel_runs.clone(),
        stop: None,
        permit,
        id: builder.id().to_string(),
    };

    if request.background {
        let keep_alive = request.stream.then_some(state.config.keep_alive);
        return background::start(turn, builder, spec, keep_alive).await;
    }
    let events = run_events(spec);
    if !request.stream {
        let mut events = std::pin::pin!(events);
        while let Some(event) = events.next().await {
            turn.on(&mut builder, event).await;
        }
        let response = builder.ended().cloned().unwrap_or(Value::Null);
        return Ok(axum::Json(response).into_response());
    }

    let keep_alive = state.config.keep_alive;
    let sse = async_stream::stream! {
        for event in builder.start() {
            yield sse_event(event);
        }
        let mut events = std::pin::pin!(events);
        while let Some(event) = events.next().await {
            for event in turn.on(&mut builder, event).await {
                yield sse_event(event);
            }
        }
    };
    Ok(Sse::new(sse).keep_alive(KeepAlive::new().interval(keep_alive)).into_response())
}

/// The conversation after response `previous`, or a 404 naming the parameter.
async fn previous_session(state: &HostState, previous: &str) -> Result<AgentSession, ApiError> {
    let not_found = || {
        ApiError::not_found(format!("Previous response with id '{previous}' not found."))
            .with_param("previous_response_id")
    };
    let stored = state.store.get_response(previous).await?.ok_or_else(not_found)?;
    let status = stored.status().to_string();
    stored.session.ok_or_else(|| {
        ApiError::invalid_param(
            format!("Previous response '{previous}' has status '{status}': only an ended response can be continued"),
            "previous_response_id",
        )
    })
}

/// The conversation `id` as the agent's session, or a 404 naming the parameter; a 400 when it
/// has no room for the turn (its `inputs` items and at least one answer).
async fn conversation_session(state: &HostState, id: &str, inputs: usize) -> Result<AgentSession, ApiError> {
    let page = state.store.list_items(id, ItemQuery::all()).await?.ok_or_else(|| {
        ApiError::not_found(format!("Conversation with id '{id}' not found.")).with_param("conversation")
    })?;
    let limit = state.config.max_conversation_items;
    if page.items.len().saturating_add(inputs).saturating_add(1) > limit {
        return Err(ApiError::invalid_param(
            format!(
                "Conversation '{id}' holds {} items and has no room for another turn (a conversation \
                 holds at most {limit}); start a new conversation",
                page.items.len()
            ),
            "conversation",
        ));
    }
    let mut session = AgentSession::new();
    session.messages = items::to_messages(&page.items, &[], true)?;
    session.metadata = conversation_state::load(state, id).await?;
    Ok(session)
}

/// One SSE event: `event: TYPE` and the JSON (which carries `type` too, as OpenAI sends it).
fn sse_event(data: Value) -> Result<Event, Infallible> {
    let kind = data["type"].as_str().unwrap_or("message").to_string();
    Ok(Event::default().event(kind).data(data.to_string()))
}
