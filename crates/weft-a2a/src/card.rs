//! The agent card.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use weft_core::Agent;

use crate::{A2aState, PROTOCOL_VERSION};

/// `GET /a2a/{entity}/.well-known/agent-card.json`.
pub(crate) async fn agent_card(
    State(state): State<Arc<A2aState>>,
    Path(entity): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(agent) = state.agent(&entity) else {
        return (StatusCode::NOT_FOUND, Json(json!({"error": format!("no agent named {entity}")})))
            .into_response();
    };
    Json(card(&entity, agent.as_ref(), &base_url(&headers, &entity))).into_response()
}

/// The URL of `entity`'s endpoint as the client reached it (`Host`, and `X-Forwarded-Proto`
/// behind a proxy).
fn base_url(headers: &HeaderMap, entity: &str) -> String {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|s| *s == "https")
        .unwrap_or("http");
    format!("{scheme}://{host}/a2a/{entity}")
}

/// The card of `agent` served as `entity` at `url`. Its skills: the agent itself (its
/// description), then each tool it offers its model (`{entity}.{tool}`, the tool's description).
pub(crate) fn card(entity: &str, agent: &dyn Agent, url: &str) -> Value {
    let description = agent.description().map_or_else(|| format!("The Weft agent {entity}"), str::to_string);
    let mut skills = vec![json!({
        "id": entity,
        "name": agent.name(),
        "description": description,
        "tags": ["weft", "agent"],
    })];
    skills.extend(agent.tool_definitions().into_iter().map(|tool| {
        json!({
            "id": format!("{entity}.{}", tool.name),
            "name": tool.name,
            "description": tool.description,
            "tags": ["weft", "tool"],
        })
    }));
    json!({
        "name": entity,
        "description": description,
        "supportedInterfaces": [
            {"url": url, "protocolBinding": "JSONRPC", "protocolVersion": PROTOCOL_VERSION},
            {"url": url, "protocolBinding": "HTTP+JSON", "protocolVersion": PROTOCOL_VERSION},
        ],
        "version": env!("CARGO_PKG_VERSION"),
        "capabilities": {"streaming": true, "pushNotifications": false},
        "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["text/plain"],
        "skills": skills,
    })
}
