//! The limits of a conversation: its metadata (as OpenAI allows it: 16 pairs, keys of 64
//! characters, values of 512) and how many items it holds (`HostConfig::max_conversation_items`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{HangingAgent, TestHost, get_json, post_json};
use serde_json::{Map, Value, json};
use weft_host::HostConfig;

/// Asserts `answer` is a 400 in OpenAI's error object naming `param`.
fn refused(answer: &(u16, Value), param: &str) {
    let (status, body) = answer;
    assert_eq!(*status, 400, "{body}");
    assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
    assert_eq!(body["error"]["param"], param, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains(param), "{body}");
}

#[tokio::test]
async fn metadata_is_refused_over_openais_limits() {
    let host = TestHost::standard(HostConfig::default(), HangingAgent::default()).await;
    let url = &host.url;
    let pairs = |n: usize| -> Map<String, Value> { (0..n).map(|i| (format!("k{i}"), json!("v"))).collect() };
    let too_many = json!(pairs(17));
    let long_key = json!({"k".repeat(65): "v"});
    let long_value = json!({"k": "v".repeat(513)});
    let (_, kept) = post_json(&format!("{url}/v1/conversations"), json!({})).await;
    let id = kept["id"].as_str().unwrap();
    for metadata in [too_many, long_key, long_value] {
        refused(
            &post_json(&format!("{url}/v1/conversations"), json!({"metadata": metadata})).await,
            "metadata",
        );
        refused(
            &post_json(&format!("{url}/v1/conversations/{id}"), json!({"metadata": metadata})).await,
            "metadata",
        );
    }
    assert_eq!(get_json(&format!("{url}/v1/conversations/{id}")).await.1["metadata"], json!({}));
    // At the limits it is kept (in characters, not bytes).
    let mut full = pairs(15);
    full.insert("é".repeat(64), json!("é".repeat(512)));
    let (status, created) = post_json(&format!("{url}/v1/conversations"), json!({"metadata": full})).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["metadata"], Value::Object(full.clone()));
    let (status, updated) =
        post_json(&format!("{url}/v1/conversations/{id}"), json!({"metadata": full})).await;
    assert_eq!(status, 200, "{updated}");
}

#[tokio::test]
async fn a_conversation_holds_at_most_the_configured_items() {
    let config = HostConfig { max_conversation_items: 4, ..HostConfig::default() };
    let host = TestHost::standard(config, HangingAgent::default()).await;
    let url = &host.url;
    let item = |text: &str| json!({"type": "message", "role": "user", "content": text});
    let five: Vec<Value> = (0..5).map(|i| item(&format!("m{i}"))).collect();
    refused(&post_json(&format!("{url}/v1/conversations"), json!({"items": five})).await, "items");

    let (_, created) = post_json(&format!("{url}/v1/conversations"), json!({"items": [item("a")]})).await;
    let id = created["id"].as_str().unwrap();
    // A turn adds its input and the answer: 3 items.
    let turn = json!({"model": "helper", "input": "hello", "conversation": id});
    let (status, answered) = post_json(&format!("{url}/v1/responses"), turn.clone()).await;
    assert_eq!(status, 200, "{answered}");
    let items = format!("{url}/v1/conversations/{id}/items");
    assert_eq!(get_json(&items).await.1["data"].as_array().unwrap().len(), 3);
    // Two more would be 5: refused, and nothing is added; one more fills it.
    refused(&post_json(&items, json!({"items": [item("b"), item("c")]})).await, "items");
    assert_eq!(get_json(&items).await.1["data"].as_array().unwrap().len(), 3);
    assert_eq!(post_json(&items, json!({"items": [item("b")]})).await.0, 200);
    // A full conversation takes no other turn.
    refused(&post_json(&format!("{url}/v1/responses"), turn).await, "conversation");
    assert_eq!(get_json(&items).await.1["data"].as_array().unwrap().len(), 4);
}
