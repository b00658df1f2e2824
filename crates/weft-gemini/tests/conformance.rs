//! The shared provider conformance suite against the Gemini client: on a mock server speaking
//! `generateContent` and `streamGenerateContent?alt=sse` as Google's API reference shows them
//! (a `GenerateContentResponse` whole, or one per SSE event, each carrying the new parts and
//! `usageMetadata`, the last with its `finishReason`; errors as `{"error": {"code", "message",
//! "status"}}`), and on the LiteLLM proxy's Gemini endpoint in front of llama-server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/litellm.rs"]
mod litellm;
#[path = "../../weft-openai/tests/support/llama.rs"]
mod llama;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use weft_core::ChatClient;
use weft_gemini::Gemini;
use weft_provider_conformance::{
    Endpoint, Finish, Harness, Incoming, Reply, WireScript, live_suite, mock_suite,
};

/// The key the clients send; the mock refuses any other.
const API_KEY: &str = "conformance-gemini-key";
/// The model the clients ask for, in the path.
const MODEL: &str = "gemini-conformance";

/// The Gemini API's bytes.
struct GenerateContent;

fn finish_reason(finish: Finish) -> &'static str {
    match finish {
        // Gemini says STOP after function calls too.
        Finish::Stop | Finish::ToolCalls => "STOP",
        Finish::Length => "MAX_TOKENS",
    }
}

/// The function calls as parts. The Gemini API gives them no id (Vertex neither).
fn call_parts(reply: &Reply) -> Vec<Value> {
    reply
        .calls
        .iter()
        .map(|call| json!({"functionCall": {"name": call.name, "args": call.arguments}}))
        .collect()
}

/// `usageMetadata`: the prompt's count on every chunk, the candidates' once known.
fn usage(reply: &Reply, done: bool) -> Value {
    if done {
        json!({"promptTokenCount": reply.input_tokens, "candidatesTokenCount": reply.output_tokens,
            "totalTokenCount": reply.input_tokens + reply.output_tokens,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": reply.input_tokens}]})
    } else {
        json!({"promptTokenCount": reply.input_tokens, "totalTokenCount": reply.input_tokens,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": reply.input_tokens}]})
    }
}

/// One `GenerateContentResponse` holding `parts`, finished or not.
fn response(reply: &Reply, parts: Vec<Value>, finish: Option<Finish>) -> Value {
    let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
    if let Some(finish) = finish {
        candidate["finishReason"] = json!(finish_reason(finish));
    }
    json!({
        "candidates": [candidate],
        "usageMetadata": usage(reply, finish.is_some()),
        "modelVersion": reply.model,
        "responseId": reply.id
    })
}

/// One SSE event as the Gemini API frames it (`data: …` and CRLF line ends).
fn event(data: &str) -> Vec<u8> {
    format!("data: {data}\r\n\r\n").into_bytes()
}

impl WireScript for GenerateContent {
    fn path(&self) -> &'static str {
        "/v1beta/models/{model_method}"
    }

    fn wants_stream(&self, path_and_query: &str, _request: &Value) -> bool {
        path_and_query.contains(":streamGenerateContent")
    }

    /// The key in `x-goog-api-key`, the model and method in the path, `alt=sse` on a stream.
    fn check_request(&self, request: Incoming<'_>) -> Result<(), String> {
        let key = request.headers.get("x-goog-api-key").and_then(|key| key.to_str().ok());
        if key != Some(API_KEY) {
            return Err(format!("API key not valid (x-goog-api-key: {key:?})"));
        }
        let (path, query) = request.path_and_query.split_once('?').unwrap_or((request.path_and_query, ""));
        match path.strip_prefix(&format!("/v1beta/models/{MODEL}:")) {
            Some("generateContent") if query.is_empty() => Ok(()),
            Some("streamGenerateContent") if query.split('&').any(|pair| pair == "alt=sse") => Ok(()),
            _ => Err(format!("not a generateContent call: {}", request.path_and_query)),
        }
    }

    fn whole(&self, reply: &Reply) -> Value {
        let mut parts = Vec::new();
        if !reply.text.is_empty() {
            parts.push(json!({"text": reply.joined_text()}));
        }
        parts.extend(call_parts(reply));
        response(reply, parts, Some(reply.finish))
    }

    /// A chunk per text delta, the function calls whole in one, the finish reason and the
    /// full usage on the last.
    fn stream(&self, reply: &Reply) -> Vec<Vec<u8>> {
        let mut chunks: Vec<Vec<Value>> =
            reply.text.iter().map(|delta| vec![json!({"text": delta})]).collect();
        if !reply.calls.is_empty() {
            chunks.push(call_parts(reply));
        }
        let last = chunks.len().saturating_sub(1);
        chunks
            .into_iter()
            .enumerate()
            .map(|(at, parts)| {
                let finish = (at == last).then_some(reply.finish);
                event(&response(reply, parts, finish).to_string())
            })
            .collect()
    }

    fn frame(&self, data: &str) -> Vec<u8> {
        event(data)
    }

    fn error(&self, status: u16, message: &str) -> Value {
        let code = match status {
            400 => "INVALID_ARGUMENT",
            401 => "UNAUTHENTICATED",
            403 => "PERMISSION_DENIED",
            404 => "NOT_FOUND",
            429 => "RESOURCE_EXHAUSTED",
            503 => "UNAVAILABLE",
            504 => "DEADLINE_EXCEEDED",
            _ => "INTERNAL",
        };
        json!({"error": {"code": status, "message": message, "status": code}})
    }
}

fn client(endpoint: &Endpoint) -> Arc<dyn ChatClient> {
    Arc::new(
        Gemini::builder()
            .base_url(format!("{}/v1beta", endpoint.base_url))
            .api_key(API_KEY)
            .model(MODEL)
            .max_retries(endpoint.max_retries)
            .initial_retry_delay(Duration::from_millis(5))
            .build()
            .unwrap()
            .chat(),
    )
}

mock_suite!(mock, GenerateContent, client);

/// The LiteLLM proxy's Gemini endpoint, in front of llama-server with the tiny model.
fn start_litellm() -> Harness {
    let llama_peer = llama::peer("gemini conformance through litellm");
    let litellm_bin = litellm::peer("gemini conformance through litellm");
    let server = llama::LlamaServer::start(&llama_peer, &llama::Options::default());
    let proxy = litellm::LiteLlm::start(&litellm_bin, server.port());
    let client = Gemini::builder()
        .base_url(format!("{}/v1beta", proxy.base_url()))
        .api_key(litellm::MASTER_KEY)
        .model(litellm::MODEL)
        .timeout(Duration::from_secs(60))
        .stream_idle_timeout(Duration::from_secs(30))
        .max_retries(0)
        .build()
        .unwrap()
        .chat();
    // The proxy first: it is dropped (killed) before its backend.
    Harness::live(Arc::new(client), (proxy, server))
}

live_suite!(litellm_proxy, "needs llama-server and the LiteLLM proxy: scripts/test installs them", start_litellm;
    text, streaming, tool_round_trip, usage, finish_reasons);
