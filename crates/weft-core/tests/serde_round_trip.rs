//! Every message, content, response and option type survives a JSON round trip.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use weft_core::*;

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: T) {
    let json = serde_json::to_string(&value).unwrap();
    let back: T = serde_json::from_str(&json).unwrap();
    assert_eq!(back, value, "{json}");
}

#[test]
fn every_content_kind_round_trips() {
    let call = FunctionCall::new("c1", "get_weather", json!({"city": "Paris"}));
    let contents = vec![
        Content::text("hi"),
        Content::Reasoning { text: "thinking".into(), signature: Some("sig".into()) },
        Content::FunctionCall(call.clone()),
        Content::FunctionResult(FunctionResult::ok("c1", json!({"t": 21}))),
        Content::FunctionResult(FunctionResult::error("c1", "boom")),
        Content::Data { media_type: "image/png".into(), base64: "iVBORw0KGgo=".into() },
        Content::Uri { uri: "https://example.com/a.pdf".into(), media_type: Some("application/pdf".into()) },
        Content::Usage(Usage::new(1, 2)),
        Content::Error { message: "filtered".into(), code: Some("content_filter".into()) },
        Content::ApprovalRequest(ApprovalRequest { id: "a1".into(), call: call.clone() }),
        Content::ApprovalResponse(ApprovalResponse { id: "a1".into(), approved: true, call }),
    ];
    for content in &contents {
        round_trip(content.clone());
    }
    for role in [Role::System, Role::User, Role::Assistant, Role::Tool] {
        round_trip(Message::new(role, contents.clone()).with_author("bot"));
    }
    assert_eq!(serde_json::to_value(Content::text("x")).unwrap(), json!({"type": "text", "text": "x"}));
}

#[test]
fn responses_updates_and_options_round_trip() {
    round_trip(ChatResponse {
        messages: vec![Message::assistant("a")],
        response_id: Some("r".into()),
        model: Some("m".into()),
        finish_reason: Some(FinishReason::Other("weird".into())),
        usage: Some(Usage::new(3, 4)),
    });
    round_trip(ChatResponseUpdate::text("delta"));
    round_trip(ChatOptions {
        model: Some("m".into()),
        temperature: Some(0.5),
        top_p: Some(0.9),
        max_tokens: Some(10),
        stop: vec!["\n".into()],
        seed: Some(1),
        tools: vec![ToolDefinition::new("t", "d", json!({"type": "object"}))],
        tool_choice: Some(ToolChoice::Function("t".into())),
        parallel_tool_calls: Some(false),
        response_format: Some(ResponseFormat::JsonSchema {
            name: "n".into(),
            schema: json!({}),
            strict: true,
        }),
        hosted_tools: vec![
            weft_core::HostedTool::WebSearch { options: serde_json::Map::new() },
            weft_core::HostedTool::FileSearch {
                vector_store_ids: vec!["vs".into()],
                max_results: Some(3),
                ranker: Some("auto".into()),
                score_threshold: Some(0.5),
                filters: Some(json!({"type": "eq", "key": "k", "value": "v"})),
            },
            weft_core::HostedTool::CodeInterpreter { file_ids: vec!["f".into()] },
        ],
        extra: serde_json::Map::from_iter([("reasoning_effort".to_string(), json!("low"))]),
        budget: None,
    });
    round_trip(AgentSession::new());
}

#[test]
fn folding_joins_deltas_and_sums_usage() {
    let updates = vec![
        ChatResponseUpdate { message_id: Some("m1".into()), ..ChatResponseUpdate::text("Hel") },
        ChatResponseUpdate { message_id: Some("m1".into()), ..ChatResponseUpdate::text("lo") },
        ChatResponseUpdate {
            contents: vec![Content::FunctionCall(FunctionCall::new("c", "f", json!({})))],
            message_id: Some("m1".into()),
            ..Default::default()
        },
        ChatResponseUpdate { contents: vec![Content::Usage(Usage::new(1, 1))], ..Default::default() },
        ChatResponseUpdate {
            contents: vec![Content::Usage(Usage::new(2, 2))],
            finish_reason: Some(FinishReason::ToolCalls),
            ..Default::default()
        },
    ];
    let response = fold_updates(updates);
    assert_eq!(response.messages.len(), 1);
    assert_eq!(response.messages[0].text(), "Hello");
    assert_eq!(response.messages[0].contents.len(), 2);
    assert_eq!(response.usage, Some(Usage::new(3, 3)));
    assert_eq!(response.finish_reason, Some(FinishReason::ToolCalls));
    // A response turned into updates folds back to itself.
    let original = ChatResponse { usage: Some(Usage::new(5, 6)), ..ChatResponse::text("whole") };
    let back = fold_updates(original.clone().into_updates());
    assert_eq!(back.text_content(), "whole");
    assert_eq!(back.usage, original.usage);
}
