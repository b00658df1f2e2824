//! Stored responses: `GET /v1/responses/{id}` (the response object), `DELETE` (OpenAI's deletion
//! object), `GET …/input_items` (a list page) and `POST …/cancel` (background runs only).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::items::{list, list_query};
use crate::HostState;
use crate::error::ApiError;
use crate::store::{StoredResponse, page};

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Response with id '{id}' not found."))
}

async fn load(state: &HostState, id: &str) -> Result<StoredResponse, ApiError> {
    state.store.get_response(id).await?.ok_or_else(|| not_found(id))
}

/// `GET /v1/responses/{id}`.
pub(crate) async fn get(
    State(state): State<Arc<HostState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(load(&state, &id).await?.response).into_response())
}

/// `DELETE /v1/responses/{id}`: a background run still going is cancelled first.
pub(crate) async fn delete(
    State(state): State<Arc<HostState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.background.cancel(&id).await;
    if !state.store.delete_response(&id).await? {
        return Err(not_found(&id));
    }
    Ok(axum::Json(json!({"id": id, "object": "response", "deleted": true})).into_response())
}

/// `GET /v1/responses/{id}/input_items`.
pub(crate) async fn input_items(
    State(state): State<Arc<HostState>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let query = list_query(&query)?;
    let stored = load(&state, &id).await?;
    let page = page(&stored.input_items, &query);
    Ok(axum::Json(list(page.items, page.has_more)).into_response())
}

/// `POST /v1/responses/{id}/cancel`: stops a background run; the response as it ended.
pub(crate) async fn cancel(
    State(state): State<Arc<HostState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.background.cancel(&id).await;
    let stored = load(&state, &id).await?;
    if stored.response.get("background") != Some(&Value::Bool(true)) {
        return Err(ApiError::invalid("Only responses created with background: true can be cancelled."));
    }
    Ok(axum::Json(stored.response).into_response())
}
