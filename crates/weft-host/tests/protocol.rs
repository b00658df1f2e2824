//! The protocols over a real socket: Responses (JSON and SSE, continuation), Chat Completions,
//! models, errors in OpenAI's shape, and the guards (413, 401, 503, disconnect, shutdown).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{HangingAgent, TestHost, eventually, post, sse_data};
use futures::StreamExt;
use serde_json::{Value, json};
use weft_host::HostConfig;

#[tokio::test]
async fn responses_json_answers_with_tool_call_items() {
    let host = TestHost::standard(HostConfig::default(), HangingAgent::default()).await;
    let response = post(
        &format!("{}/v1/responses", host.url),
        json!({"model": "helper", "input": "Tell me the weather in Paris"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["object"], "response");
    assert_eq!(body["status"], "completed");
    assert_eq!(body["model"], "helper");
    assert!(body["id"].as_str().unwrap().starts_with("resp_"));
    let kinds: Vec<&str> =
        body["output"].as_array().unwrap().iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["function_call", "function_call_output", "message"], "{body:#}");
    let call = &body["output"][0];
    assert_eq!(call["name"], "get_weather");
    assert_eq!(serde_json::from_str::<Value>(call["arguments"].as_str().unwrap()).unwrap()["city"], "Paris");
    assert_eq!(body["output"][1]["call_id"], call["call_id"]);
    assert_eq!(body["output"][1]["output"], "weather in Paris: sunny, 21C");
    let text = body["output"][2]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("sunny, 21C"), "{text}");
    assert_eq!(body["output_text"], text);
    assert!(body["usage"]["total_tokens"].as_u64().is_some());
}

#[tokio::test]
async fn responses_sse_sends_the_standard_events_in_order_with_sequence_numbers() {
    let host = TestHost::standard(HostConfig::default(), HangingAgent::default()).await;
    let response = post(
        &format!("{}/v1/responses", host.url),
        json!({"model": "helper", "input": "Tell me the weather in Paris", "stream": true}),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let events = sse_data(&response.text().await.unwrap());
    for (n, event) in events.iter().enumerate() {
        assert_eq!(event["sequence_number"], n as u64, "{event}");
    }
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    let mut expected = vec![
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
    ];
    let deltas = kinds.iter().filter(|k| **k == "response.output_text.delta").count();
    assert!(deltas >= 1, "{kinds:?}");
    expected.extend(std::iter::repeat_n("response.output_text.delta", deltas));
    expected.extend([
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]);
    assert_eq!(kinds, expected);
    let text: String = events
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    let done = events.iter().find(|e| e["type"] == "response.output_text.done").unwrap();
    assert_eq!(done["text"], text);
    let completed = events.last().unwrap();
    assert_eq!(completed["response"]["status"], "completed");
    assert_eq!(completed["response"]["output"].as_array().unwrap().len(), 3);
    assert_eq!(events[0]["response"]["status"], "in_progress");
}

#[tokio::test]
async fn previous_response_id_continues_the_conversation() {
    let host = TestHost::standard(HostConfig::default(), HangingAgent::default()).await;
    let url = format!("{}/v1/responses", host.url);
    let first: Value =
        post(&url, json!({"model": "helper", "input": "My name is Ada."})).await.json().await.unwrap();
    let second: Value = post(
        &url,
        json!({"model": "helper", "input": "What is my name?", "previous_response_id": first["id"]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(second["previous_response_id"], first["id"]);
    assert!(second["output_text"].as_str().unwrap().contains("Ada"), "{second:#}");
    // Without the previous response, the agent does not know.
    let fresh: Value =
        post(&url, json!({"model": "helper", "input": "What is my name?"})).await.json().await.unwrap();
    assert!(!fresh["output_text"].as_str().unwrap().contains("Ada"), "{fresh:#}");
    // An unknown previous response is a 404 naming the parameter.
    let missing =
        post(&url, json!({"model": "helper", "input": "hi", "previous_response_id": "resp_nope"})).await;
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["param"], "previous_response_id");
    // `store: false` keeps nothing to continue from.
    let unstored: Value = post(&url, json!({"model": "helper", "input": "My name is Bo.", "store": false}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unstored["store"], false);
    let after =
        post(&url, json!({"model": "helper", "input": "hi", "previous_response_id": unstored["id"]})).await;
    assert_eq!(after.status(), 404);
}

#[tokio::test]
async fn errors_use_openais_error_object() {
    let host = TestHost::standard(HostConfig::default(), HangingAgent::default()).await;
    let url = format!("{}/v1/responses", host.url);
    let unknown = post(&url, json!({"model": "nobody", "input": "hi"})).await;
    assert_eq!(unknown.status(), 404);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["error"]["code"], "model_not_found");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(body["error"]["message"].as_str().unwrap().contains("nobody"));

    let bad = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("not valid JSON"), "{body}");

    let chat =
        post(&format!("{}/v1/chat/completions", host.url), json!({"model": "nobody", "messages": []})).await;
    assert_eq!(chat.status(), 404);
}

#[tokio::test]
async fn models_lists_the_agents_and_probes_answer() {
    let host = TestHost::standard(HostConfig::default(), HangingAgent::default()).await;
    let models: Value = reqwest::get(format!("{}/v1/models", host.url)).await.unwrap().json().await.unwrap();
    assert_eq!(models["object"], "list");
    let ids: Vec<&str> =
        models["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["hang", "helper"]);
    assert_eq!(models["data"][0]["object"], "model");
    assert_eq!(reqwest::get(format!("{}/liveness", host.url)).await.unwrap().status(), 200);
    assert_eq!(reqwest::get(format!("{}/readiness", host.url)).await.unwrap().status(), 200);
}

#[tokio::test]
async fn chat_completions_json_and_streamed() {
    let host = TestHost::standard(HostConfig::default(), HangingAgent::default()).await;
    let url = format!("{}/v1/chat/completions", host.url);
    let messages = json!([
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Nice to meet you, Ada."},
        {"role": "user", "content": "What is my name?"}
    ]);
    let body: Value =
        post(&url, json!({"model": "helper", "messages": messages})).await.json().await.unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert!(body["choices"][0]["message"]["content"].as_str().unwrap().contains("Ada"), "{body}");

    let streamed = post(&url, json!({"model": "helper", "messages": messages, "stream": true})).await;
    let chunks = sse_data(&streamed.text().await.unwrap());
    assert_eq!(chunks.last().unwrap(), "[DONE]");
    let chunks = &chunks[..chunks.len() - 1];
    assert!(chunks.iter().all(|c| c["object"] == "chat.completion.chunk"));
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(chunks.last().unwrap()["choices"][0]["finish_reason"], "stop");
    let text: String = chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
    assert!(text.contains("Ada"), "{text}");
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let config = HostConfig { body_limit: 1024, ..HostConfig::default() };
    let host = TestHost::standard(config, HangingAgent::default()).await;
    let response =
        post(&format!("{}/v1/responses", host.url), json!({"model": "helper", "input": "x".repeat(2048)}))
            .await;
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "request_too_large");
}

#[tokio::test]
async fn a_configured_token_is_required() {
    let config = HostConfig { token: Some("s3cret-token".into()), ..HostConfig::default() };
    let host = TestHost::standard(config, HangingAgent::default()).await;
    let url = format!("{}/v1/models", host.url);
    let client = reqwest::Client::new();
    let missing = client.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    let body = missing.text().await.unwrap();
    assert!(body.contains("invalid_api_key") && !body.contains("s3cret"), "{body}");
    assert_eq!(client.get(&url).bearer_auth("wrong").send().await.unwrap().status(), 401);
    assert_eq!(client.get(&url).bearer_auth("s3cret-token").send().await.unwrap().status(), 200);
    // The scheme is case-insensitive (RFC 9110); another scheme is refused.
    let lower = client.get(&url).header("authorization", "bearer s3cret-token").send().await.unwrap();
    assert_eq!(lower.status(), 200);
    let basic = client.get(&url).header("authorization", "Basic s3cret-token").send().await.unwrap();
    assert_eq!(basic.status(), 401);
    // The probes stay open.
    assert_eq!(client.get(format!("{}/liveness", host.url)).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn runs_beyond_the_limit_get_503_with_retry_after() {
    let hang = HangingAgent::default();
    let started = hang.started.clone();
    let config = HostConfig { max_concurrent_runs: 1, ..HostConfig::default() };
    let host = TestHost::standard(config, hang).await;
    let url = format!("{}/v1/responses", host.url);
    let first = post(&url, json!({"model": "hang", "input": "hi", "stream": true})).await;
    assert_eq!(first.status(), 200);
    eventually("the first run starts", || started.load(Ordering::SeqCst) == 1).await;
    let second = post(&url, json!({"model": "helper", "input": "hi"})).await;
    assert_eq!(second.status(), 503);
    assert_eq!(second.headers()["retry-after"], "1");
    let body: Value = second.json().await.unwrap();
    assert_eq!(body["error"]["code"], "server_busy");
    drop(first);
}

#[tokio::test]
async fn a_client_that_disconnects_mid_stream_cancels_its_run() {
    let hang = HangingAgent::default();
    let (started, dropped) = (hang.started.clone(), hang.dropped.clone());
    let config = HostConfig {
        keep_alive: Duration::from_millis(100),
        max_concurrent_runs: 1,
        ..HostConfig::default()
    };
    let host = TestHost::standard(config, hang).await;
    let url = format!("{}/v1/responses", host.url);
    let response = post(&url, json!({"model": "hang", "input": "hi", "stream": true})).await;
    let mut body = response.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("response.created"));
    eventually("the run starts", || started.load(Ordering::SeqCst) == 1).await;
    assert_eq!(dropped.load(Ordering::SeqCst), 0);
    drop(body);
    eventually("the run is dropped", || dropped.load(Ordering::SeqCst) == 1).await;
    // Its permit is back: a new run is accepted.
    let again = post(&url, json!({"model": "helper", "input": "hi"})).await;
    assert_eq!(again.status(), 200);
}

#[tokio::test]
async fn shutdown_lets_runs_finish_within_grace_then_cancels_them() {
    let hang = HangingAgent::default();
    let (started, dropped) = (hang.started.clone(), hang.dropped.clone());
    let config = HostConfig { grace: Duration::from_millis(300), ..HostConfig::default() };
    let host = TestHost::standard(config, hang).await;
    let response =
        post(&format!("{}/v1/responses", host.url), json!({"model": "hang", "input": "hi", "stream": true}))
            .await;
    eventually("the run starts", || started.load(Ordering::SeqCst) == 1).await;
    host.shutdown().await.unwrap();
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
    let events = sse_data(&response.text().await.unwrap());
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.failed", "{events:?}");
    assert_eq!(last["response"]["error"]["message"], "The server shut down before the run ended");
}

#[tokio::test]
async fn a_client_that_disconnects_from_a_json_run_cancels_it() {
    let hang = HangingAgent::default();
    let (started, dropped) = (hang.started.clone(), hang.dropped.clone());
    let host = TestHost::standard(HostConfig::default(), hang).await;
    let client = reqwest::Client::builder().timeout(Duration::from_millis(500)).build().unwrap();
    let url = format!("{}/v1/responses", host.url);
    let request = client.post(&url).json(&json!({"model": "hang", "input": "hi"})).send();
    assert!(request.await.unwrap_err().is_timeout());
    assert_eq!(started.load(Ordering::SeqCst), 1);
    eventually("the run is dropped", || dropped.load(Ordering::SeqCst) == 1).await;
}

#[tokio::test]
async fn a_run_past_its_deadline_fails_without_details() {
    let config = HostConfig { run_timeout: Duration::from_millis(200), ..HostConfig::default() };
    let host = TestHost::standard(config, HangingAgent::default()).await;
    let url = format!("{}/v1/responses", host.url);
    let body: Value = post(&url, json!({"model": "hang", "input": "hi"})).await.json().await.unwrap();
    assert_eq!(body["status"], "failed");
    assert_eq!(body["error"]["code"], "server_error");
    assert!(body["error"]["message"].as_str().unwrap().contains("limit"), "{body}");
    let streamed = post(&url, json!({"model": "hang", "input": "hi", "stream": true})).await;
    let events = sse_data(&streamed.text().await.unwrap());
    assert_eq!(events.last().unwrap()["type"], "response.failed");
    // The text already streamed is closed properly before the failure.
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"response.output_item.done"), "{kinds:?}");
}

#[tokio::test]
async fn cors_is_off_unless_an_origin_is_given() {
    let preflight = |url: String| async move {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, url)
            .header("origin", "http://app.example")
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap()
    };
    let closed = TestHost::standard(HostConfig::default(), HangingAgent::default()).await;
    let answer = preflight(format!("{}/v1/responses", closed.url)).await;
    assert!(answer.headers().get("access-control-allow-origin").is_none());
    let config = HostConfig { cors_origins: vec!["http://app.example".into()], ..HostConfig::default() };
    let open = TestHost::standard(config, HangingAgent::default()).await;
    let answer = preflight(format!("{}/v1/responses", open.url)).await;
    assert_eq!(answer.headers()["access-control-allow-origin"], "http://app.example");
}

#[tokio::test]
async fn a_failed_run_reports_no_paths_or_secrets() {
    let host =
        TestHost::start(weft_host::Host::new().agent("fail", std::sync::Arc::new(common::FailingAgent)))
            .await;
    let responses = format!("{}/v1/responses", host.url);
    let chat = format!("{}/v1/chat/completions", host.url);
    let messages = json!([{"role": "user", "content": "hi"}]);
    let answers = [
        post(&responses, json!({"model": "fail", "input": "hi"})).await,
        post(&responses, json!({"model": "fail", "input": "hi", "stream": true})).await,
        post(&chat, json!({"model": "fail", "messages": messages})).await,
        post(&chat, json!({"model": "fail", "messages": messages, "stream": true})).await,
    ];
    for answer in answers {
        let body = answer.text().await.unwrap();
        assert!(body.contains("the server's log has the details"), "{body}");
        assert!(!body.contains("/home/alice") && !body.contains("sk-secret"), "{body}");
    }
    // The failure is still a failure in each protocol's terms.
    let body: Value = post(&responses, json!({"model": "fail", "input": "hi"})).await.json().await.unwrap();
    assert_eq!(body["status"], "failed");
    let chat_error = post(&chat, json!({"model": "fail", "messages": messages})).await;
    assert_eq!(chat_error.status(), 500);
}

#[tokio::test]
async fn shutdown_lets_a_run_that_ends_within_grace_complete() {
    let hang = HangingAgent { finish_after: Some(Duration::from_millis(500)), ..HangingAgent::default() };
    let started = hang.started.clone();
    let config = HostConfig { grace: Duration::from_secs(15), ..HostConfig::default() };
    let host = TestHost::standard(config, hang).await;
    let url = host.url.clone();
    let response =
        post(&format!("{url}/v1/responses"), json!({"model": "hang", "input": "hi", "stream": true})).await;
    eventually("the run starts", || started.load(Ordering::SeqCst) == 1).await;
    let stopping = tokio::spawn(host.shutdown());
    let events = sse_data(&response.text().await.unwrap());
    assert_eq!(events.last().unwrap()["type"], "response.completed", "{events:?}");
    assert_eq!(events.last().unwrap()["response"]["output_text"], "thinking done");
    stopping.await.unwrap().unwrap();
}

#[tokio::test]
async fn extra_routes_are_served_outside_the_token_and_the_api_stays_guarded() {
    let config = HostConfig { token: Some("s3cret-token".into()), ..HostConfig::default() };
    let page = axum::Router::new().route("/", axum::routing::get(|| async { "the page" }));
    let host = TestHost::start(
        weft_host::Host::new().config(config).agent("helper", common::scripted_agent()).public_routes(page),
    )
    .await;
    let client = reqwest::Client::new();
    let page = client.get(format!("{}/", host.url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.text().await.unwrap(), "the page");
    let models = client.get(format!("{}/v1/models", host.url)).send().await.unwrap();
    assert_eq!(models.status(), 401);
    // Paths nobody serves still get the host's 404.
    let other = client.get(format!("{}/elsewhere", host.url)).send().await.unwrap();
    assert_eq!(other.status(), 404);
}
