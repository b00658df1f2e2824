//! A2A tasks in the host's session store: with a `SqliteStore`, a completed task and one waiting
//! for approval outlive the server that ran them (the next server reads, lists and answers
//! them), the conversation of a context goes on, and a task its server stopped running without
//! recording its end reads as failed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{HangingAgent, TestHost, guarded_agent, rpc, user_message};
use serde_json::{Value, json};
use weft_a2a::A2aServer;
use weft_core::{ChatAgent, ScriptedClient};
use weft_host::{HostConfig, SessionStore, SqliteStore};

fn helper() -> Arc<dyn weft_core::Agent> {
    Arc::new(ChatAgent::builder(Arc::new(ScriptedClient::new())).name("helper").build())
}

/// A host serving `helper` and `guarded` over A2A, their tasks in `store`.
async fn host_over(store: Arc<dyn SessionStore>) -> TestHost {
    let a2a = A2aServer::new().store(store).agent("helper", helper()).agent("guarded", guarded_agent());
    TestHost::start_with(HostConfig::default(), a2a).await
}

async fn send(url: &str, message: Value) -> Value {
    let (_, sent) = rpc(url, Some("1.0"), "SendMessage", json!({"message": message})).await;
    sent["result"]["task"].clone()
}

#[tokio::test]
async fn tasks_outlive_their_server_and_a_waiting_one_is_answered_by_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weft.db");
    let (done, waiting) = {
        let host = host_over(Arc::new(SqliteStore::open(&path).await.unwrap())).await;
        let done = send(&host.agent_url("helper"), user_message("My name is Ada.", None)).await;
        assert_eq!(done["status"]["state"], "TASK_STATE_COMPLETED", "{done:#}");
        let waiting = send(&host.agent_url("guarded"), user_message("Delete the file notes.txt", None)).await;
        assert_eq!(waiting["status"]["state"], "TASK_STATE_INPUT_REQUIRED", "{waiting:#}");
        host.a2a.shutdown().await;
        (done, waiting)
    };

    let host = host_over(Arc::new(SqliteStore::open(&path).await.unwrap())).await;
    let (_, got) = rpc(&host.agent_url("helper"), Some("1.0"), "GetTask", json!({"id": done["id"]})).await;
    assert_eq!(got["result"], done, "the completed task reads the same");
    let (_, list) = rpc(&host.agent_url("guarded"), Some("1.0"), "ListTasks", json!({})).await;
    assert_eq!(list["result"]["tasks"][0]["id"], waiting["id"], "{list:#}");
    assert_eq!(list["result"]["totalSize"], 1);
    // The context's conversation goes on in the new server.
    let mut again = user_message("What is my name?", done["contextId"].as_str());
    again["contextId"] = done["contextId"].clone();
    let named = send(&host.agent_url("helper"), again).await;
    assert_eq!(named["artifacts"][0]["parts"][0]["text"], "Your name is Ada.", "{named:#}");

    let mut answer = user_message("yes", waiting["contextId"].as_str());
    answer["taskId"] = waiting["id"].clone();
    let answered = send(&host.agent_url("guarded"), answer).await;
    assert_eq!(answered["status"]["state"], "TASK_STATE_COMPLETED", "{answered:#}");
    let text = answered["artifacts"][0]["parts"][0]["text"].as_str().unwrap();
    assert!(text.contains("deleted notes.txt"), "{text}");
    // Ended now: a second answer is refused, and so is a cancel.
    let mut late = user_message("yes", None);
    late["taskId"] = waiting["id"].clone();
    let (_, refused) =
        rpc(&host.agent_url("guarded"), Some("1.0"), "SendMessage", json!({"message": late})).await;
    assert_eq!(refused["error"]["code"], -32004, "{refused:#}");
    let (_, cancel) =
        rpc(&host.agent_url("guarded"), Some("1.0"), "CancelTask", json!({"id": waiting["id"]})).await;
    assert_eq!(cancel["error"]["code"], -32002, "{cancel:#}");
    host.a2a.shutdown().await;
}

/// Two servers over one store: the second did not start the first one's run, so to it the task
/// is one whose server stopped mid-run (as after a crash): it reads as failed, and the first
/// server's end of the run changes it no more.
#[tokio::test]
async fn a_task_whose_server_stopped_mid_run_reads_as_failed() {
    let store: Arc<dyn SessionStore> = Arc::new(SqliteStore::in_memory().await.unwrap());
    let first = A2aServer::new().store(store.clone()).agent("hang", Arc::new(HangingAgent::default()));
    let first = TestHost::start_with(HostConfig::default(), first).await;
    let background = json!({"returnImmediately": true});
    let (_, sent) = rpc(
        &first.agent_url("hang"),
        Some("1.0"),
        "SendMessage",
        json!({"message": user_message("go", None), "configuration": background}),
    )
    .await;
    let id = sent["result"]["task"]["id"].clone();
    common::eventually_async("the run to work", || {
        let (url, id) = (first.agent_url("hang"), id.clone());
        async move {
            let (_, got) = rpc(&url, Some("1.0"), "GetTask", json!({"id": id})).await;
            got["result"]["status"]["state"] == "TASK_STATE_WORKING"
        }
    })
    .await;

    let second = A2aServer::new().store(store.clone()).agent("hang", Arc::new(HangingAgent::default()));
    let second = TestHost::start_with(HostConfig::default(), second).await;
    let (_, got) = rpc(&second.agent_url("hang"), Some("1.0"), "GetTask", json!({"id": id})).await;
    let status = &got["result"]["status"];
    assert_eq!(status["state"], "TASK_STATE_FAILED", "{got:#}");
    assert!(status["message"]["parts"][0]["text"].as_str().unwrap().contains("stopped"), "{got:#}");
    first.a2a.shutdown().await;
    let (_, got) = rpc(&first.agent_url("hang"), Some("1.0"), "GetTask", json!({"id": id})).await;
    assert_eq!(got["result"]["status"], *status, "the recorded end stays");
    second.a2a.shutdown().await;
}
