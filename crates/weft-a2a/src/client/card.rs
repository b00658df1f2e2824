//! Agent cards as the client reads them: the name, the description and the interfaces a card
//! offers (1.0's `supportedInterfaces`, 0.3's `url` / `preferredTransport` /
//! `additionalInterfaces`), and the choice of the one to call.

use serde_json::Value;

use super::error::{A2aClientError, A2aClientErrorKind};
use crate::model::Version;

/// A protocol binding the client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Binding {
    /// JSON-RPC 2.0 over HTTP (`JSONRPC`), protocol 1.0 or 0.3.
    JsonRpc,
    /// HTTP+JSON (`HTTP+JSON`, REST), protocol 1.0.
    HttpJson,
}

/// One interface of a card: where and how to call the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// The endpoint URL.
    pub url: String,
    /// The binding.
    pub binding: Binding,
    /// The protocol version.
    pub version: Version,
}

/// What the client takes from an agent card.
#[derive(Debug, Clone)]
pub struct AgentCard {
    /// The agent's name.
    pub name: String,
    /// What it does.
    pub description: Option<String>,
    /// Whether it streams (`capabilities.streaming`).
    pub streaming: bool,
    /// The interfaces this client can use, in the card's order.
    pub interfaces: Vec<Interface>,
    /// The card as served.
    pub raw: Value,
}

/// The version a card's `protocolVersion` names (`1.0`, `0.3.0`, …), if one this client speaks.
fn version_of(text: &str) -> Option<Version> {
    if text == "1" || text.starts_with("1.") {
        Some(Version::V1)
    } else if text.starts_with("0.3") {
        Some(Version::V03)
    } else {
        None
    }
}

/// The binding a card names, if one this client speaks.
fn binding_of(text: &str) -> Option<Binding> {
    match text.to_ascii_uppercase().as_str() {
        "JSONRPC" | "JSON-RPC" => Some(Binding::JsonRpc),
        "HTTP+JSON" | "REST" | "HTTP_JSON" => Some(Binding::HttpJson),
        _ => None,
    }
}

impl AgentCard {
    /// Reads a card; `card_url` names it in errors.
    pub fn parse(raw: Value, card_url: &str) -> Result<Self, A2aClientError> {
        let malformed = |what: &str| A2aClientError::new(A2aClientErrorKind::MalformedCard, card_url, what);
        if !raw.is_object() {
            return Err(malformed("the card is not a JSON object"));
        }
        let name = raw
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| malformed("the card has no name"))?
            .to_string();
        let description = raw.get("description").and_then(Value::as_str).map(str::to_string);
        let streaming = raw.pointer("/capabilities/streaming").and_then(Value::as_bool).unwrap_or(false);
        let mut interfaces = Vec::new();
        let mut offered = 0;
        // 1.0: supportedInterfaces, each with its binding and version.
        for interface in raw.get("supportedInterfaces").and_then(Value::as_array).into_iter().flatten() {
            offered += 1;
            let url = interface.get("url").and_then(Value::as_str);
            let binding = interface.get("protocolBinding").and_then(Value::as_str).and_then(binding_of);
            let version = interface
                .get("protocolVersion")
                .and_then(Value::as_str)
                .map_or(Some(Version::V1), version_of);
            if let (Some(url), Some(binding), Some(version)) = (url, binding, version) {
                // HTTP+JSON is taken in 1.0 only (0.3's REST has other paths and shapes).
                if binding == Binding::JsonRpc || version == Version::V1 {
                    interfaces.push(Interface { url: url.to_string(), binding, version });
                }
            }
        }
        // 0.3: url + preferredTransport, and additionalInterfaces with their transport.
        let old_version = raw.get("protocolVersion").and_then(Value::as_str).and_then(version_of);
        if let (Some(url), Some(Version::V03)) = (raw.get("url").and_then(Value::as_str), old_version) {
            offered += 1;
            let preferred = raw.get("preferredTransport").and_then(Value::as_str).unwrap_or("JSONRPC");
            if binding_of(preferred) == Some(Binding::JsonRpc) {
                interfaces.push(Interface {
                    url: url.to_string(),
                    binding: Binding::JsonRpc,
                    version: Version::V03,
                });
            }
            for extra in raw.get("additionalInterfaces").and_then(Value::as_array).into_iter().flatten() {
                let transport = extra.get("transport").and_then(Value::as_str).and_then(binding_of);
                if let (Some(url), Some(Binding::JsonRpc)) =
                    (extra.get("url").and_then(Value::as_str), transport)
                {
                    let interface =
                        Interface { url: url.to_string(), binding: Binding::JsonRpc, version: Version::V03 };
                    if !interfaces.contains(&interface) {
                        interfaces.push(interface);
                    }
                }
            }
        }
        if offered == 0 {
            return Err(malformed(
                "the card lists no interface (supportedInterfaces, or url and protocolVersion)",
            ));
        }
        Ok(Self { name, description, streaming, interfaces, raw })
    }

    /// The interface to call: protocol 1.0 before 0.3, and within a version `preferred` before
    /// the other binding.
    pub fn pick(&self, preferred: Binding, card_url: &str) -> Result<Interface, A2aClientError> {
        let rank = |i: &Interface| (i.version != Version::V1, i.binding != preferred);
        self.interfaces.iter().min_by_key(|i| rank(i)).cloned().ok_or_else(|| {
            A2aClientError::new(
                A2aClientErrorKind::NoSupportedInterface,
                card_url,
                "the card offers no JSON-RPC (1.0 or 0.3) or HTTP+JSON (1.0) interface",
            )
        })
    }
}

/// The card URL of an agent URL: the URL itself when it names a `.json` file, else
/// `{url}/.well-known/agent-card.json`.
pub(crate) fn card_url(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    let path = trimmed.split(['?', '#']).next().unwrap_or(trimmed);
    if path.ends_with(".json") {
        trimmed.to_string()
    } else {
        format!("{trimmed}/.well-known/agent-card.json")
    }
}
