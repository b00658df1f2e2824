//! The shared provider conformance suite against both OpenAI clients: on mock servers speaking
//! Chat Completions and Responses as OpenAI's API reference shows them, and on llama-server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/llama.rs"]
mod llama;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use weft_core::ChatClient;
use weft_openai::{OpenAI, OpenAIBuilder};
use weft_provider_conformance::{
    Endpoint, Finish, Harness, Incoming, Reply, WireScript, live_suite, mock_suite,
};

/// OpenAI's error object for `status`.
fn error_object(status: u16, message: &str) -> Value {
    let (kind, code) = match status {
        401 => ("invalid_request_error", json!("invalid_api_key")),
        429 => ("requests", json!("rate_limit_exceeded")),
        500..=599 => ("server_error", Value::Null),
        _ => ("invalid_request_error", Value::Null),
    };
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

/// Chat Completions' bytes: a `chat.completion`, or `chat.completion.chunk` events then
/// `data: [DONE]`.
struct ChatCompletions;

fn chat_finish(finish: Finish) -> &'static str {
    match finish {
        Finish::Stop => "stop",
        Finish::Length => "length",
        Finish::ToolCalls => "tool_calls",
    }
}

fn chunk(reply: &Reply, delta: Value, finish: Value) -> String {
    let chunk = json!({"id": reply.id, "object": "chat.completion.chunk", "created": 1694268190,
        "model": reply.model, "system_fingerprint": "fp_44709d6fcb",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}], "usage": null});
    format!("data: {chunk}\n\n")
}

impl WireScript for ChatCompletions {
    fn path(&self) -> &'static str {
        "/v1/chat/completions"
    }

    fn whole(&self, reply: &Reply) -> Value {
        let mut message = json!({"role": "assistant", "content": null, "refusal": null, "annotations": []});
        if !reply.text.is_empty() {
            message["content"] = json!(reply.joined_text());
        }
        if !reply.calls.is_empty() {
            message["tool_calls"] = reply
                .calls
                .iter()
                .map(|call| {
                    json!({"id": call.id, "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments.to_string()}})
                })
                .collect();
        }
        json!({
            "id": reply.id, "object": "chat.completion", "created": 1741569952, "model": reply.model,
            "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": chat_finish(reply.finish)}],
            "usage": {"prompt_tokens": reply.input_tokens, "completion_tokens": reply.output_tokens,
                "total_tokens": reply.input_tokens + reply.output_tokens},
            "service_tier": "default"
        })
    }

    fn stream(&self, reply: &Reply) -> Vec<Vec<u8>> {
        let mut frames = vec![chunk(reply, json!({"role": "assistant", "content": ""}), Value::Null)];
        for delta in &reply.text {
            frames.push(chunk(reply, json!({"content": delta}), Value::Null));
        }
        for (index, call) in reply.calls.iter().enumerate() {
            frames.push(chunk(
                reply,
                json!({"tool_calls": [{"index": index, "id": call.id, "type": "function",
                    "function": {"name": call.name, "arguments": ""}}]}),
                Value::Null,
            ));
            let arguments = call.arguments.to_string();
            let (head, tail) = arguments.split_at(arguments.len() / 2);
            for part in [head, tail] {
                frames.push(chunk(
                    reply,
                    json!({"tool_calls": [{"index": index, "function": {"arguments": part}}]}),
                    Value::Null,
                ));
            }
        }
        frames.push(chunk(reply, json!({}), json!(chat_finish(reply.finish))));
        let usage = json!({"id": reply.id, "object": "chat.completion.chunk", "created": 1694268190,
            "model": reply.model, "system_fingerprint": "fp_44709d6fcb", "choices": [],
            "usage": {"prompt_tokens": reply.input_tokens, "completion_tokens": reply.output_tokens,
                "total_tokens": reply.input_tokens + reply.output_tokens}});
        frames.push(format!("data: {usage}\n\n"));
        frames.push("data: [DONE]\n\n".to_string());
        frames.into_iter().map(String::into_bytes).collect()
    }

    fn frame(&self, data: &str) -> Vec<u8> {
        format!("data: {data}\n\n").into_bytes()
    }

    fn error(&self, status: u16, message: &str) -> Value {
        error_object(status, message)
    }
}

/// The Responses API's bytes: a `response` object, or its typed SSE events.
struct Responses;

fn response_object(reply: &Reply, status: &str, output: Vec<Value>) -> Value {
    let incomplete = match reply.finish {
        Finish::Length => json!({"reason": "max_output_tokens"}),
        _ => Value::Null,
    };
    json!({
        "id": reply.id, "object": "response", "created_at": 1741476542, "status": status,
        "error": null, "incomplete_details": incomplete, "model": reply.model, "output": output,
        "parallel_tool_calls": true, "usage": {"input_tokens": reply.input_tokens,
            "input_tokens_details": {"cached_tokens": 0}, "output_tokens": reply.output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": reply.input_tokens + reply.output_tokens}
    })
}

fn status(reply: &Reply) -> &'static str {
    if reply.finish == Finish::Length { "incomplete" } else { "completed" }
}

fn message_item(reply: &Reply) -> Value {
    json!({"type": "message", "id": "msg_67ccd2bf17f0819081ff3bb2cf6508e6", "status": "completed",
        "role": "assistant", "content": [{"type": "output_text", "text": reply.joined_text(), "annotations": []}]})
}

fn call_items(reply: &Reply) -> Vec<Value> {
    reply
        .calls
        .iter()
        .enumerate()
        .map(|(index, call)| {
            json!({"type": "function_call", "id": format!("fc_{index}"), "call_id": call.id,
            "name": call.name, "arguments": call.arguments.to_string(), "status": "completed"})
        })
        .collect()
}

fn output(reply: &Reply) -> Vec<Value> {
    let mut output = Vec::new();
    if !reply.text.is_empty() {
        output.push(message_item(reply));
    }
    output.extend(call_items(reply));
    output
}

fn typed(event: Value) -> String {
    let kind = event["type"].as_str().unwrap_or("message").to_string();
    format!("event: {kind}\ndata: {event}\n\n")
}

impl WireScript for Responses {
    fn path(&self) -> &'static str {
        "/v1/responses"
    }

    fn whole(&self, reply: &Reply) -> Value {
        response_object(reply, status(reply), output(reply))
    }

    fn stream(&self, reply: &Reply) -> Vec<Vec<u8>> {
        let mut frames = vec![typed(json!({"type": "response.created", "sequence_number": 0,
            "response": response_object(reply, "in_progress", Vec::new())}))];
        let mut index = 0;
        if !reply.text.is_empty() {
            let item_id = "msg_67ccd2bf17f0819081ff3bb2cf6508e6";
            frames.push(typed(json!({"type": "response.output_item.added", "output_index": index,
                "item": {"id": item_id, "type": "message", "status": "in_progress", "role": "assistant", "content": []}})));
            frames.push(typed(
                json!({"type": "response.content_part.added", "item_id": item_id, "output_index": index,
                "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}),
            ));
            for delta in &reply.text {
                frames.push(typed(json!({"type": "response.output_text.delta", "item_id": item_id,
                    "output_index": index, "content_index": 0, "delta": delta})));
            }
            frames.push(typed(json!({"type": "response.output_text.done", "item_id": item_id,
                "output_index": index, "content_index": 0, "text": reply.joined_text()})));
            frames.push(typed(json!({"type": "response.output_item.done", "output_index": index,
                "item": message_item(reply)})));
            index += 1;
        }
        for item in call_items(reply) {
            let mut added = item.clone();
            added["arguments"] = json!("");
            added["status"] = json!("in_progress");
            frames.push(typed(
                json!({"type": "response.output_item.added", "output_index": index, "item": added}),
            ));
            let arguments = item["arguments"].as_str().unwrap_or("").to_string();
            let (head, tail) = arguments.split_at(arguments.len() / 2);
            for part in [head, tail] {
                frames.push(typed(json!({"type": "response.function_call_arguments.delta",
                    "item_id": item["id"], "output_index": index, "delta": part})));
            }
            frames.push(typed(json!({"type": "response.function_call_arguments.done",
                "item_id": item["id"], "output_index": index, "arguments": arguments})));
            frames.push(typed(
                json!({"type": "response.output_item.done", "output_index": index, "item": item}),
            ));
            index += 1;
        }
        let end = if reply.finish == Finish::Length { "response.incomplete" } else { "response.completed" };
        frames.push(typed(json!({"type": end, "response": self.whole(reply)})));
        frames.into_iter().map(String::into_bytes).collect()
    }

    fn frame(&self, data: &str) -> Vec<u8> {
        format!("event: response.output_text.delta\ndata: {data}\n\n").into_bytes()
    }

    fn error(&self, status: u16, message: &str) -> Value {
        error_object(status, message)
    }
}

fn builder(endpoint: &Endpoint) -> OpenAIBuilder {
    OpenAI::builder()
        .base_url(format!("{}/v1", endpoint.base_url))
        .api_key("sk-conformance")
        .model("gpt-conformance")
        .max_retries(endpoint.max_retries)
        .initial_retry_delay(Duration::from_millis(5))
}

fn chat_client(endpoint: &Endpoint) -> Arc<dyn ChatClient> {
    Arc::new(builder(endpoint).build().unwrap().chat())
}

fn responses_client(endpoint: &Endpoint) -> Arc<dyn ChatClient> {
    Arc::new(builder(endpoint).build().unwrap().responses())
}

mock_suite!(chat_mock, ChatCompletions, chat_client);
mock_suite!(responses_mock, Responses, responses_client);

/// The key the Azure mock takes.
const AZURE_KEY: &str = "azure-conformance";

/// Azure OpenAI's Chat Completions on its dated API
/// (`/openai/deployments/{deployment}/chat/completions?api-version=…`, the key in `api-key`), as
/// Azure's reference shows it: OpenAI's bytes plus Azure's content-filter annotations (a
/// streamed answer starts with a chunk that has no choices, only `prompt_filter_results`), and
/// Azure's own error bodies (`{"error": {"code": "429", "message": …}}`).
struct AzureChat;

fn prompt_filter_results() -> Value {
    let safe = json!({"filtered": false, "severity": "safe"});
    json!([{"prompt_index": 0, "content_filter_results": {
        "hate": safe, "self_harm": safe, "sexual": safe, "violence": safe,
        "jailbreak": {"filtered": false, "detected": false}}}])
}

impl WireScript for AzureChat {
    fn path(&self) -> &'static str {
        "/openai/deployments/{deployment}/chat/completions"
    }

    fn check_request(&self, request: Incoming<'_>) -> Result<(), String> {
        let key = request.headers.get("api-key").and_then(|v| v.to_str().ok());
        if key != Some(AZURE_KEY) || request.headers.contains_key("authorization") {
            return Err("Access denied due to invalid subscription key or wrong API endpoint. Make sure to \
                        provide a valid key for an active subscription and use a correct regional API \
                        endpoint for your resource."
                .into());
        }
        let expected = "/openai/deployments/gpt-conformance/chat/completions?api-version=";
        if !request.path_and_query.starts_with(expected) {
            return Err(format!("expected {expected}…, got {}", request.path_and_query));
        }
        Ok(())
    }

    fn whole(&self, reply: &Reply) -> Value {
        let mut whole = ChatCompletions.whole(reply);
        whole["prompt_filter_results"] = prompt_filter_results();
        let safe = json!({"filtered": false, "severity": "safe"});
        whole["choices"][0]["content_filter_results"] =
            json!({"hate": safe, "self_harm": safe, "sexual": safe, "violence": safe});
        whole
    }

    fn stream(&self, reply: &Reply) -> Vec<Vec<u8>> {
        let first = json!({"choices": [], "created": 0, "id": "", "model": "", "object": "",
            "prompt_filter_results": prompt_filter_results()});
        let mut frames = vec![format!("data: {first}\n\n").into_bytes()];
        frames.extend(ChatCompletions.stream(reply));
        frames
    }

    fn frame(&self, data: &str) -> Vec<u8> {
        ChatCompletions.frame(data)
    }

    fn error(&self, status: u16, message: &str) -> Value {
        json!({"error": {"code": status.to_string(), "message": message}})
    }
}

fn azure_chat_client(endpoint: &Endpoint) -> Arc<dyn ChatClient> {
    let openai = OpenAI::builder()
        .azure_endpoint(endpoint.base_url.clone())
        .azure_deployment("gpt-conformance")
        .azure_api_version("2024-10-21")
        .api_key(AZURE_KEY)
        .max_retries(endpoint.max_retries)
        .initial_retry_delay(Duration::from_millis(5))
        .build()
        .unwrap();
    Arc::new(openai.chat())
}

mock_suite!(azure_chat_mock, AzureChat, azure_chat_client);

/// llama-server with the tiny model.
fn llama_openai(test: &str) -> (llama::LlamaServer, OpenAI) {
    let server = llama::LlamaServer::start(&llama::peer(test), &llama::Options::default());
    let openai = OpenAI::builder()
        .base_url(server.base_url())
        .model("tiny")
        .timeout(Duration::from_secs(60))
        .max_retries(0)
        .build()
        .unwrap();
    (server, openai)
}

fn chat_on_llama() -> Harness {
    let (server, openai) = llama_openai("chat conformance");
    Harness::live(Arc::new(openai.chat()), server)
}

fn responses_on_llama() -> Harness {
    let (server, openai) = llama_openai("responses conformance");
    Harness::live(Arc::new(openai.responses()), server)
}

live_suite!(chat_llama_server, "needs llama-server: scripts/test installs it", chat_on_llama;
    text, streaming, tool_round_trip, structured_output, usage, finish_reasons);
live_suite!(responses_llama_server, "needs llama-server: scripts/test installs it", responses_on_llama;
    text, streaming, tool_round_trip, usage, finish_reasons);
