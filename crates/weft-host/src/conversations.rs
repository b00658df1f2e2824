//! The Conversations API: `POST /v1/conversations` (with optional first `items` and
//! `metadata`), `GET`, `POST` (new metadata) and `DELETE /v1/conversations/{id}`, and its items
//! (`GET`/`POST /v1/conversations/{id}/items`, `GET`/`DELETE …/items/{item_id}`), in OpenAI's
//! shapes. `POST /v1/responses` with `conversation` continues one and appends each turn's items.
//! Metadata is held to OpenAI's limits (16 pairs, keys of 64 characters, values of 512) and a
//! conversation to [`HostConfig::max_conversation_items`](crate::HostConfig) items: beyond either,
//! 400 naming the parameter.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::HostState;
use crate::error::ApiError;
use crate::guard::JsonBody;
use crate::responses::items::{list, list_query, normalize};
use crate::run::{new_id, unix_now};
use crate::store::{Conversation, SessionStore};

/// The most items one request may add (as OpenAI allows).
const MAX_ITEMS_PER_REQUEST: usize = 20;
/// The most metadata pairs (as OpenAI allows).
const MAX_METADATA_PAIRS: usize = 16;
/// The longest metadata key, in characters (as OpenAI allows).
const MAX_METADATA_KEY: usize = 64;
/// The longest metadata value, in characters (as OpenAI allows).
const MAX_METADATA_VALUE: usize = 512;

/// The routes, under `/v1`.
pub(crate) fn routes() -> Router<Arc<HostState>> {
    Router::new()
        .route("/conversations", axum::routing::post(create))
        .route("/conversations/{id}", get(retrieve).post(update).delete(delete))
        .route("/conversations/{id}/items", get(list_items).post(add_items))
        .route("/conversations/{id}/items/{item_id}", get(get_item).delete(delete_item))
}

/// The body of `POST /v1/conversations`.
#[derive(Debug, Deserialize)]
pub(crate) struct CreateConversation {
    #[serde(default)]
    items: Option<Vec<Value>>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
}

/// The body of `POST /v1/conversations/{id}`.
#[derive(Debug, Deserialize)]
pub(crate) struct UpdateConversation {
    metadata: Map<String, Value>,
}

/// The body of `POST /v1/conversations/{id}/items`.
#[derive(Debug, Deserialize)]
pub(crate) struct AddItems {
    items: Vec<Value>,
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Conversation with id '{id}' not found."))
}

fn item_not_found(id: &str, item_id: &str) -> ApiError {
    ApiError::not_found(format!("Item with id '{item_id}' not found in conversation '{id}'."))
}

/// Metadata as OpenAI allows it: at most 16 pairs of string values, keys of at most 64
/// characters and values of at most 512.
fn metadata(given: Option<Map<String, Value>>) -> Result<Value, ApiError> {
    let given = given.unwrap_or_default();
    let refuse = |message: String| Err(ApiError::invalid_param(message, "metadata"));
    if given.len() > MAX_METADATA_PAIRS || given.values().any(|value| !value.is_string()) {
        return refuse(format!("`metadata` holds at most {MAX_METADATA_PAIRS} pairs of string values"));
    }
    for (key, value) in &given {
        if key.chars().count() > MAX_METADATA_KEY {
            return refuse(format!("`metadata` keys are at most {MAX_METADATA_KEY} characters long"));
        }
        if value.as_str().is_some_and(|value| value.chars().count() > MAX_METADATA_VALUE) {
            return refuse(format!(
                "`metadata` values are at most {MAX_METADATA_VALUE} characters long (the value of '{key}' is longer)"
            ));
        }
    }
    Ok(Value::Object(given))
}

/// The 400 for items beyond what a conversation may hold.
fn full(limit: usize) -> ApiError {
    ApiError::invalid_param(
        format!("A conversation holds at most {limit} items; start a new conversation"),
        "items",
    )
}

/// The items of a request, with ids, within the per-request limit.
fn new_items(given: &[Value]) -> Result<Vec<Value>, ApiError> {
    if given.len() > MAX_ITEMS_PER_REQUEST {
        return Err(ApiError::invalid_param(
            format!("at most {MAX_ITEMS_PER_REQUEST} items can be added at once"),
            "items",
        ));
    }
    given.iter().map(normalize).collect()
}

async fn load(store: &dyn SessionStore, id: &str) -> Result<Conversation, ApiError> {
    store.get_conversation(id).await?.ok_or_else(|| not_found(id))
}

async fn create(
    State(state): State<Arc<HostState>>,
    JsonBody(request): JsonBody<CreateConversation>,
) -> Result<Response, ApiError> {
    let items = new_items(request.items.as_deref().unwrap_or_default())?;
    if items.len() > state.config.max_conversation_items {
        return Err(full(state.config.max_conversation_items));
    }
    let conversation =
        Conversation { id: new_id("conv"), created_at: unix_now(), metadata: metadata(request.metadata)? };
    state.store.create_conversation(conversation.clone(), items).await?;
    Ok(axum::Json(conversation.to_json()).into_response())
}

async fn retrieve(State(state): State<Arc<HostState>>, Path(id): Path<String>) -> Result<Response, ApiError> {
    Ok(axum::Json(load(state.store.as_ref(), &id).await?.to_json()).into_response())
}

async fn update(
    State(state): State<Arc<HostState>>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<UpdateConversation>,
) -> Result<Response, ApiError> {
    let metadata = metadata(Some(request.metadata))?;
    let conversation = state.store.update_conversation(&id, metadata).await?.ok_or_else(|| not_found(&id))?;
    Ok(axum::Json(conversation.to_json()).into_response())
}

async fn delete(State(state): State<Arc<HostState>>, Path(id): Path<String>) -> Result<Response, ApiError> {
    if !state.store.delete_conversation(&id).await? {
        return Err(not_found(&id));
    }
    crate::responses::conversation_state::forget(&state, &id).await;
    Ok(axum::Json(json!({"id": id, "object": "conversation.deleted", "deleted": true})).into_response())
}

async fn list_items(
    State(state): State<Arc<HostState>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let query = list_query(&query)?;
    let page = state.store.list_items(&id, query).await?.ok_or_else(|| not_found(&id))?;
    Ok(axum::Json(list(page.items, page.has_more)).into_response())
}

async fn add_items(
    State(state): State<Arc<HostState>>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<AddItems>,
) -> Result<Response, ApiError> {
    let items = new_items(&request.items)?;
    match state.store.append_items(&id, items.clone(), state.config.max_conversation_items).await {
        Ok(true) => {}
        Ok(false) => return Err(not_found(&id)),
        Err(crate::store::StoreError::Full { limit }) => return Err(full(limit)),
        Err(error) => return Err(error.into()),
    }
    Ok(axum::Json(list(items, false)).into_response())
}

async fn get_item(
    State(state): State<Arc<HostState>>,
    Path((id, item_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    load(state.store.as_ref(), &id).await?;
    let item = state.store.get_item(&id, &item_id).await?.ok_or_else(|| item_not_found(&id, &item_id))?;
    Ok(axum::Json(item).into_response())
}

/// Removes an item; answers the conversation, as OpenAI does.
async fn delete_item(
    State(state): State<Arc<HostState>>,
    Path((id, item_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let conversation = load(state.store.as_ref(), &id).await?;
    if !state.store.delete_item(&id, &item_id).await? {
        return Err(item_not_found(&id, &item_id));
    }
    Ok(axum::Json(conversation.to_json()).into_response())
}
