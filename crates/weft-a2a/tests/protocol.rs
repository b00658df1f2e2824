//! The A2A server over a real socket, behind a Weft host: the card, each JSON-RPC method in 1.0
//! and 0.3, the HTTP+JSON binding, and the faults (unknown task, cancel of a finished task,
//! oversized and malformed bodies, unknown methods and versions, the token).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{HangingAgent, SlowAgent, TestHost, eventually, rpc, sse_data, user_message, user_message_v03};
use serde_json::{Value, json};
use weft_a2a::A2aServer;
use weft_host::HostConfig;

fn text(parts: &Value) -> String {
    parts.as_array().unwrap().iter().map(|p| p["text"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn the_card_names_the_agent_and_its_interfaces() {
    let host = TestHost::start(HostConfig::default()).await;
    let url = format!("{}/.well-known/agent-card.json", host.agent_url("helper"));
    let card: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    assert_eq!(card["name"], "helper");
    assert_eq!(card["description"], "Answers from a script");
    assert_eq!(card["capabilities"]["streaming"], true);
    assert_eq!(card["skills"][0]["id"], "helper");
    assert_eq!(card["skills"][0]["description"], "Answers from a script");
    assert_eq!(card["skills"].as_array().unwrap().len(), 1, "{card}");
    // An agent with tools has a skill per tool besides its own.
    let url = format!("{}/.well-known/agent-card.json", host.agent_url("guarded"));
    let guarded: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    assert_eq!(guarded["skills"][0]["id"], "guarded");
    assert_eq!(guarded["skills"][1]["id"], "guarded.delete_file", "{guarded}");
    assert_eq!(guarded["skills"][1]["name"], "delete_file");
    assert_eq!(guarded["skills"][1]["description"], "Delete a file");
    assert_eq!(guarded["skills"][1]["tags"], serde_json::json!(["weft", "tool"]));
    let interfaces = card["supportedInterfaces"].as_array().unwrap();
    let bindings: Vec<&str> = interfaces.iter().map(|i| i["protocolBinding"].as_str().unwrap()).collect();
    assert_eq!(bindings, ["JSONRPC", "HTTP+JSON"]);
    for interface in interfaces {
        assert_eq!(interface["url"], host.agent_url("helper"));
        assert_eq!(interface["protocolVersion"], "1.0");
    }
    let missing =
        reqwest::get(format!("{}/.well-known/agent-card.json", host.agent_url("nobody"))).await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn send_message_completes_a_task_whose_artifact_holds_the_answer() {
    let host = TestHost::start(HostConfig::default()).await;
    let (status, body) = rpc(
        &host.agent_url("helper"),
        Some("1.0"),
        "SendMessage",
        json!({"message": user_message("hello", None)}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["jsonrpc"], "2.0");
    assert_eq!(body["id"], 7);
    let task = &body["result"]["task"];
    assert_eq!(task["status"]["state"], "TASK_STATE_COMPLETED", "{body:#}");
    assert_eq!(text(&task["artifacts"][0]["parts"]), "You said: hello");
    let roles: Vec<&str> =
        task["history"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["ROLE_USER", "ROLE_AGENT"]);
    assert_eq!(task["history"][0]["taskId"], task["id"]);
    assert_eq!(task["history"][0]["contextId"], task["contextId"]);

    let (_, got) = rpc(&host.agent_url("helper"), Some("1.0"), "GetTask", json!({"id": task["id"]})).await;
    assert_eq!(got["result"]["status"]["state"], "TASK_STATE_COMPLETED");
    let (_, short) =
        rpc(&host.agent_url("helper"), Some("1.0"), "GetTask", json!({"id": task["id"], "historyLength": 1}))
            .await;
    assert_eq!(short["result"]["history"].as_array().unwrap().len(), 1);
    assert_eq!(short["result"]["history"][0]["role"], "ROLE_AGENT");
}

#[tokio::test]
async fn a_context_id_continues_the_conversation_and_list_tasks_finds_its_tasks() {
    let host = TestHost::start(HostConfig::default()).await;
    let url = host.agent_url("helper");
    let (_, first) =
        rpc(&url, Some("1.0"), "SendMessage", json!({"message": user_message("My name is Ada.", None)}))
            .await;
    let context = first["result"]["task"]["contextId"].as_str().unwrap().to_string();
    let (_, second) = rpc(
        &url,
        Some("1.0"),
        "SendMessage",
        json!({"message": user_message("What is my name?", Some(&context))}),
    )
    .await;
    assert_eq!(second["result"]["task"]["contextId"], context.as_str());
    assert_eq!(text(&second["result"]["task"]["artifacts"][0]["parts"]), "Your name is Ada.");
    // Another context knows nothing of it.
    let (_, other) =
        rpc(&url, Some("1.0"), "SendMessage", json!({"message": user_message("What is my name?", None)}))
            .await;
    assert!(text(&other["result"]["task"]["artifacts"][0]["parts"]).contains("not told me"), "{other:#}");

    let (_, listed) = rpc(&url, Some("1.0"), "ListTasks", json!({"contextId": context})).await;
    let ids: Vec<&Value> = listed["result"]["tasks"].as_array().unwrap().iter().map(|t| &t["id"]).collect();
    assert_eq!(ids, [&second["result"]["task"]["id"], &first["result"]["task"]["id"]]);
    assert_eq!(listed["result"]["totalSize"], 2);
    assert_eq!(listed["result"]["nextPageToken"], "");
    assert!(listed["result"]["tasks"][0].get("artifacts").is_none(), "artifacts only when asked");
    let (_, page) =
        rpc(&url, Some("1.0"), "ListTasks", json!({"pageSize": 2, "includeArtifacts": true})).await;
    assert_eq!(page["result"]["totalSize"], 3);
    assert_eq!(page["result"]["nextPageToken"], "2");
    assert!(page["result"]["tasks"][0]["artifacts"].is_array());
    let (_, rest) = rpc(&url, Some("1.0"), "ListTasks", json!({"pageSize": 2, "pageToken": "2"})).await;
    assert_eq!(rest["result"]["tasks"].as_array().unwrap().len(), 1);
    let (_, done) = rpc(&url, Some("1.0"), "ListTasks", json!({"status": "TASK_STATE_WORKING"})).await;
    assert_eq!(done["result"]["totalSize"], 0);
}

#[tokio::test]
async fn send_streaming_message_streams_the_task_its_pieces_and_its_end() {
    let host = TestHost::start(HostConfig::default()).await;
    let response = reqwest::Client::new()
        .post(host.agent_url("helper"))
        .header("A2A-Version", "1.0")
        .json(&json!({"jsonrpc": "2.0", "id": "s1", "method": "SendStreamingMessage",
                      "params": {"message": user_message("hello there", None)}}))
        .send()
        .await
        .unwrap();
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let events = sse_data(&response.text().await.unwrap());
    assert!(events.iter().all(|e| e["jsonrpc"] == "2.0" && e["id"] == "s1"));
    let results: Vec<&Value> = events.iter().map(|e| &e["result"]).collect();
    assert_eq!(results[0]["task"]["status"]["state"], "TASK_STATE_SUBMITTED");
    assert_eq!(results[1]["statusUpdate"]["status"]["state"], "TASK_STATE_WORKING");
    let last = results.last().unwrap();
    assert_eq!(last["statusUpdate"]["status"]["state"], "TASK_STATE_COMPLETED");
    let pieces: Vec<&Value> = results.iter().filter_map(|r| r.get("artifactUpdate")).collect();
    assert!(!pieces.is_empty());
    assert_eq!(pieces[0]["append"], false);
    assert!(pieces[1..].iter().all(|p| p["append"] == true));
    let streamed: String = pieces.iter().map(|p| text(&p["artifact"]["parts"])).collect();
    assert_eq!(streamed, "You said: hello there");
    let task_id = &results[0]["task"]["id"];
    assert!(pieces.iter().all(|p| &p["taskId"] == task_id));
}

#[tokio::test]
async fn requests_without_the_header_are_answered_in_0_3_shapes() {
    let host = TestHost::start(HostConfig::default()).await;
    let url = host.agent_url("helper");
    let (_, sent) = rpc(&url, None, "message/send", json!({"message": user_message_v03("hello")})).await;
    let task = &sent["result"];
    assert_eq!(task["kind"], "task", "{sent:#}");
    assert_eq!(task["status"]["state"], "completed");
    assert_eq!(task["artifacts"][0]["parts"][0]["kind"], "text");
    assert_eq!(text(&task["artifacts"][0]["parts"]), "You said: hello");
    assert_eq!(task["history"][1]["role"], "agent");
    let (_, got) = rpc(&url, Some("0.3"), "tasks/get", json!({"id": task["id"]})).await;
    assert_eq!(got["result"]["status"]["state"], "completed");
    let (_, refused) = rpc(&url, None, "tasks/cancel", json!({"id": task["id"]})).await;
    assert_eq!(refused["error"]["code"], -32002);

    let response = reqwest::Client::new()
        .post(&url)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "message/stream",
                      "params": {"message": user_message_v03("hi")}}))
        .send()
        .await
        .unwrap();
    let events = sse_data(&response.text().await.unwrap());
    let kinds: Vec<&str> = events.iter().map(|e| e["result"]["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"task"));
    assert_eq!(kinds.last(), Some(&"status-update"));
    assert!(kinds.contains(&"artifact-update"));
    let last = &events.last().unwrap()["result"];
    assert_eq!(last["final"], true);
    assert_eq!(last["status"]["state"], "completed");
    assert!(
        events
            .iter()
            .filter(|e| e["result"]["kind"] == "status-update")
            .rev()
            .skip(1)
            .all(|e| e["result"]["final"] == false)
    );

    // Each version's names only under its own header.
    let (_, wrong) = rpc(&url, Some("0.3"), "SendMessage", json!({"message": user_message("x", None)})).await;
    assert_eq!(wrong["error"]["code"], -32601);
    let (_, wrong) = rpc(&url, Some("1.0"), "message/send", json!({"message": user_message_v03("x")})).await;
    assert_eq!(wrong["error"]["code"], -32601);
}

#[tokio::test]
async fn cancel_task_stops_the_run_and_a_finished_task_is_not_cancelable() {
    let host = TestHost::start(HostConfig::default()).await;
    let url = host.agent_url("hang");
    let (_, sent) = rpc(
        &url,
        Some("1.0"),
        "SendMessage",
        json!({"message": user_message("go", None), "configuration": {"returnImmediately": true}}),
    )
    .await;
    let task = &sent["result"]["task"];
    assert_eq!(task["status"]["state"], "TASK_STATE_SUBMITTED", "{sent:#}");
    let (_, cancelled) = rpc(&url, Some("1.0"), "CancelTask", json!({"id": task["id"]})).await;
    assert_eq!(cancelled["result"]["status"]["state"], "TASK_STATE_CANCELED", "{cancelled:#}");
    eventually("the run to be dropped", || host.dropped.load(Ordering::SeqCst) == 1).await;
    let (_, got) = rpc(&url, Some("1.0"), "GetTask", json!({"id": task["id"]})).await;
    assert_eq!(got["result"]["status"]["state"], "TASK_STATE_CANCELED");
    let (_, again) = rpc(&url, Some("1.0"), "CancelTask", json!({"id": task["id"]})).await;
    assert_eq!(again["error"]["code"], -32002, "{again:#}");
    assert!(again["error"]["message"].as_str().unwrap().contains("canceled"));
}

#[tokio::test]
async fn a_streamed_task_that_is_cancelled_ends_its_stream_canceled() {
    let host = TestHost::start(HostConfig::default()).await;
    let url = host.agent_url("hang");
    let mut response = reqwest::Client::new()
        .post(&url)
        .header("A2A-Version", "1.0")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "SendStreamingMessage",
                      "params": {"message": user_message("go", None)}}))
        .send()
        .await
        .unwrap();
    let mut body = String::new();
    while !body.contains("artifactUpdate") {
        body.push_str(std::str::from_utf8(&response.chunk().await.unwrap().unwrap()).unwrap());
    }
    let task_id = sse_data(&body)[0]["result"]["task"]["id"].clone();
    let (_, cancelled) = rpc(&url, Some("1.0"), "CancelTask", json!({"id": task_id})).await;
    assert_eq!(cancelled["result"]["status"]["state"], "TASK_STATE_CANCELED");
    while let Some(chunk) = response.chunk().await.unwrap() {
        body.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    let last = sse_data(&body).pop().unwrap();
    assert_eq!(last["result"]["statusUpdate"]["status"]["state"], "TASK_STATE_CANCELED");
    eventually("the run to be dropped", || host.dropped.load(Ordering::SeqCst) == 1).await;
}

#[tokio::test]
async fn a_failed_run_fails_its_task_without_the_agents_error() {
    let host = TestHost::start(HostConfig::default()).await;
    let (_, sent) = rpc(
        &host.agent_url("fail"),
        Some("1.0"),
        "SendMessage",
        json!({"message": user_message("go", None)}),
    )
    .await;
    let status = &sent["result"]["task"]["status"];
    assert_eq!(status["state"], "TASK_STATE_FAILED");
    assert_eq!(status["message"]["role"], "ROLE_AGENT");
    assert!(!sent.to_string().contains("sk-secret"), "{sent:#}");
}

#[tokio::test]
async fn protocol_faults_get_their_error_codes() {
    let host = TestHost::start(HostConfig::default()).await;
    let url = host.agent_url("helper");
    let (_, unknown) = rpc(&url, Some("1.0"), "GetTask", json!({"id": "no-such-task"})).await;
    assert_eq!(unknown["error"]["code"], -32001);
    let (_, unknown) = rpc(&url, Some("1.0"), "CancelTask", json!({"id": "no-such-task"})).await;
    assert_eq!(unknown["error"]["code"], -32001);
    // An answer to a task the server never had.
    let mut answer = user_message("yes", None);
    answer["taskId"] = json!("no-such-task");
    let (_, unknown) = rpc(&url, Some("1.0"), "SendMessage", json!({"message": answer})).await;
    assert_eq!(unknown["error"]["code"], -32001, "{unknown}");
    let (_, unknown) = rpc(&url, None, "tasks/get", json!({"id": "no-such-task"})).await;
    assert_eq!(unknown["error"]["code"], -32001, "{unknown}");
    let (_, missing) = rpc(&url, Some("1.0"), "GetTask", json!({})).await;
    assert_eq!(missing["error"]["code"], -32602);
    let (_, bad) =
        rpc(&url, Some("1.0"), "SendMessage", json!({"message": {"role": "ROLE_USER", "parts": []}})).await;
    assert_eq!(bad["error"]["code"], -32602);
    let (_, method) = rpc(&url, Some("1.0"), "DoSomething", json!({})).await;
    assert_eq!(method["error"]["code"], -32601);
    let (_, push) = rpc(&url, Some("1.0"), "CreateTaskPushNotificationConfig", json!({})).await;
    assert_eq!(push["error"]["code"], -32004);
    let (_, version) = rpc(&url, Some("2.0"), "GetTask", json!({"id": "x"})).await;
    assert_eq!(version["error"]["code"], -32009);
    // A task of one agent is unknown to another.
    let (_, sent) = rpc(&url, Some("1.0"), "SendMessage", json!({"message": user_message("hi", None)})).await;
    let (_, elsewhere) =
        rpc(&host.agent_url("hang"), Some("1.0"), "GetTask", json!({"id": sent["result"]["task"]["id"]}))
            .await;
    assert_eq!(elsewhere["error"]["code"], -32001);
    // A message for a finished task cannot reopen it.
    let mut follow_up = user_message("more", None);
    follow_up["taskId"] = sent["result"]["task"]["id"].clone();
    let (_, reopened) = rpc(&url, Some("1.0"), "SendMessage", json!({"message": follow_up})).await;
    assert_eq!(reopened["error"]["code"], -32004);

    let client = reqwest::Client::new();
    let parse = client.post(&url).body("{not json").send().await.unwrap();
    assert_eq!(parse.status(), 200);
    let parse: Value = parse.json().await.unwrap();
    assert_eq!(parse["error"]["code"], -32700);
    assert_eq!(parse["id"], Value::Null);
    let invalid: Value =
        client.post(&url).json(&json!({"id": 1, "method": 3})).send().await.unwrap().json().await.unwrap();
    assert_eq!(invalid["error"]["code"], -32600);
}

#[tokio::test]
async fn an_oversized_message_is_answered_413_and_the_token_guards_a2a() {
    let config = HostConfig { body_limit: 1024, token: Some("s3cret".into()), ..HostConfig::default() };
    let host = TestHost::start(config).await;
    let client = reqwest::Client::new();
    let url = host.agent_url("helper");
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": "SendMessage",
                         "params": {"message": user_message("hi", None)}});
    let denied = client.post(&url).json(&request).send().await.unwrap();
    assert_eq!(denied.status(), 401);
    let card = client.get(format!("{url}/.well-known/agent-card.json")).send().await.unwrap();
    assert_eq!(card.status(), 401);
    let allowed = client
        .post(&url)
        .bearer_auth("s3cret")
        .header("A2A-Version", "1.0")
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);

    let big = json!({"jsonrpc": "2.0", "id": 1, "method": "SendMessage",
                     "params": {"message": user_message(&"x".repeat(4096), None)}});
    let response = client.post(&url).bearer_auth("s3cret").json(&big).send().await.unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32600);
    let rest = client
        .post(format!("{url}/message:send"))
        .bearer_auth("s3cret")
        .json(&big["params"])
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), 413);
}

#[tokio::test]
async fn the_http_json_binding_sends_gets_lists_and_cancels() {
    let host = TestHost::start(HostConfig::default()).await;
    let client = reqwest::Client::new();
    let url = host.agent_url("helper");
    let sent: Value = client
        .post(format!("{url}/message:send"))
        .json(&json!({"message": user_message("hello", None)}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let task = &sent["task"];
    assert_eq!(task["status"]["state"], "TASK_STATE_COMPLETED");
    let id = task["id"].as_str().unwrap();
    let got: Value = client.get(format!("{url}/tasks/{id}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(got["id"], id);
    let listed: Value =
        client.get(format!("{url}/tasks?pageSize=5")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["tasks"][0]["id"], id);
    let finished = client.post(format!("{url}/tasks/{id}:cancel")).send().await.unwrap();
    assert_eq!(finished.status(), 400);
    let finished: Value = finished.json().await.unwrap();
    assert_eq!(finished["error"]["details"][0]["reason"], "TASK_NOT_CANCELABLE");
    let unknown = client.get(format!("{url}/tasks/nope")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    let unknown: Value = unknown.json().await.unwrap();
    assert_eq!(unknown["error"]["status"], "NOT_FOUND");
    assert_eq!(unknown["error"]["details"][0]["reason"], "TASK_NOT_FOUND");
    let malformed = client.post(format!("{url}/message:send")).body("{").send().await.unwrap();
    assert_eq!(malformed.status(), 400);

    let stream = client
        .post(format!("{url}/message:stream"))
        .json(&json!({"message": user_message("hi", None)}))
        .send()
        .await
        .unwrap();
    let events = sse_data(&stream.text().await.unwrap());
    assert!(events[0]["task"].is_object());
    assert_eq!(events.last().unwrap()["statusUpdate"]["status"]["state"], "TASK_STATE_COMPLETED");

    let hang = host.agent_url("hang");
    let running: Value = client
        .post(format!("{hang}/message:send"))
        .json(&json!({"message": user_message("go", None), "configuration": {"returnImmediately": true}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = running["task"]["id"].as_str().unwrap();
    let cancelled: Value =
        client.post(format!("{hang}/tasks/{id}:cancel")).send().await.unwrap().json().await.unwrap();
    assert_eq!(cancelled["status"]["state"], "TASK_STATE_CANCELED");
}

#[tokio::test]
async fn a_shutdown_fails_the_runs_still_going() {
    let host = TestHost::start(HostConfig::default()).await;
    let url = host.agent_url("hang");
    let (_, sent) = rpc(
        &url,
        Some("1.0"),
        "SendMessage",
        json!({"message": user_message("go", None), "configuration": {"returnImmediately": true}}),
    )
    .await;
    host.a2a.shutdown().await;
    assert_eq!(host.dropped.load(Ordering::SeqCst), 1);
    let (_, got) = rpc(&url, Some("1.0"), "GetTask", json!({"id": sent["result"]["task"]["id"]})).await;
    assert_eq!(got["result"]["status"]["state"], "TASK_STATE_FAILED");
    let (_, refused) =
        rpc(&url, Some("1.0"), "SendMessage", json!({"message": user_message("go", None)})).await;
    assert_eq!(refused["error"]["code"], -32603);
}

#[tokio::test]
async fn a_shutdown_with_grace_lets_a_background_run_finish_and_stops_one_that_outlives_it() {
    let a2a = A2aServer::new()
        .agent("slow", Arc::new(SlowAgent { delay: Duration::from_millis(500) }))
        .agent("hang", Arc::new(HangingAgent::default()));
    let host = TestHost::start_with(HostConfig::default(), a2a).await;
    let background = json!({"returnImmediately": true});
    let (_, slow) = rpc(
        &host.agent_url("slow"),
        Some("1.0"),
        "SendMessage",
        json!({"message": user_message("go", None), "configuration": background}),
    )
    .await;
    let (_, hang) = rpc(
        &host.agent_url("hang"),
        Some("1.0"),
        "SendMessage",
        json!({"message": user_message("go", None), "configuration": background}),
    )
    .await;
    host.a2a.shutdown_after(Duration::from_secs(3)).await;
    let state = |url: String, id: Value| async move {
        let (_, got) = rpc(&url, Some("1.0"), "GetTask", json!({"id": id})).await;
        got["result"]["status"]["state"].clone()
    };
    assert_eq!(
        state(host.agent_url("slow"), slow["result"]["task"]["id"].clone()).await,
        "TASK_STATE_COMPLETED"
    );
    assert_eq!(
        state(host.agent_url("hang"), hang["result"]["task"]["id"].clone()).await,
        "TASK_STATE_FAILED"
    );
}

#[tokio::test]
async fn a_call_that_needs_approval_makes_the_task_input_required_until_answered() {
    let host = TestHost::start(HostConfig::default()).await;
    let url = host.agent_url("guarded");
    let (_, asked) = rpc(
        &url,
        Some("1.0"),
        "SendMessage",
        json!({"message": user_message("Delete the file notes.txt", None)}),
    )
    .await;
    let task = &asked["result"]["task"];
    assert_eq!(task["status"]["state"], "TASK_STATE_INPUT_REQUIRED", "{asked:#}");
    let question = &task["status"]["message"];
    assert_eq!(question["role"], "ROLE_AGENT");
    assert_eq!(question["parts"][1]["data"]["approvalRequests"][0]["name"], "delete_file");
    assert_eq!(question["parts"][1]["data"]["approvalRequests"][0]["arguments"]["path"], "notes.txt");
    let id = task["id"].as_str().unwrap();
    let context = task["contextId"].as_str().unwrap();

    // An answer that is not one is refused; the task still waits.
    let mut unclear = user_message("maybe", Some(context));
    unclear["taskId"] = json!(id);
    let (_, refused) = rpc(&url, Some("1.0"), "SendMessage", json!({"message": unclear})).await;
    assert_eq!(refused["error"]["code"], -32602);

    let mut answer = json!({"messageId": "a1", "role": "ROLE_USER", "taskId": id, "parts": [{"data": {"approved": true}}]});
    answer["contextId"] = json!(context);
    let (_, done) = rpc(&url, Some("1.0"), "SendMessage", json!({"message": answer})).await;
    let task = &done["result"]["task"];
    assert_eq!(task["id"], id);
    assert_eq!(task["status"]["state"], "TASK_STATE_COMPLETED", "{done:#}");
    let answer_text = text(&task["artifacts"].as_array().unwrap().last().unwrap()["parts"]);
    assert!(answer_text.contains("deleted notes.txt"), "{answer_text}");

    // Rejected in 0.3 shapes: the call does not run.
    let (_, asked) =
        rpc(&url, None, "message/send", json!({"message": user_message_v03("Delete the file a.txt")})).await;
    assert_eq!(asked["result"]["status"]["state"], "input-required");
    assert_eq!(asked["result"]["status"]["message"]["parts"][1]["kind"], "data");
    let mut no = user_message_v03("no");
    no["taskId"] = asked["result"]["id"].clone();
    let (_, rejected) = rpc(&url, None, "message/send", json!({"message": no})).await;
    assert_eq!(rejected["result"]["status"]["state"], "completed", "{rejected:#}");
    assert!(!rejected.to_string().contains("deleted a.txt"), "{rejected:#}");
}

#[tokio::test]
async fn a_streamed_task_ends_its_stream_when_input_is_required() {
    let host = TestHost::start(HostConfig::default()).await;
    let response = reqwest::Client::new()
        .post(host.agent_url("guarded"))
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "message/stream",
                      "params": {"message": user_message_v03("Delete the file notes.txt")}}))
        .send()
        .await
        .unwrap();
    let events = sse_data(&response.text().await.unwrap());
    let last = &events.last().unwrap()["result"];
    assert_eq!(last["kind"], "status-update");
    assert_eq!(last["status"]["state"], "input-required");
    assert_eq!(last["final"], true);
}

#[tokio::test]
async fn past_max_tasks_the_oldest_ended_tasks_and_their_contexts_are_forgotten() {
    let a2a = weft_a2a::A2aServer::new()
        .config(weft_a2a::A2aConfig { max_tasks: 2, ..weft_a2a::A2aConfig::default() })
        .agent("helper", common::guarded_agent());
    let host = TestHost::start_with(HostConfig::default(), a2a).await;
    let url = host.agent_url("helper");
    let mut ids = Vec::new();
    let mut contexts = Vec::new();
    for text in ["My name is Ada.", "hello", "hi"] {
        let (_, sent) =
            rpc(&url, Some("1.0"), "SendMessage", json!({"message": user_message(text, None)})).await;
        ids.push(sent["result"]["task"]["id"].clone());
        contexts.push(sent["result"]["task"]["contextId"].as_str().unwrap().to_string());
    }
    let (_, first) = rpc(&url, Some("1.0"), "GetTask", json!({"id": ids[0]})).await;
    assert_eq!(first["error"]["code"], -32001, "{first:#}");
    for id in &ids[1..] {
        let (_, kept) = rpc(&url, Some("1.0"), "GetTask", json!({"id": id})).await;
        assert_eq!(kept["result"]["status"]["state"], "TASK_STATE_COMPLETED");
    }
    // The forgotten context starts over.
    let (_, again) = rpc(
        &url,
        Some("1.0"),
        "SendMessage",
        json!({"message": user_message("What is my name?", Some(&contexts[0]))}),
    )
    .await;
    assert!(text(&again["result"]["task"]["artifacts"][0]["parts"]).contains("not told me"), "{again:#}");
}

#[tokio::test]
async fn past_max_concurrent_runs_a_message_is_refused_until_a_run_ends() {
    let a2a = weft_a2a::A2aServer::new()
        .config(weft_a2a::A2aConfig { max_concurrent_runs: 1, ..weft_a2a::A2aConfig::default() })
        .agent("hang", std::sync::Arc::new(common::HangingAgent::default()));
    let host = TestHost::start_with(HostConfig::default(), a2a).await;
    let url = host.agent_url("hang");
    let params = json!({"message": user_message("go", None), "configuration": {"returnImmediately": true}});
    let (_, first) = rpc(&url, Some("1.0"), "SendMessage", params.clone()).await;
    let (_, busy) = rpc(&url, Some("1.0"), "SendMessage", params.clone()).await;
    assert_eq!(busy["error"]["code"], -32603, "{busy:#}");
    let rest = reqwest::Client::new().post(format!("{url}/message:send")).json(&params).send().await.unwrap();
    assert_eq!(rest.status(), 503);
    rpc(&url, Some("1.0"), "CancelTask", json!({"id": first["result"]["task"]["id"]})).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, again) = rpc(&url, Some("1.0"), "SendMessage", params.clone()).await;
        if again["result"]["task"].is_object() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the permit was never given back: {again:#}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn subscribe_to_task_follows_a_running_task_until_it_ends() {
    let host = TestHost::start(HostConfig::default()).await;
    let url = host.agent_url("hang");
    let params = json!({"message": user_message("go", None), "configuration": {"returnImmediately": true}});
    let (_, sent) = rpc(&url, Some("1.0"), "SendMessage", params).await;
    let id = sent["result"]["task"]["id"].clone();
    let mut response = reqwest::Client::new()
        .post(&url)
        .header("A2A-Version", "1.0")
        .json(&json!({"jsonrpc": "2.0", "id": 2, "method": "SubscribeToTask", "params": {"id": id}}))
        .send()
        .await
        .unwrap();
    let mut body = String::new();
    while !body.contains("\n\n") {
        body.push_str(std::str::from_utf8(&response.chunk().await.unwrap().unwrap()).unwrap());
    }
    assert_eq!(sse_data(&body)[0]["result"]["task"]["id"], id);
    rpc(&url, Some("1.0"), "CancelTask", json!({"id": id})).await;
    while let Some(chunk) = response.chunk().await.unwrap() {
        body.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    let last = sse_data(&body).pop().unwrap();
    assert_eq!(last["result"]["statusUpdate"]["status"]["state"], "TASK_STATE_CANCELED");

    // An ended task has nothing to follow.
    let (_, ended) = rpc(&url, Some("1.0"), "SubscribeToTask", json!({"id": id})).await;
    assert_eq!(ended["error"]["code"], -32004);
    let (_, ended) = rpc(&url, None, "tasks/resubscribe", json!({"id": id})).await;
    assert_eq!(ended["error"]["code"], -32004);
    let rest = reqwest::get(format!("{url}/tasks/{}:subscribe", id.as_str().unwrap())).await.unwrap();
    assert_eq!(rest.status(), 400);
    let rest: Value = rest.json().await.unwrap();
    assert_eq!(rest["error"]["details"][0]["reason"], "UNSUPPORTED_OPERATION");
    let posted = reqwest::Client::new()
        .post(format!("{url}/tasks/{}:subscribe", id.as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 400, "POST :subscribe is served too (the a2a-sdk sends it)");
    let (_, unknown) = rpc(&url, Some("1.0"), "SubscribeToTask", json!({"id": "nope"})).await;
    assert_eq!(unknown["error"]["code"], -32001);
}

#[tokio::test]
async fn ended_and_waiting_tasks_are_forgotten_after_their_ttl() {
    let config =
        weft_a2a::A2aConfig { task_ttl: Duration::from_millis(1500), ..weft_a2a::A2aConfig::default() };
    let a2a = A2aServer::new().config(config).agent("guarded", common::guarded_agent());
    let host = TestHost::start_with(HostConfig::default(), a2a).await;
    let url = host.agent_url("guarded");
    let (_, waiting) = rpc(
        &url,
        Some("1.0"),
        "SendMessage",
        json!({"message": user_message("Delete the file notes.txt", None)}),
    )
    .await;
    let waiting = &waiting["result"]["task"];
    assert_eq!(waiting["status"]["state"], "TASK_STATE_INPUT_REQUIRED");
    let (_, done) =
        rpc(&url, Some("1.0"), "SendMessage", json!({"message": user_message("hello", None)})).await;
    let done = &done["result"]["task"];
    assert_eq!(done["status"]["state"], "TASK_STATE_COMPLETED");
    let (_, kept) = rpc(&url, Some("1.0"), "GetTask", json!({"id": waiting["id"]})).await;
    assert_eq!(kept["result"]["status"]["state"], "TASK_STATE_INPUT_REQUIRED", "{kept:#}");

    // Well past the TTL (a loaded machine may take a while for the sends above).
    tokio::time::sleep(Duration::from_millis(2000)).await;
    for task in [waiting, done] {
        let (_, gone) = rpc(&url, Some("1.0"), "GetTask", json!({"id": task["id"]})).await;
        assert_eq!(gone["error"]["code"], -32001, "{gone:#}");
    }
    // An answer to the forgotten task is refused the same way.
    let mut answer = json!({"messageId": "a1", "role": "ROLE_USER", "taskId": waiting["id"],
                            "parts": [{"data": {"approved": true}}]});
    answer["contextId"] = waiting["contextId"].clone();
    let (_, refused) = rpc(&url, Some("1.0"), "SendMessage", json!({"message": answer})).await;
    assert_eq!(refused["error"]["code"], -32001, "{refused:#}");
}

#[tokio::test]
async fn past_max_tasks_waiting_tasks_are_forgotten_too_oldest_first() {
    let config = weft_a2a::A2aConfig { max_tasks: 2, ..weft_a2a::A2aConfig::default() };
    let a2a = A2aServer::new().config(config).agent("guarded", common::guarded_agent());
    let host = TestHost::start_with(HostConfig::default(), a2a).await;
    let url = host.agent_url("guarded");
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (_, sent) = rpc(
            &url,
            Some("1.0"),
            "SendMessage",
            json!({"message": user_message("Delete the file notes.txt", None)}),
        )
        .await;
        assert_eq!(sent["result"]["task"]["status"]["state"], "TASK_STATE_INPUT_REQUIRED");
        ids.push(sent["result"]["task"]["id"].clone());
    }
    let (_, first) = rpc(&url, Some("1.0"), "GetTask", json!({"id": ids[0]})).await;
    assert_eq!(first["error"]["code"], -32001, "{first:#}");
    for id in &ids[1..] {
        let (_, kept) = rpc(&url, Some("1.0"), "GetTask", json!({"id": id})).await;
        assert_eq!(kept["result"]["status"]["state"], "TASK_STATE_INPUT_REQUIRED");
    }
}

/// A streaming client that goes away mid-task: the task outlives its connection (A2A clients
/// follow it again with GetTask or SubscribeToTask), and the run is still bounded: a cancel, the
/// run timeout or the shutdown stops it.
#[tokio::test]
async fn a_streaming_client_that_goes_away_leaves_a_task_that_can_be_followed_and_cancelled() {
    let host = TestHost::start(HostConfig::default()).await;
    let url = host.agent_url("hang");
    let mut response = reqwest::Client::new()
        .post(&url)
        .header("A2A-Version", "1.0")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "SendStreamingMessage",
                      "params": {"message": user_message("go", None)}}))
        .send()
        .await
        .unwrap();
    let mut body = String::new();
    while !body.contains("artifactUpdate") {
        body.push_str(std::str::from_utf8(&response.chunk().await.unwrap().unwrap()).unwrap());
    }
    let task_id = sse_data(&body)[0]["result"]["task"]["id"].clone();
    drop(response);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_, got) = rpc(&url, Some("1.0"), "GetTask", json!({"id": task_id})).await;
    assert_eq!(got["result"]["status"]["state"], "TASK_STATE_WORKING", "{got:#}");
    assert_eq!(host.dropped.load(Ordering::SeqCst), 0);
    let (_, cancelled) = rpc(&url, Some("1.0"), "CancelTask", json!({"id": task_id})).await;
    assert_eq!(cancelled["result"]["status"]["state"], "TASK_STATE_CANCELED");
    eventually("the run to be dropped", || host.dropped.load(Ordering::SeqCst) == 1).await;
}
