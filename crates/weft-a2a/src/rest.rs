//! The HTTP+JSON binding (1.0): `message:send`, `message:stream`, `tasks`, `tasks/{id}`,
//! `tasks/{id}:cancel`. Errors are `google.rpc.Status`-shaped bodies with an `ErrorInfo` reason.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::Value;

use crate::error::A2aError;
use crate::model::Version;
use crate::ops::{self, Shared};

/// An error answer.
fn error(error: &A2aError) -> Response {
    let (status, body) = error.rest_response();
    (status, Json(body)).into_response()
}

/// The JSON body of a request to `entity` (which must be served).
fn body_json(state: &Shared, entity: &str, body: Result<Bytes, BytesRejection>) -> Result<Value, A2aError> {
    known(state, entity)?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            A2aError::TooLarge { limit: state.config.body_limit }
        } else {
            A2aError::InvalidRequest("The request body could not be read".into())
        }
    })?;
    let value: Value = serde_json::from_slice(&body).map_err(|e| A2aError::Parse(e.to_string()))?;
    if !value.is_object() {
        return Err(A2aError::InvalidRequest("The body must be a JSON object".into()));
    }
    Ok(value)
}

/// Ok when `entity` is served, else the error for 404.
fn known(state: &Shared, entity: &str) -> Result<(), A2aError> {
    match state.agent(entity) {
        Some(_) => Ok(()),
        None => Err(A2aError::MethodNotFound(format!("no agent named {entity}"))),
    }
}

/// A result or its error.
fn answer(result: Result<Value, A2aError>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(e) => error(&e),
    }
}

/// `POST /a2a/{entity}/message:send`.
pub(crate) async fn send(
    State(state): State<Shared>,
    Path(entity): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let params = match body_json(&state, &entity, body) {
        Ok(params) => params,
        Err(e) => return error(&e),
    };
    answer(ops::send(&state, &entity, &params, Version::V1).await)
}

/// `POST /a2a/{entity}/message:stream`: SSE whose data are `StreamResponse`s.
pub(crate) async fn stream(
    State(state): State<Shared>,
    Path(entity): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let params = match body_json(&state, &entity, body) {
        Ok(params) => params,
        Err(e) => return error(&e),
    };
    match ops::stream(&state, &entity, &params, Version::V1).await {
        Ok(events) => {
            let events = events.map(|value| {
                let value = value.unwrap_or_else(|error| error.rest_response().1);
                Ok::<_, std::convert::Infallible>(Event::default().data(value.to_string()))
            });
            Sse::new(events).keep_alive(KeepAlive::new().interval(state.config.keep_alive)).into_response()
        }
        Err(e) => error(&e),
    }
}

/// The query as params (`historyLength=2` → `{"historyLength": "2"}`).
fn query_params(query: HashMap<String, String>, id: Option<&str>) -> Value {
    let mut params: serde_json::Map<String, Value> =
        query.into_iter().map(|(key, value)| (key, Value::String(value))).collect();
    if let Some(id) = id {
        params.insert("id".into(), Value::String(id.into()));
    }
    Value::Object(params)
}

/// `GET /a2a/{entity}/tasks`.
pub(crate) async fn list(
    State(state): State<Shared>,
    Path(entity): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = known(&state, &entity) {
        return error(&e);
    }
    answer(ops::list(&state, &entity, &query_params(query, None)).await)
}

/// `GET /a2a/{entity}/tasks/{id}`.
pub(crate) async fn get_task(
    State(state): State<Shared>,
    Path((entity, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = known(&state, &entity) {
        return error(&e);
    }
    if id.ends_with(":subscribe") {
        return error(&A2aError::UnsupportedOperation(
            "SubscribeToTask is not supported by this server".into(),
        ));
    }
    answer(ops::get(&state, &entity, &query_params(query, Some(&id)), Version::V1).await)
}

/// `SubscribeToTask`: SSE of the task and its updates.
async fn subscribe(state: &Shared, entity: &str, id: &str) -> Response {
    let params = query_params(HashMap::new(), Some(id));
    match ops::subscribe(state, entity, &params, Version::V1).await {
        Ok(events) => {
            let events = events.map(|value| {
                let value = value.unwrap_or_else(|error| error.rest_response().1);
                Ok::<_, std::convert::Infallible>(Event::default().data(value.to_string()))
            });
            Sse::new(events).keep_alive(KeepAlive::new().interval(state.config.keep_alive)).into_response()
        }
        Err(e) => error(&e),
    }
}

/// `POST /a2a/{entity}/tasks/{id}:cancel`, and `POST …/tasks/{id}:subscribe` as the `a2a-sdk`
/// sends it (the spec's mapping says GET; both are served). axum matches the whole segment, so
/// the action is read from its end.
pub(crate) async fn task_action(
    State(state): State<Shared>,
    Path((entity, segment)): Path<(String, String)>,
) -> Response {
    if let Err(e) = known(&state, &entity) {
        return error(&e);
    }
    match segment.rsplit_once(':') {
        Some((id, "cancel")) => {
            let params = query_params(HashMap::new(), Some(id));
            answer(ops::cancel(&state, &entity, &params, Version::V1).await)
        }
        Some((id, "subscribe")) => subscribe(&state, &entity, id).await,
        _ => error(&A2aError::MethodNotFound(format!("POST tasks/{segment}"))),
    }
}
