//! The JSON-RPC binding at `POST /a2a/{entity}`, 1.0 and 0.3.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::error::A2aError;
use crate::model::Version;
use crate::ops::{self, Shared};

/// The header that names the protocol version.
pub(crate) const VERSION_HEADER: &str = "a2a-version";

/// The version a request asks for: `Some(V1)` for `1.0`, `Some(V03)` for `0.3`, `None` without
/// the header.
pub(crate) fn requested_version(headers: &HeaderMap) -> Result<Option<Version>, A2aError> {
    let Some(value) = headers.get(VERSION_HEADER) else { return Ok(None) };
    let text = value.to_str().unwrap_or("").trim();
    match text {
        "" => Ok(None),
        "1.0" | "1" | "1.0.0" => Ok(Some(Version::V1)),
        "0.3" | "0.3.0" => Ok(Some(Version::V03)),
        other => Err(A2aError::VersionNotSupported(other.chars().take(32).collect())),
    }
}

/// A JSON-RPC error answer.
fn error_response(id: &Value, error: &A2aError) -> Response {
    Json(json!({"jsonrpc": "2.0", "id": id, "error": error.rpc_error()})).into_response()
}

/// The method a name calls, and the version its answer takes.
enum Method {
    Send,
    Stream,
    Subscribe,
    Get,
    Cancel,
    List,
    Unsupported,
}

/// What `method` is in `version` (`None`: no header, either version's names).
fn method(name: &str, version: Option<Version>) -> Option<(Method, Version)> {
    let v1 = match name {
        "SendMessage" => Some(Method::Send),
        "SendStreamingMessage" => Some(Method::Stream),
        "GetTask" => Some(Method::Get),
        "CancelTask" => Some(Method::Cancel),
        "ListTasks" => Some(Method::List),
        "SubscribeToTask" => Some(Method::Subscribe),
        "CreateTaskPushNotificationConfig"
        | "GetTaskPushNotificationConfig"
        | "ListTaskPushNotificationConfigs"
        | "DeleteTaskPushNotificationConfig"
        | "GetExtendedAgentCard" => Some(Method::Unsupported),
        _ => None,
    };
    if let Some(found) = v1 {
        return (version != Some(Version::V03)).then_some((found, Version::V1));
    }
    let v03 = match name {
        "message/send" => Method::Send,
        "message/stream" => Method::Stream,
        "tasks/get" => Method::Get,
        "tasks/cancel" => Method::Cancel,
        "tasks/resubscribe" => Method::Subscribe,
        "tasks/pushNotificationConfig/set"
        | "tasks/pushNotificationConfig/get"
        | "tasks/pushNotificationConfig/list"
        | "tasks/pushNotificationConfig/delete"
        | "agent/getAuthenticatedExtendedCard" => Method::Unsupported,
        _ => return None,
    };
    (version != Some(Version::V1)).then_some((v03, Version::V03))
}

/// `POST /a2a/{entity}`: one JSON-RPC request (batches are not part of A2A).
pub(crate) async fn handle(
    State(state): State<Shared>,
    Path(entity): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let error = A2aError::TooLarge { limit: state.config.body_limit };
            return (StatusCode::PAYLOAD_TOO_LARGE, error_response(&Value::Null, &error)).into_response();
        }
        Err(_) => {
            return error_response(
                &Value::Null,
                &A2aError::InvalidRequest("The request body could not be read".into()),
            );
        }
    };
    let request: Value = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => return error_response(&Value::Null, &A2aError::Parse(error.to_string())),
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let valid_id = matches!(id, Value::String(_) | Value::Number(_) | Value::Null);
    let name = request.get("method").and_then(Value::as_str);
    let (Some(name), true, true) = (name, valid_id, request.get("jsonrpc") == Some(&json!("2.0"))) else {
        let error = A2aError::InvalidRequest("Not a JSON-RPC 2.0 request (jsonrpc, method, id)".into());
        return error_response(if valid_id { &id } else { &Value::Null }, &error);
    };
    let requested = match requested_version(&headers) {
        Ok(version) => version,
        Err(error) => return error_response(&id, &error),
    };
    if state.agent(&entity).is_none() {
        let error = A2aError::InvalidRequest(format!("no agent named {entity}"));
        return (StatusCode::NOT_FOUND, error_response(&id, &error)).into_response();
    }
    let Some((method, version)) = method(name, requested) else {
        return error_response(&id, &A2aError::MethodNotFound(name.chars().take(64).collect()));
    };
    let params = request.get("params").cloned().unwrap_or_else(|| json!({}));
    if !params.is_object() {
        return error_response(&id, &A2aError::InvalidParams("params must be an object".into()));
    }
    let result = match method {
        Method::Send => ops::send(&state, &entity, &params, version).await,
        Method::Get => ops::get(&state, &entity, &params, version).await,
        Method::Cancel => ops::cancel(&state, &entity, &params, version).await,
        Method::List => ops::list(&state, &entity, &params).await,
        Method::Unsupported => {
            Err(A2aError::UnsupportedOperation(format!("{name} is not supported by this server")))
        }
        Method::Stream | Method::Subscribe => {
            let events = match method {
                Method::Stream => {
                    ops::stream(&state, &entity, &params, version).await.map(futures::StreamExt::boxed)
                }
                _ => ops::subscribe(&state, &entity, &params, version).await.map(futures::StreamExt::boxed),
            };
            return match events {
                Ok(events) => {
                    let events = events.map(move |result| {
                        let answer = match result {
                            Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
                            Err(error) => json!({"jsonrpc": "2.0", "id": id, "error": error.rpc_error()}),
                        };
                        Ok::<_, std::convert::Infallible>(Event::default().data(answer.to_string()))
                    });
                    Sse::new(events)
                        .keep_alive(KeepAlive::new().interval(state.config.keep_alive))
                        .into_response()
                }
                Err(error) => error_response(&id, &error),
            };
        }
    };
    match result {
        Ok(result) => Json(json!({"jsonrpc": "2.0", "id": id, "result": result})).into_response(),
        Err(error) => error_response(&id, &error),
    }
}
