//! What outlives a request: stored responses (`GET`/`DELETE /v1/responses/{id}`, input items),
//! conversations and their items, `conversation` in `POST /v1/responses`, background runs and
//! their cancellation, runs cut short (`incomplete`), and what a cancelled or dropped turn keeps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{
    CutShortAgent, HangingAgent, TestHost, delete_json, eventually, get_json, post, post_json,
    scripted_agent, sse_data,
};
use futures::StreamExt;
use serde_json::{Value, json};
use weft_host::{Host, HostConfig, InMemoryStore, SessionStore};

fn kinds(list: &Value) -> Vec<String> {
    list["data"].as_array().unwrap().iter().map(|item| item["type"].as_str().unwrap().to_string()).collect()
}

/// Polls `GET /v1/responses/{id}` until its status is not `queued` or `in_progress`.
async fn poll(url: &str, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = get_json(&format!("{url}/v1/responses/{id}")).await;
        assert_eq!(status, 200, "{body}");
        if !matches!(body["status"].as_str(), Some("queued" | "in_progress")) {
            return body;
        }
        assert!(tokio::time::Instant::now() < deadline, "the background response did not end: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_stored_response_is_retrieved_listed_and_deleted() {
    let host = TestHost::standard(HostConfig::default(), HangingAgent::default()).await;
    let url = &host.url;
    let input = json!([{"type": "message", "role": "user", "content": "Tell me the weather in Paris"}]);
    let (status, created) =
        post_json(&format!("{url}/v1/responses"), json!({"model": "helper", "input": input})).await;
    assert_eq!(status, 200);
    let id = created["id"].as_str().unwrap();
    let (status, retrieved) = get_json(&format!("{url}/v1/responses/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(retrieved, created, "GET answers the response object as POST did");
    assert_eq!(retrieved["background"], false);
    assert_eq!(retrieved["conversation"], Value::Null);

    let (status, inputs) = get_json(&format!("{url}/v1/responses/{id}/input_items")).await;
    assert_eq!(status, 200);
    assert_eq!(inputs["object"], "list");
    assert_eq!(inputs["has_more"], false);
    let item = &inputs["data"][0];
    assert_eq!((item["type"].as_str(), item["role"].as_str()), (Some("message"), Some("user")));
    assert_eq!(item["content"][0], json!({"type": "input_text", "text": "Tell me the weather in Paris"}));
    assert_eq!(inputs["first_id"], item["id"]);
    assert_eq!(inputs["last_id"], item["id"]);

    let (status, deleted) = delete_json(&format!("{url}/v1/responses/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(deleted, json!({"id": id, "object": "response", "deleted": true}));
    let (status, missing) = get_json(&format!("{url}/v1/responses/{id}")).await;
    assert_eq!(status, 404);
    assert_eq!(missing["error"]["type"], "invalid_request_error");
    assert_eq!(delete_json(&format!("{url}/v1/responses/{id}")).await.0, 404);

    // `store: false` keeps nothing.
    let (_, unstored) =
        post_json(&format!("{url}/v1/responses"), json!({"model": "helper", "input": "hi", "store": false}))
            .await;
    assert_eq!(unstored["store"], false);
    assert_eq!(get_json(&format!("{url}/v1/responses/{}", unstored["id"].as_str().unwrap())).await.0, 404);
}

#[tokio::test]
async fn conversations_and_their_items_have_openais_shapes() {
    let host = TestHost::standard(HostConfig::default(), HangingAgent::default()).await;
    let base = format!("{}/v1/conversations", host.url);
    let items = json!([
        {"type": "message", "role": "user", "content": "one"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "two"}]},
        {"role": "user", "content": "three"}
    ]);
    let (status, conversation) =
        post_json(&base, json!({"items": items, "metadata": {"topic": "numbers"}})).await;
    assert_eq!(status, 200);
    let id = conversation["id"].as_str().unwrap();
    assert!(id.starts_with("conv_"), "{conversation}");
    assert_eq!(conversation["object"], "conversation");
    assert_eq!(conversation["metadata"], json!({"topic": "numbers"}));
    assert!(conversation["created_at"].as_u64().unwrap() > 0);
    assert_eq!(get_json(&format!("{base}/{id}")).await, (200, conversation.clone()));

    let (status, updated) =
        post_json(&format!("{base}/{id}"), json!({"metadata": {"topic": "counting"}})).await;
    assert_eq!(status, 200);
    assert_eq!(updated["metadata"], json!({"topic": "counting"}));
    assert_eq!(updated["created_at"], conversation["created_at"]);

    // Items: newest first by default, pages by `after`, oldest first with `order=asc`.
    let (status, page) = get_json(&format!("{base}/{id}/items?limit=2")).await;
    assert_eq!(status, 200);
    assert_eq!(page["object"], "list");
    assert_eq!(page["has_more"], true);
    let texts = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["content"][0]["text"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(texts(&page), ["three", "two"]);
    assert_eq!(page["first_id"], page["data"][0]["id"]);
    assert_eq!(page["last_id"], page["data"][1]["id"]);
    let after = page["last_id"].as_str().unwrap();
    let (_, rest) = get_json(&format!("{base}/{id}/items?limit=2&after={after}")).await;
    assert_eq!((texts(&rest), rest["has_more"].clone()), (vec!["one".to_string()], json!(false)));
    let (_, asc) = get_json(&format!("{base}/{id}/items?order=asc")).await;
    assert_eq!(texts(&asc), ["one", "two", "three"]);
    assert_eq!(asc["data"][1]["content"][0]["type"], "output_text");
    assert_eq!(get_json(&format!("{base}/{id}/items?limit=0")).await.0, 400);

    // Adding items answers them as a list; one item is retrieved and deleted by id.
    let (status, added) =
        post_json(&format!("{base}/{id}/items"), json!({"items": [{"role": "user", "content": "four"}]}))
            .await;
    assert_eq!(status, 200);
    assert_eq!(texts(&added), ["four"]);
    let four = added["data"][0]["id"].as_str().unwrap();
    assert_eq!(added["first_id"], four);
    let (status, item) = get_json(&format!("{base}/{id}/items/{four}")).await;
    assert_eq!((status, item["id"].as_str()), (200, Some(four)));
    let (status, after_delete) = delete_json(&format!("{base}/{id}/items/{four}")).await;
    assert_eq!(status, 200);
    assert_eq!(after_delete["object"], "conversation");
    assert_eq!(get_json(&format!("{base}/{id}/items/{four}")).await.0, 404);

    let (status, deleted) = delete_json(&format!("{base}/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(deleted, json!({"id": id, "object": "conversation.deleted", "deleted": true}));
    let (status, missing) = get_json(&format!("{base}/{id}")).await;
    assert_eq!(status, 404);
    assert!(missing["error"]["message"].as_str().unwrap().contains(id), "{missing}");
    assert_eq!(get_json(&format!("{base}/{id}/items")).await.0, 404);

    // Metadata values are strings.
    assert_eq!(post_json(&base, json!({"metadata": {"n": 1}})).await.0, 400);
}

#[tokio::test]
async fn a_response_continues_a_conversation_and_appends_its_turn() {
    let host = TestHost::standard(HostConfig::default(), HangingAgent::default()).await;
    let url = &host.url;
    let (_, conversation) = post_json(
        &format!("{url}/v1/conversations"),
        json!({"items": [{"role": "user", "content": "My name is Ada."}]}),
    )
    .await;
    let id = conversation["id"].as_str().unwrap();
    let (status, answer) = post_json(
        &format!("{url}/v1/responses"),
        json!({"model": "helper", "input": "What is my name?", "conversation": id}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["output_text"].as_str().unwrap().contains("Ada"), "{answer}");
    assert_eq!(answer["conversation"], json!({"id": id}));
    // The object form continues it too, and each turn's input and output are appended.
    let (_, weather) = post_json(
        &format!("{url}/v1/responses"),
        json!({"model": "helper", "input": "Tell me the weather in Paris", "conversation": {"id": id}}),
    )
    .await;
    assert_eq!(weather["status"], "completed");
    let (_, items) = get_json(&format!("{url}/v1/conversations/{id}/items?order=asc")).await;
    assert_eq!(
        kinds(&items),
        ["message", "message", "message", "message", "function_call", "function_call_output", "message"]
    );
    assert_eq!(items["data"][4]["call_id"], weather["output"][0]["call_id"]);
    assert_eq!(items["data"][6]["id"], weather["output"][2]["id"]);

    // `conversation` and `previous_response_id` exclude each other; an unknown one is a 404.
    let (status, both) = post_json(
        &format!("{url}/v1/responses"),
        json!({"model": "helper", "input": "hi", "conversation": id, "previous_response_id": answer["id"]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(both["error"]["param"], "conversation");
    let (status, unknown) = post_json(
        &format!("{url}/v1/responses"),
        json!({"model": "helper", "input": "hi", "conversation": "conv_nope"}),
    )
    .await;
    assert_eq!((status, unknown["error"]["param"].as_str()), (404, Some("conversation")));
}

/// Two turns at once on one conversation: both turns' items are kept.
async fn concurrent_turns_lose_no_items(store: Arc<dyn SessionStore>) {
    let host = TestHost::start(Host::new().store(store).agent("helper", scripted_agent())).await;
    let url = &host.url;
    let (_, conversation) = post_json(&format!("{url}/v1/conversations"), json!({})).await;
    let id = conversation["id"].as_str().unwrap();
    let responses = format!("{url}/v1/responses");
    let turn = |text: &'static str| {
        post_json(&responses, json!({"model": "helper", "input": text, "conversation": id}))
    };
    let ((a, _), (b, _)) = tokio::join!(turn("hello from a"), turn("hello from b"));
    assert_eq!((a, b), (200, 200));
    let (_, items) = get_json(&format!("{url}/v1/conversations/{id}/items?order=asc")).await;
    assert_eq!(items["data"].as_array().unwrap().len(), 4, "{items:#}");
    let inputs: Vec<&str> = items["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["role"] == "user")
        .map(|item| item["content"][0]["text"].as_str().unwrap())
        .collect();
    assert!(inputs.contains(&"hello from a") && inputs.contains(&"hello from b"), "{inputs:?}");
}

#[tokio::test]
async fn concurrent_turns_on_one_conversation_lose_no_items_in_memory() {
    concurrent_turns_lose_no_items(Arc::new(InMemoryStore::default())).await;
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn concurrent_turns_on_one_conversation_lose_no_items_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = weft_host::SqliteStore::open(dir.path().join("weft.db")).await.unwrap();
    concurrent_turns_lose_no_items(Arc::new(store)).await;
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn conversations_and_responses_survive_a_restart_with_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weft.db");
    let start = |store: weft_host::SqliteStore| {
        TestHost::start(Host::new().store(Arc::new(store)).agent("helper", scripted_agent()))
    };
    let host = start(weft_host::SqliteStore::open(&path).await.unwrap()).await;
    let (_, conversation) = post_json(&format!("{}/v1/conversations", host.url), json!({})).await;
    let id = conversation["id"].as_str().unwrap().to_string();
    let (_, first) = post_json(
        &format!("{}/v1/responses", host.url),
        json!({"model": "helper", "input": "My name is Ada.", "conversation": id}),
    )
    .await;
    host.shutdown().await.unwrap();

    let host = start(weft_host::SqliteStore::open(&path).await.unwrap()).await;
    let (status, retrieved) =
        get_json(&format!("{}/v1/responses/{}", host.url, first["id"].as_str().unwrap())).await;
    assert_eq!((status, &retrieved), (200, &first));
    let (_, answer) = post_json(
        &format!("{}/v1/responses", host.url),
        json!({"model": "helper", "input": "What is my name?", "conversation": id}),
    )
    .await;
    assert!(answer["output_text"].as_str().unwrap().contains("Ada"), "{answer}");
    let (_, again) = post_json(
        &format!("{}/v1/responses", host.url),
        json!({"model": "helper", "input": "What is my name?", "previous_response_id": first["id"]}),
    )
    .await;
    assert!(again["output_text"].as_str().unwrap().contains("Ada"), "{again}");
    let (_, items) = get_json(&format!("{}/v1/conversations/{id}/items", host.url)).await;
    assert_eq!(items["data"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn a_background_response_is_polled_until_it_completes() {
    let hang = HangingAgent { finish_after: Some(Duration::from_millis(300)), ..HangingAgent::default() };
    let host = TestHost::standard(HostConfig::default(), hang).await;
    let url = &host.url;
    let (status, queued) = post_json(
        &format!("{url}/v1/responses"),
        json!({"model": "hang", "input": "hi", "background": true}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(queued["status"], "queued");
    assert_eq!(queued["background"], true);
    let done = poll(url, queued["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["output_text"], "thinking done");

    // Background needs store.
    let body = json!({"model": "hang", "input": "hi", "background": true, "store": false});
    let (status, refused) = post_json(&format!("{url}/v1/responses"), body).await;
    assert_eq!((status, refused["error"]["param"].as_str()), (400, Some("background")));
}

#[tokio::test]
async fn a_streamed_background_response_goes_on_when_its_client_leaves() {
    let hang = HangingAgent { finish_after: Some(Duration::from_millis(300)), ..HangingAgent::default() };
    let (started, dropped) = (hang.started.clone(), hang.dropped.clone());
    let host = TestHost::standard(HostConfig::default(), hang).await;
    let url = &host.url;
    let body = json!({"model": "hang", "input": "hi", "background": true, "stream": true});
    // A client that reads to the end gets the whole stream.
    let events = sse_data(&post(&format!("{url}/v1/responses"), body.clone()).await.text().await.unwrap());
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"response.created"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"response.completed"), "{kinds:?}");
    assert_eq!(events.last().unwrap()["response"]["background"], true);
    // A client that leaves does not stop the run: it completes and is stored.
    let response = post(&format!("{url}/v1/responses"), body).await;
    let mut stream = response.bytes_stream();
    let first = String::from_utf8(stream.next().await.unwrap().unwrap().to_vec()).unwrap();
    let created = sse_data(&first).into_iter().find(|e| e["type"] == "response.created").unwrap();
    eventually("the run starts", || started.load(Ordering::SeqCst) == 2).await;
    drop(stream);
    let done = poll(url, created["response"]["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["output_text"], "thinking done");
    assert_eq!(dropped.load(Ordering::SeqCst), 2, "both runs ended");
}

#[tokio::test]
async fn cancelling_a_background_response_stops_its_run_and_keeps_the_partial_output_only_in_it() {
    let hang = HangingAgent::default();
    let (started, dropped) = (hang.started.clone(), hang.dropped.clone());
    let host = TestHost::standard(HostConfig::default(), hang).await;
    let url = &host.url;
    let (_, conversation) = post_json(&format!("{url}/v1/conversations"), json!({})).await;
    let conversation = conversation["id"].as_str().unwrap();
    let (_, queued) = post_json(
        &format!("{url}/v1/responses"),
        json!({"model": "hang", "input": "hi", "background": true, "conversation": conversation}),
    )
    .await;
    let id = queued["id"].as_str().unwrap();
    eventually("the run starts", || started.load(Ordering::SeqCst) == 1).await;
    // Let the first text reach the run's events before cancelling.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, cancelled) = post_json(&format!("{url}/v1/responses/{id}/cancel"), json!({})).await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(dropped.load(Ordering::SeqCst), 1, "the run is dropped");
    let (_, retrieved) = get_json(&format!("{url}/v1/responses/{id}")).await;
    assert_eq!(retrieved["status"], "cancelled");
    assert_eq!(retrieved["output_text"], "thinking", "the partial output is kept in the response");
    let (_, items) = get_json(&format!("{url}/v1/conversations/{conversation}/items")).await;
    assert_eq!(items["data"], json!([]), "nothing of a cancelled turn enters the conversation");
    // Cancelling again answers the same; a response that was not background cannot be.
    assert_eq!(
        post_json(&format!("{url}/v1/responses/{id}/cancel"), json!({})).await.1["status"],
        "cancelled"
    );
    let (_, plain) =
        post_json(&format!("{url}/v1/responses"), json!({"model": "helper", "input": "hi"})).await;
    let plain = plain["id"].as_str().unwrap();
    assert_eq!(post_json(&format!("{url}/v1/responses/{plain}/cancel"), json!({})).await.0, 400);
    assert_eq!(post_json(&format!("{url}/v1/responses/resp_nope/cancel"), json!({})).await.0, 404);
}

#[tokio::test]
async fn a_client_that_disconnects_keeps_nothing_of_its_turn() {
    let hang = HangingAgent::default();
    let (started, dropped) = (hang.started.clone(), hang.dropped.clone());
    let host = TestHost::standard(HostConfig::default(), hang).await;
    let url = &host.url;
    let (_, conversation) = post_json(
        &format!("{url}/v1/conversations"),
        json!({"items": [{"role": "user", "content": "before"}]}),
    )
    .await;
    let conversation = conversation["id"].as_str().unwrap();
    let response = post(
        &format!("{url}/v1/responses"),
        json!({"model": "hang", "input": "hi", "stream": true, "conversation": conversation}),
    )
    .await;
    let mut body = response.bytes_stream();
    let first = String::from_utf8(body.next().await.unwrap().unwrap().to_vec()).unwrap();
    let created = sse_data(&first).into_iter().find(|e| e["type"] == "response.created").unwrap();
    let id = created["response"]["id"].as_str().unwrap().to_string();
    eventually("the run starts", || started.load(Ordering::SeqCst) == 1).await;
    drop(body);
    eventually("the run is dropped", || dropped.load(Ordering::SeqCst) == 1).await;
    assert_eq!(get_json(&format!("{url}/v1/responses/{id}")).await.0, 404, "no stored response");
    let (_, items) = get_json(&format!("{url}/v1/conversations/{conversation}/items")).await;
    assert_eq!(items["data"].as_array().unwrap().len(), 1, "the conversation is as it was: {items}");
}

#[tokio::test]
async fn a_shutdown_cancels_background_runs_after_the_grace_period_and_records_them() {
    let hang = HangingAgent::default();
    let (started, dropped) = (hang.started.clone(), hang.dropped.clone());
    let store = Arc::new(InMemoryStore::default());
    let config = HostConfig { grace: Duration::from_millis(300), ..HostConfig::default() };
    let host =
        TestHost::start(Host::new().config(config).store(store.clone()).agent("hang", Arc::new(hang))).await;
    let (_, queued) = post_json(
        &format!("{}/v1/responses", host.url),
        json!({"model": "hang", "input": "hi", "background": true}),
    )
    .await;
    eventually("the run starts", || started.load(Ordering::SeqCst) == 1).await;
    host.shutdown().await.unwrap();
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
    let stored = store.get_response(queued["id"].as_str().unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.status(), "failed");
    assert_eq!(stored.response["error"]["message"], "The server shut down before the run ended");
}

#[tokio::test]
async fn runs_cut_short_end_incomplete_with_the_reason() {
    let host = TestHost::start(
        Host::new()
            .agent("length", Arc::new(CutShortAgent { iterations: false }))
            .agent("loop", Arc::new(CutShortAgent { iterations: true })),
    )
    .await;
    let url = format!("{}/v1/responses", host.url);
    let (_, length) =
        post_json(&url, json!({"model": "length", "input": "hi", "max_output_tokens": 3})).await;
    assert_eq!(length["status"], "incomplete", "{length}");
    assert_eq!(length["incomplete_details"], json!({"reason": "max_output_tokens"}));
    assert_eq!(length["max_output_tokens"], 3);
    assert_eq!(length["output_text"], "The answer is cut");
    let streamed = post(&url, json!({"model": "length", "input": "hi", "stream": true})).await;
    let events = sse_data(&streamed.text().await.unwrap());
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.incomplete");
    assert_eq!(last["response"]["incomplete_details"]["reason"], "max_output_tokens");

    let (_, looped) = post_json(&url, json!({"model": "loop", "input": "weather?"})).await;
    assert_eq!(looped["status"], "incomplete", "{looped}");
    assert_eq!(looped["incomplete_details"]["reason"], "max_iterations");
    let kinds: Vec<&str> =
        looped["output"].as_array().unwrap().iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["function_call", "function_call_output"]);
    // Chat Completions says so in its own terms.
    let chat = format!("{}/v1/chat/completions", host.url);
    let messages = json!([{"role": "user", "content": "hi"}]);
    let (_, completion) = post_json(&chat, json!({"model": "length", "messages": messages})).await;
    assert_eq!(completion["choices"][0]["finish_reason"], "length", "{completion}");
    // What it did is kept: the response can be continued.
    let (status, _) =
        post_json(&url, json!({"model": "length", "input": "go on", "previous_response_id": looped["id"]}))
            .await;
    assert_eq!(status, 200);
}

#[tokio::test]
#[ignore = "needs the openai Python SDK: scripts/test installs it"]
async fn the_openai_python_sdk_cancels_a_background_response() {
    let python = common::peer("WEFT_OPENAI_PYTHON");
    let hang = HangingAgent::default();
    let dropped = hang.dropped.clone();
    let host = TestHost::standard(HostConfig::default(), hang).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/openai_sdk_cancel.py");
    let output = tokio::process::Command::new(python)
        .arg(script)
        .arg(format!("{}/v1", host.url))
        .arg("hang")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("all checks passed"), "{stdout}");
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failed_run_is_stored_failed_and_leaves_its_conversation_as_it_was() {
    let host = TestHost::start(Host::new().agent("fail", Arc::new(common::FailingAgent))).await;
    let url = &host.url;
    let (_, conversation) = post_json(
        &format!("{url}/v1/conversations"),
        json!({"items": [{"role": "user", "content": "before"}]}),
    )
    .await;
    let conversation = conversation["id"].as_str().unwrap();
    let (_, failed) = post_json(
        &format!("{url}/v1/responses"),
        json!({"model": "fail", "input": "hi", "conversation": conversation}),
    )
    .await;
    assert_eq!(failed["status"], "failed");
    let (status, stored) = get_json(&format!("{url}/v1/responses/{}", failed["id"].as_str().unwrap())).await;
    assert_eq!((status, stored["status"].as_str()), (200, Some("failed")));
    assert_eq!(stored["output_text"], "partial", "the partial output is kept in the response");
    let (_, items) = get_json(&format!("{url}/v1/conversations/{conversation}/items")).await;
    assert_eq!(items["data"].as_array().unwrap().len(), 1, "the conversation is as it was: {items}");
    let (status, refused) = post_json(
        &format!("{url}/v1/responses"),
        json!({"model": "fail", "input": "again", "previous_response_id": failed["id"]}),
    )
    .await;
    assert_eq!((status, refused["error"]["param"].as_str()), (400, Some("previous_response_id")));
}

#[tokio::test]
async fn items_sent_back_with_their_ids_are_kept_as_new_items() {
    let host = TestHost::standard(HostConfig::default(), HangingAgent::default()).await;
    let url = &host.url;
    let (_, conversation) = post_json(&format!("{url}/v1/conversations"), json!({})).await;
    let id = conversation["id"].as_str().unwrap();
    let (_, first) = post_json(
        &format!("{url}/v1/responses"),
        json!({"model": "helper", "input": "My name is Ada.", "conversation": id}),
    )
    .await;
    // The client sends the answer it got back as input: it is added again, under a new id.
    let mut input = first["output"].as_array().unwrap().clone();
    input.push(json!({"role": "user", "content": "What is my name?"}));
    let (status, second) = post_json(
        &format!("{url}/v1/responses"),
        json!({"model": "helper", "input": input, "conversation": id}),
    )
    .await;
    assert_eq!(status, 200, "{second}");
    let (_, items) = get_json(&format!("{url}/v1/conversations/{id}/items?order=asc")).await;
    let ids: Vec<&str> =
        items["data"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 5, "{items:#}");
    let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), 5, "{ids:?}");
}
