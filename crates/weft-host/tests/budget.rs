//! A run stopped by its budget (`AgentError::BudgetExceeded`): the turn keeps what the run did,
//! and the Responses API answers it `incomplete` with `incomplete_details.reason:
//! "budget_exceeded"`, streamed or not; Chat Completions says `finish_reason: "length"`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::convert::Infallible;
use std::sync::Arc;

use common::{TestHost, WeatherArgs, get_json, post, post_json, sse_data};
use serde_json::{Value, json};
use weft_core::{BudgetLimits, ChatAgent, FunctionTool, ScriptedClient};
use weft_host::Host;

/// The scripted model with a weather tool, under a budget of no tool calls: asked about the
/// weather, the model calls the tool and the budget stops the run before the call runs.
fn budgeted_host() -> Host {
    let tool =
        FunctionTool::new("get_weather", "Get the weather for a city", |args: WeatherArgs| async move {
            Ok::<_, Infallible>(format!("weather in {}: sunny, 21C", args.city))
        });
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new()))
        .name("budgeted")
        .tool(tool)
        .budget(BudgetLimits::new().max_tool_calls(0))
        .build();
    Host::new().agent("budgeted", Arc::new(agent))
}

fn types(items: &Value) -> Vec<&str> {
    items.as_array().unwrap().iter().map(|item| item["type"].as_str().unwrap()).collect()
}

/// The refused call's output names the budget.
fn assert_refused(output: &Value) {
    assert_eq!(types(output), ["function_call", "function_call_output"], "{output:#}");
    assert_eq!(output[0]["name"], "get_weather");
    assert_eq!(output[1]["call_id"], output[0]["call_id"]);
    let text = output[1]["output"].as_str().unwrap();
    assert!(text.contains("budget is exceeded"), "{text}");
}

#[tokio::test]
async fn a_run_over_its_budget_is_incomplete_and_its_turn_is_kept() {
    let host = TestHost::start(budgeted_host()).await;
    let url = &host.url;
    let (_, conversation) = post_json(&format!("{url}/v1/conversations"), json!({})).await;
    let conversation = conversation["id"].as_str().unwrap();
    let responses = format!("{url}/v1/responses");
    let (status, response) = post_json(
        &responses,
        json!({"model": "budgeted", "input": "What's the weather in Paris?", "conversation": conversation}),
    )
    .await;
    assert_eq!(status, 200, "{response}");
    assert_eq!(response["status"], "incomplete", "{response:#}");
    assert_eq!(response["incomplete_details"], json!({"reason": "budget_exceeded"}));
    assert_eq!(response["error"], Value::Null);
    assert_refused(&response["output"]);

    // The conversation keeps the turn: its input and what the run did.
    let (_, items) = get_json(&format!("{url}/v1/conversations/{conversation}/items?order=asc")).await;
    assert_eq!(types(&items["data"]), ["message", "function_call", "function_call_output"], "{items:#}");
    assert_eq!(items["data"][0]["content"][0]["text"], "What's the weather in Paris?");
    // The stored response is incomplete too, and can be continued.
    let id = response["id"].as_str().unwrap();
    let (_, stored) = get_json(&format!("{responses}/{id}")).await;
    assert_eq!(stored["status"], "incomplete");
    let (status, next) =
        post_json(&responses, json!({"model": "budgeted", "input": "hello", "previous_response_id": id}))
            .await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(next["status"], "completed", "{next:#}");
    assert_eq!(next["output_text"], "You said: hello");
}

#[tokio::test]
async fn a_streamed_run_over_its_budget_ends_with_response_incomplete() {
    let host = TestHost::start(budgeted_host()).await;
    let url = &host.url;
    let (_, conversation) = post_json(&format!("{url}/v1/conversations"), json!({})).await;
    let conversation = conversation["id"].as_str().unwrap();
    let streamed = post(
        &format!("{url}/v1/responses"),
        json!({"model": "budgeted", "input": "What's the weather in Paris?", "conversation": conversation,
               "stream": true}),
    )
    .await;
    assert_eq!(streamed.status(), 200);
    let events = sse_data(&streamed.text().await.unwrap());
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.incomplete", "{events:#?}");
    assert_eq!(last["response"]["status"], "incomplete");
    assert_eq!(last["response"]["incomplete_details"], json!({"reason": "budget_exceeded"}));
    assert_refused(&last["response"]["output"]);
    // Every item of the final response was streamed.
    let done: Vec<Value> = events
        .iter()
        .filter(|event| event["type"] == "response.output_item.done")
        .map(|event| event["item"].clone())
        .collect();
    assert_refused(&Value::Array(done));
    let (_, items) = get_json(&format!("{url}/v1/conversations/{conversation}/items?order=asc")).await;
    assert_eq!(types(&items["data"]), ["message", "function_call", "function_call_output"], "{items:#}");
}

#[tokio::test]
async fn chat_completions_end_a_run_over_its_budget_with_length() {
    let host = TestHost::start(budgeted_host()).await;
    let chat = format!("{}/v1/chat/completions", host.url);
    let messages = json!([{"role": "user", "content": "What's the weather in Paris?"}]);
    let (status, completion) = post_json(&chat, json!({"model": "budgeted", "messages": messages})).await;
    assert_eq!(status, 200, "{completion}");
    assert_eq!(completion["choices"][0]["finish_reason"], "length", "{completion}");
    let streamed = post(&chat, json!({"model": "budgeted", "messages": messages, "stream": true})).await;
    let body = streamed.text().await.unwrap();
    assert!(body.contains(r#""finish_reason":"length""#), "{body}");
    assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");
}
