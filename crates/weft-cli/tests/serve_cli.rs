//! `weft serve` end to end: the URL it prints, the open-address rule, SIGTERM, and the official
//! `openai` Python SDK driving it (`crates/weft-host/tests/clients/openai_sdk.py`).

// A test helper that fails is a failed test: panicking is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
mod serve_support;
use common::weft;
use serve_support::{Server, json_body};

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

#[test]
fn serve_prints_its_url_answers_and_stops_on_sigterm() {
    let mut server = Server::start();
    let models = server.get("/v1/models");
    assert!(models.starts_with("HTTP/1.1 200"), "{models}");
    assert!(models.contains(r#""id":"weft""#), "{models}");
    assert!(server.get("/readiness").starts_with("HTTP/1.1 200"));
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
}

#[test]
fn serve_files_serves_each_declarative_agent_by_its_name() {
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/declarative");
    let weather = format!("{examples}/weather.yaml");
    let sentiment = format!("{examples}/sentiment.yaml");
    let server = Server::start_with(&[&weather, &sentiment]);
    let models = server.get("/v1/models");
    assert!(models.starts_with("HTTP/1.1 200"), "{models}");
    assert!(models.contains(r#""id":"weather""#), "{models}");
    assert!(!models.contains(r#""id":"weft""#), "{models}");
    let answer =
        server.post("/v1/responses", r#"{"model":"weather","input":"Tell me the weather in Paris"}"#);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""status":"completed""#), "{answer}");
    assert!(answer.contains("get_weather") && answer.contains("Paris"), "{answer}");
}

#[test]
fn serve_files_serves_a_workflow_file_as_an_agent_named_after_it() {
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/declarative");
    let workflow = format!("{examples}/conditional.workflow.yaml");
    let team = format!("{examples}/concurrent.workflow.yaml");
    let server = Server::start_with(&[&workflow, &team]);
    let models = server.get("/v1/models");
    assert!(models.contains(r#""id":"requests""#), "{models}");
    assert!(models.contains(r#""id":"second_opinions""#), "{models}");
    let answer = server.post("/v1/responses", r#"{"model":"requests","input":"please approve the budget"}"#);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""status":"completed""#), "{answer}");
    assert!(answer.contains("You said: please approve the budget"), "{answer}");
}

#[test]
fn serve_answers_a2a_for_each_agent_unless_told_not_to() {
    let server = Server::start();
    let card = server.get("/a2a/weft/.well-known/agent-card.json");
    assert!(card.starts_with("HTTP/1.1 200"), "{card}");
    assert!(card.contains(r#""url":"http://test/a2a/weft""#), "{card}");
    let message = r#"{"message":{"messageId":"m1","role":"ROLE_USER","parts":[{"text":"hello"}]}}"#;
    let answer = server.post("/a2a/weft/message:send", message);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("TASK_STATE_COMPLETED"), "{answer}");
    drop(server);

    let off = Server::start_with(&["--no-a2a"]);
    assert!(off.get("/a2a/weft/.well-known/agent-card.json").starts_with("HTTP/1.1 404"));
}

#[test]
fn serve_refuses_two_files_with_one_agent_name() {
    let weather = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/declarative/weather.yaml");
    let output = weft().args(["serve", "--port", "0", weather, weather]).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("already serves an agent named 'weather'"), "{stderr}");
}

#[test]
fn serve_refuses_an_open_address_without_a_token() {
    let output = weft().args(["serve", "--host", "0.0.0.0", "--port", "0"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--token") && stderr.contains("--no-auth"), "{stderr}");
}

#[test]
fn serve_reads_its_token_from_a_file_kept_out_of_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "  tok-from-file\n").unwrap();
    let server = Server::start_with(&["--token-file", file.to_str().unwrap()]);
    assert!(server.get("/v1/models").starts_with("HTTP/1.1 401"));
    let mut stream = std::net::TcpStream::connect(server.address()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        stream,
        "GET /v1/models HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer tok-from-file\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn serve_names_a_token_file_it_cannot_use() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, " \n").unwrap();
    let missing = dir.path().join("missing");
    for (file, code, what) in [(&empty, 2, "is empty"), (&missing, 1, "could not read the token file")] {
        let output =
            weft().args(["serve", "--port", "0", "--token-file", file.to_str().unwrap()]).output().unwrap();
        assert_eq!(output.status.code(), Some(code), "{file:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(&file.display().to_string()) && stderr.contains(what), "{stderr}");
    }
    // `--token` says where it shows.
    let help = weft().args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("visible to the other users") && help.contains("--token-file"), "{help}");
}

#[test]
fn serve_refuses_a_cors_origin_that_is_not_one() {
    let output = weft().args(["serve", "--port", "0", "--cors", "localhost:3000/app"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--cors localhost:3000/app"));
}

#[test]
#[ignore = "needs the openai Python SDK: scripts/test installs it"]
fn the_openai_python_sdk_drives_weft_serve() {
    let python = match std::env::var("WEFT_OPENAI_PYTHON") {
        Ok(value) if std::path::Path::new(&value).exists() => value,
        _ => panic!(
            "WEFT_OPENAI_PYTHON is not set (or does not exist): this test needs the openai Python SDK; run \
             scripts/test, or `source scripts/peers/openai-sdk.sh` first"
        ),
    };
    let mut server = Server::start();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../weft-host/tests/clients/openai_sdk.py");
    let output = Command::new(python).arg(script).arg(&server.url).arg("weft").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("all checks passed"), "{stdout}");
    assert!(server.terminate().success());
}

#[test]
fn serve_with_a_sqlite_store_keeps_conversations_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite:{}", dir.path().join("weft.db").display());
    let mut server = Server::start_with(&["--store", &store]);
    let conversation = json_body(&server.post("/v1/conversations", r#"{"metadata":{"user":"ada"}}"#));
    let id = conversation["id"].as_str().unwrap().to_string();
    let turn = format!(r#"{{"model":"weft","input":"My name is Ada.","conversation":"{id}"}}"#);
    let first = json_body(&server.post("/v1/responses", &turn));
    assert_eq!(first["status"], "completed", "{first}");
    assert!(server.terminate().success());

    let mut server = Server::start_with(&["--store", &store]);
    let kept = json_body(&server.get(&format!("/v1/conversations/{id}")));
    assert_eq!(kept["metadata"]["user"], "ada", "{kept}");
    let retrieved = json_body(&server.get(&format!("/v1/responses/{}", first["id"].as_str().unwrap())));
    assert_eq!(retrieved, first);
    let turn = format!(r#"{{"model":"weft","input":"What is my name?","conversation":"{id}"}}"#);
    let answer = json_body(&server.post("/v1/responses", &turn));
    assert!(answer["output_text"].as_str().unwrap().contains("Ada"), "{answer}");
    let items = json_body(&server.get(&format!("/v1/conversations/{id}/items")));
    assert_eq!(items["data"].as_array().unwrap().len(), 4, "{items}");
    assert!(server.terminate().success());
}

/// An A2A message as HTTP+JSON's `message:send` takes it.
fn a2a_message(text: &str, task: Option<(&str, &str)>, data: Option<serde_json::Value>) -> String {
    let mut parts = vec![serde_json::json!({"text": text})];
    parts.extend(data.map(|data| serde_json::json!({"data": data})));
    let mut message =
        serde_json::json!({"messageId": format!("m-{text}"), "role": "ROLE_USER", "parts": parts});
    if let Some((task_id, context_id)) = task {
        message["taskId"] = task_id.into();
        message["contextId"] = context_id.into();
    }
    serde_json::json!({ "message": message }).to_string()
}

/// A2A tasks live in the `--store`: after a restart, a completed task and one waiting for
/// approval are still read by `GetTask` and `ListTasks`, and the waiting one is answered and
/// runs on in the new server.
#[test]
fn serve_with_a_sqlite_store_keeps_a2a_tasks_and_answers_a_waiting_one_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite:{}", dir.path().join("weft.db").display());
    let mut server = Server::start_with(&["--store", &store, "--approve"]);
    let done =
        json_body(&server.post("/a2a/weft/message:send", &a2a_message("hello", None, None)))["task"].clone();
    assert_eq!(done["status"]["state"], "TASK_STATE_COMPLETED", "{done}");
    let asked =
        server.post("/a2a/weft/message:send", &a2a_message("What's the weather in Paris?", None, None));
    let waiting = json_body(&asked)["task"].clone();
    assert_eq!(waiting["status"]["state"], "TASK_STATE_INPUT_REQUIRED", "{waiting}");
    assert!(server.terminate().success());

    let mut server = Server::start_with(&["--store", &store, "--approve"]);
    let id = |task: &serde_json::Value| task["id"].as_str().unwrap().to_string();
    let kept = json_body(&server.get(&format!("/a2a/weft/tasks/{}", id(&done))));
    assert_eq!(kept, done, "a completed task reads the same after the restart");
    let kept = json_body(&server.get(&format!("/a2a/weft/tasks/{}", id(&waiting))));
    assert_eq!(kept["status"]["state"], "TASK_STATE_INPUT_REQUIRED", "{kept}");
    let list = json_body(&server.get("/a2a/weft/tasks"));
    let listed: Vec<String> = list["tasks"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(listed, [id(&waiting), id(&done)], "{list}");

    let context = waiting["contextId"].as_str().unwrap().to_string();
    let answer =
        a2a_message("yes", Some((&id(&waiting), &context)), Some(serde_json::json!({"approved": true})));
    let answered = json_body(&server.post("/a2a/weft/message:send", &answer))["task"].clone();
    assert_eq!(answered["status"]["state"], "TASK_STATE_COMPLETED", "{answered}");
    let text = answered["artifacts"][0]["parts"][0]["text"].as_str().unwrap();
    assert!(text.contains("Paris"), "the approved call ran after the restart: {answered}");
    assert!(server.terminate().success());
}

#[test]
fn serve_refuses_a_store_it_does_not_know() {
    let output = weft().args(["serve", "--port", "0", "--store", "redis:x"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("sqlite:PATH"));
}

#[test]
#[ignore = "needs @ag-ui/client: scripts/test installs it"]
fn the_ag_ui_client_drives_weft_serve() {
    let var = |name: &str| match std::env::var(name) {
        Ok(value) if std::path::Path::new(&value).exists() => value,
        _ => panic!(
            "{name} is not set (or does not exist): this test needs @ag-ui/client; run scripts/test, or \
             `source scripts/peers/agui.sh` first"
        ),
    };
    let (node, client_dir) = (var("WEFT_AGUI_NODE"), var("WEFT_AGUI_CLIENT_DIR"));
    let mut server = Server::start();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../weft-host/tests/agui/client.cjs");
    let plan = serde_json::json!({
        "url": format!("http://{}/ag-ui/weft", server.address()),
        "threadId": "serve-thread",
        "runs": [{"user": "Tell me the weather in Paris"}, {"user": "and in Rome?"}],
    });
    let output = Command::new(node)
        .arg(script)
        .arg(plan.to_string())
        .env("WEFT_AGUI_CLIENT_DIR", client_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for run in 0..2 {
        let finished = lines.iter().find(|l| l["run"] == run && l.get("finished").is_some());
        assert_eq!(finished.unwrap()["finished"]["outcome"], "success", "{stdout}");
    }
    // HttpAgent checked the order; each run called the weather tool, the second (a follow-up in
    // the same thread) for Rome.
    let results: Vec<&str> = lines
        .iter()
        .filter(|l| l["event"]["type"] == "TOOL_CALL_RESULT")
        .map(|l| l["event"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(results.len(), 2, "{stdout}");
    assert!(results[0].contains("Paris") && results[1].contains("Rome"), "{results:?}");
    assert!(server.terminate().success());
}
