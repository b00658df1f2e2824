//! Responses API: plain and streamed answers, function calls, usage, against wiremock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use support::{ask, collect, openai, responses_sse, sse_response};
use weft_core::{ChatClient, Content, FinishReason, FunctionCall, Usage, collect_stream};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The non-streamed answer from the OpenAI API reference.
const RESPONSE: &str = r#"{
  "id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
  "object": "response",
  "created_at": 1741476542,
  "status": "completed",
  "error": null,
  "incomplete_details": null,
  "instructions": null,
  "max_output_tokens": null,
  "model": "gpt-4.1-2025-04-14",
  "output": [
    {
      "type": "message",
      "id": "msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b",
      "status": "completed",
      "role": "assistant",
      "content": [
        {
          "type": "output_text",
          "text": "In a peaceful grove beneath a silver moon, a unicorn named Lumina discovered a hidden pool.",
          "annotations": []
        }
      ]
    }
  ],
  "parallel_tool_calls": true,
  "previous_response_id": null,
  "reasoning": {"effort": null, "summary": null},
  "store": true,
  "temperature": 1.0,
  "text": {"format": {"type": "text"}},
  "tool_choice": "auto",
  "tools": [],
  "top_p": 1.0,
  "truncation": "disabled",
  "usage": {
    "input_tokens": 36,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 87,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 123
  },
  "user": null,
  "metadata": {}
}"#;

async fn serve(body: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path("/v1/responses")).respond_with(body).mount(&server).await;
    server
}

fn response_object(status: &str, output: Value, usage: Value) -> Value {
    json!({"id": "resp_1", "object": "response", "created_at": 1741290958, "status": status, "error": null,
           "incomplete_details": null, "model": "gpt-4.1-2025-04-14", "output": output, "usage": usage, "metadata": {}})
}

/// The text stream from the OpenAI streaming guide.
fn text_events() -> Vec<Value> {
    let message_done = json!({"id": "msg_1", "type": "message", "status": "completed", "role": "assistant",
        "content": [{"type": "output_text", "text": "Hi there!", "annotations": []}]});
    vec![
        json!({"type": "response.created", "sequence_number": 0, "response": response_object("in_progress", json!([]), Value::Null)}),
        json!({"type": "response.in_progress", "sequence_number": 1, "response": response_object("in_progress", json!([]), Value::Null)}),
        json!({"type": "response.output_item.added", "sequence_number": 2, "output_index": 0,
               "item": {"id": "msg_1", "type": "message", "status": "in_progress", "role": "assistant", "content": []}}),
        json!({"type": "response.content_part.added", "sequence_number": 3, "item_id": "msg_1", "output_index": 0, "content_index": 0,
               "part": {"type": "output_text", "text": "", "annotations": []}}),
        json!({"type": "response.output_text.delta", "sequence_number": 4, "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": "Hi"}),
        json!({"type": "response.output_text.delta", "sequence_number": 5, "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": " there"}),
        json!({"type": "response.output_text.delta", "sequence_number": 6, "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": "!"}),
        json!({"type": "response.output_text.done", "sequence_number": 7, "item_id": "msg_1", "output_index": 0, "content_index": 0, "text": "Hi there!"}),
        json!({"type": "response.content_part.done", "sequence_number": 8, "item_id": "msg_1", "output_index": 0, "content_index": 0,
               "part": {"type": "output_text", "text": "Hi there!", "annotations": []}}),
        json!({"type": "response.output_item.done", "sequence_number": 9, "output_index": 0, "item": message_done.clone()}),
        json!({"type": "response.completed", "sequence_number": 10, "response": response_object("completed", json!([message_done]),
               json!({"input_tokens": 37, "output_tokens": 11, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 48}))}),
    ]
}

#[tokio::test]
async fn plain_answer_with_usage_and_finish_reason() {
    let server = serve(ResponseTemplate::new(200).set_body_raw(RESPONSE, "application/json")).await;
    let response = openai(&server).responses().get_response(ask("Tell me a story")).await.unwrap();
    assert_eq!(
        response.text_content(),
        "In a peaceful grove beneath a silver moon, a unicorn named Lumina discovered a hidden pool."
    );
    assert_eq!(response.finish_reason, Some(FinishReason::Stop));
    assert_eq!(
        response.usage,
        Some(Usage { input_tokens: 36, output_tokens: 87, total_tokens: 123, ..Usage::default() })
    );
    assert_eq!(
        response.response_id.as_deref(),
        Some("resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b")
    );
    assert_eq!(response.model.as_deref(), Some("gpt-4.1-2025-04-14"));
    let body = &support::bodies(&server).await[0];
    assert_eq!(body["store"], json!(false));
    assert_eq!(body["input"], json!([{"type": "message", "role": "user", "content": "Tell me a story"}]));
}

#[tokio::test]
async fn streamed_text_arrives_one_update_per_delta() {
    let server = serve(sse_response(responses_sse(&text_events()))).await;
    let client = openai(&server).responses();
    let (updates, error) = collect(&client, ask("hi")).await;
    assert!(error.is_none(), "{error:?}");
    let texts: Vec<String> = updates.iter().map(|u| u.text_content()).filter(|t| !t.is_empty()).collect();
    assert_eq!(texts, ["Hi", " there", "!"]);
    assert!(updates.iter().all(|u| u.message_id.as_deref() == Some("resp_1")));
    let last = updates.last().unwrap();
    assert_eq!(last.finish_reason, Some(FinishReason::Stop));
    assert_eq!(
        last.contents,
        vec![Content::Usage(Usage {
            input_tokens: 37,
            output_tokens: 11,
            total_tokens: 48,
            ..Usage::default()
        })]
    );
    assert_eq!(support::bodies(&server).await[0]["stream"], json!(true));
    let folded = collect_stream(client.get_streaming_response(ask("hi"))).await.unwrap();
    assert_eq!(folded.text_content(), "Hi there!");
    assert_eq!(folded.messages.len(), 1);
}

fn call_events(calls: &[(&str, &str, &str, &[&str])], with_done_events: bool) -> Vec<Value> {
    let mut events = vec![
        json!({"type": "response.created", "response": response_object("in_progress", json!([]), Value::Null)}),
    ];
    for (index, (item_id, call_id, name, _)) in calls.iter().enumerate() {
        events.push(json!({"type": "response.output_item.added", "output_index": index,
            "item": {"type": "function_call", "id": item_id, "call_id": call_id, "name": name, "arguments": "", "status": "in_progress"}}));
    }
    // Interleave the deltas of all calls.
    let longest = calls.iter().map(|call| call.3.len()).max().unwrap_or(0);
    for step in 0..longest {
        for (index, (item_id, _, _, deltas)) in calls.iter().enumerate() {
            if let Some(delta) = deltas.get(step) {
                events.push(json!({"type": "response.function_call_arguments.delta", "item_id": item_id, "output_index": index, "delta": delta}));
            }
        }
    }
    let mut output = Vec::new();
    for (index, (item_id, call_id, name, deltas)) in calls.iter().enumerate() {
        let arguments: String = deltas.concat();
        let item = json!({"type": "function_call", "id": item_id, "call_id": call_id, "name": name, "arguments": arguments, "status": "completed"});
        if with_done_events {
            events.push(json!({"type": "response.function_call_arguments.done", "item_id": item_id, "output_index": index, "arguments": arguments}));
            events.push(
                json!({"type": "response.output_item.done", "output_index": index, "item": item.clone()}),
            );
        }
        output.push(item);
    }
    events.push(
        json!({"type": "response.completed", "response": response_object("completed", Value::Array(output),
        json!({"input_tokens": 60, "output_tokens": 25, "total_tokens": 85}))}),
    );
    events
}

fn calls_of(updates: &[weft_core::ChatResponseUpdate]) -> Vec<FunctionCall> {
    updates.iter().flat_map(|u| u.contents.iter().filter_map(Content::as_function_call).cloned()).collect()
}

#[tokio::test]
async fn streamed_function_call_arguments_split_across_events() {
    let events = call_events(
        &[(
            "fc_1234xyz",
            "call_1234xyz",
            "get_weather",
            &["{\"", "location", "\":\"", "Paris, France", "\"}"],
        )],
        true,
    );
    let server = serve(sse_response(responses_sse(&events))).await;
    let (updates, error) = collect(&openai(&server).responses(), ask("weather?")).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(
        calls_of(&updates),
        [FunctionCall::new("call_1234xyz", "get_weather", json!({"location": "Paris, France"}))]
    );
    let last = updates.last().unwrap();
    assert_eq!(last.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(
        last.contents,
        vec![Content::Usage(Usage {
            input_tokens: 60,
            output_tokens: 25,
            total_tokens: 85,
            ..Usage::default()
        })]
    );
}

#[tokio::test]
async fn two_parallel_calls_interleaved_without_done_events() {
    // A lenient server: no `function_call_arguments.done`, no `output_item.done`, no sequence numbers.
    let events = call_events(
        &[
            ("fc_a", "call_a", "get_weather", &["{\"city\":", "\"Paris\"}"]),
            ("fc_b", "call_b", "get_time", &["{\"tz\"", ":\"CET\"", "}"]),
        ],
        false,
    );
    let server = serve(sse_response(responses_sse(&events))).await;
    let (updates, error) = collect(&openai(&server).responses(), ask("weather and time?")).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(
        calls_of(&updates),
        [
            FunctionCall::new("call_a", "get_weather", json!({"city": "Paris"})),
            FunctionCall::new("call_b", "get_time", json!({"tz": "CET"})),
        ]
    );
    assert_eq!(updates.last().unwrap().finish_reason, Some(FinishReason::ToolCalls));
}

#[tokio::test]
async fn two_parallel_calls_with_done_events_are_emitted_once_each() {
    let events = call_events(
        &[("fc_a", "call_a", "f", &["{\"x\":", "1}"]), ("fc_b", "call_b", "g", &["{\"y\"", ":2}"])],
        true,
    );
    let server = serve(sse_response(responses_sse(&events))).await;
    let (updates, error) = collect(&openai(&server).responses(), ask("both")).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(
        calls_of(&updates),
        [
            FunctionCall::new("call_a", "f", json!({"x": 1})),
            FunctionCall::new("call_b", "g", json!({"y": 2}))
        ]
    );
}

#[tokio::test]
async fn plain_answer_with_function_call_and_reasoning() {
    let body = response_object(
        "completed",
        json!([
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Need the weather."}]},
            {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather", "arguments": "{\"location\":\"Paris\"}", "status": "completed"}
        ]),
        json!({"input_tokens": 5, "output_tokens": 6, "total_tokens": 11}),
    );
    let server = serve(ResponseTemplate::new(200).set_body_json(body)).await;
    let response = openai(&server).responses().get_response(ask("weather?")).await.unwrap();
    assert_eq!(
        response.messages[0].contents,
        vec![
            Content::Reasoning { text: "Need the weather.".into(), signature: None },
            Content::FunctionCall(FunctionCall::new("call_1", "get_weather", json!({"location": "Paris"}))),
        ]
    );
    assert_eq!(response.finish_reason, Some(FinishReason::ToolCalls));
}

#[tokio::test]
async fn incomplete_for_max_output_tokens_is_length() {
    let mut body = response_object(
        "incomplete",
        json!([{"type": "message", "id": "m", "role": "assistant",
        "content": [{"type": "output_text", "text": "Once upon"}]}]),
        json!({"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}),
    );
    body["incomplete_details"] = json!({"reason": "max_output_tokens"});
    let server = serve(ResponseTemplate::new(200).set_body_json(body.clone())).await;
    let response = openai(&server).responses().get_response(ask("story")).await.unwrap();
    assert_eq!(response.finish_reason, Some(FinishReason::Length));
    assert_eq!(response.text_content(), "Once upon");
    let stream = responses_sse(&[json!({"type": "response.incomplete", "response": body})]);
    let server = serve(sse_response(stream)).await;
    let (updates, error) = collect(&openai(&server).responses(), ask("story")).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(updates.last().unwrap().finish_reason, Some(FinishReason::Length));
    assert_eq!(updates.iter().map(|u| u.text_content()).collect::<String>(), "Once upon");
}

#[tokio::test]
async fn info_names_provider_model_and_endpoint() {
    let server = MockServer::start().await;
    let info = openai(&server).responses().info();
    assert_eq!(info.provider, "openai");
    assert_eq!(info.default_model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(info.endpoint, Some(format!("{}/v1", server.uri())));
}
