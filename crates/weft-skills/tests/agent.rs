//! Skills given to agents: the instructions list them, the model loads one and reads its
//! resource (on a replayed model and on the scripted one), and scripts wait for approval.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;
use std::sync::Arc;

use serde_json::json;
use weft_core::{
    AgentSession, ChatAgent, ChatResponse, FunctionCall, Message, ReplayClient, Role, ScriptedClient,
};
use weft_skills::{ScriptRunner, SkillSet, SkillsExt, SkillsProvider};

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// A folder with the `unit-converter` skill: instructions, a table and a script.
fn skills_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let skill = dir.path().join("unit-converter");
    write(
        &skill.join("SKILL.md"),
        "---\nname: unit-converter\ndescription: Converts miles, kilometres, pounds and kilograms.\n---\n\
         # Converting units\n1. Read `references/table.md` for the factor.\n2. Multiply.\n",
    );
    write(&skill.join("references/table.md"), "| from | to | factor |\n| mi | km | 1.60934 |\n");
    write(&skill.join("scripts/convert.sh"), "echo \"$1 x $2 = converted\" > \"$3\"\necho done\n");
    dir
}

fn call(id: &str, name: &str, arguments: serde_json::Value) -> ChatResponse {
    ChatResponse::function_calls([FunctionCall::new(id, name, arguments)])
}

fn results(messages: &[Message]) -> Vec<String> {
    messages.iter().flat_map(Message::function_results).map(|r| r.to_model_text()).collect()
}

#[tokio::test]
async fn the_model_sees_the_skills_then_loads_one_and_reads_its_resource() {
    let dir = skills_dir();
    let client = Arc::new(ReplayClient::new([
        call("c1", "load_skill", json!({"skill_name": "unit-converter"})),
        call(
            "c2",
            "read_skill_resource",
            json!({"skill_name": "unit-converter", "resource_name": "references/table.md"}),
        ),
        ChatResponse::text("26.2 mi is 42.2 km."),
    ]));
    let agent = ChatAgent::builder(client.clone())
        .instructions("You convert units.")
        .skills(SkillSet::from_dir(dir.path()).unwrap())
        .build();
    let mut session = AgentSession::new();
    let response = agent.run(&mut session, "How many km is a marathon of 26.2 miles?").await.unwrap();
    assert_eq!(response.text(), "26.2 mi is 42.2 km.");

    let requests = client.requests();
    let system = requests[0].messages[0].text();
    assert!(system.starts_with("You convert units.\n\n"), "{system}");
    assert!(system.contains("<name>unit-converter</name>"), "{system}");
    assert!(system.contains("<description>Converts miles, kilometres, pounds and kilograms.</description>"));
    assert!(!system.contains("Multiply"), "the instructions are disclosed only when loaded");
    let tools: Vec<&str> = requests[0].options.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tools.len(), 2, "{tools:?}");
    assert!(tools.contains(&"load_skill") && tools.contains(&"read_skill_resource"), "{tools:?}");

    let results = results(&response.messages);
    assert!(results[0].contains("2. Multiply."), "{}", results[0]);
    assert!(results[0].contains("<resource name=\"references/table.md\"/>"), "{}", results[0]);
    assert!(!results[0].contains("convert.sh"), "scripts are not listed when they cannot run");
    assert_eq!(results[1], "| from | to | factor |\n| mi | km | 1.60934 |\n");
    // The skill's text went to the model for this run only; the session keeps the exchange.
    assert!(session.messages.iter().all(|m| m.role != Role::System));
}

#[tokio::test]
async fn the_scripted_model_loads_the_skill_and_reads_the_resource_it_is_told() {
    let dir = skills_dir();
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new()))
        .skills(SkillSet::from_dir(dir.path()).unwrap())
        .build();
    let response = agent
        .run(
            &mut AgentSession::new(),
            "Convert 26.2 miles with the skill name: unit-converter, resource name: references/table.md",
        )
        .await
        .unwrap();
    let text = response.text();
    assert!(text.contains("load_skill returned: <skill name=\"unit-converter\">"), "{text}");
    assert!(text.contains("read_skill_resource returned: | from | to | factor |"), "{text}");
    assert!(!text.contains("failed"), "{text}");
}

#[tokio::test]
async fn a_failed_read_tells_the_model_why() {
    let dir = skills_dir();
    let client = Arc::new(ReplayClient::new([
        call(
            "c1",
            "read_skill_resource",
            json!({"skill_name": "unit-converter", "resource_name": "../../etc/passwd"}),
        ),
        ChatResponse::text("ok"),
    ]));
    let agent = ChatAgent::builder(client).skills(SkillSet::from_dir(dir.path()).unwrap()).build();
    let response = agent.run(&mut AgentSession::new(), "read it").await.unwrap();
    let result = response.messages.iter().flat_map(Message::function_results).next().unwrap();
    let error = result.error.as_deref().unwrap();
    assert!(error.contains("outside the skill's folder"), "{error}");
}

#[tokio::test]
async fn a_script_runs_only_after_the_caller_approves_it() {
    let dir = skills_dir();
    let marker = dir.path().join("marker.txt");
    let arguments = json!({"skill_name": "unit-converter", "script_name": "scripts/convert.sh",
                           "args": ["26.2", "1.60934", marker.to_str().unwrap()]});
    let client = Arc::new(ReplayClient::new([
        call("c1", "run_skill_script", arguments.clone()),
        ChatResponse::text("converted"),
        call("c2", "run_skill_script", arguments),
        ChatResponse::text("not converted"),
    ]));
    let provider = SkillsProvider::new(SkillSet::from_dir(dir.path()).unwrap()).scripts(ScriptRunner::new());
    let agent = ChatAgent::builder(client.clone()).skills(provider).build();
    let mut session = AgentSession::new();

    let response = agent.run(&mut session, "convert 26.2 miles").await.unwrap();
    let requests = response.approval_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].call.name, "run_skill_script");
    assert!(!marker.exists(), "the script ran before approval");
    let system = client.requests()[0].messages[0].text();
    assert!(system.contains("run_skill_script"), "{system}");

    let response = agent.run(&mut session, vec![requests[0].approve()]).await.unwrap();
    assert_eq!(response.text(), "converted");
    assert_eq!(fs::read_to_string(&marker).unwrap(), "26.2 x 1.60934 = converted\n");
    let result = response.messages.iter().flat_map(Message::function_results).next().unwrap();
    assert_eq!(result.to_model_text(), "done");
    fs::remove_file(&marker).unwrap();

    // Rejected: the script does not run.
    let response = agent.run(&mut session, "again").await.unwrap();
    let requests = response.approval_requests();
    let response = agent.run(&mut session, vec![requests[0].reject()]).await.unwrap();
    assert_eq!(response.text(), "not converted");
    assert!(!marker.exists(), "a rejected script ran");
}

#[tokio::test]
async fn an_empty_skill_set_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let client = Arc::new(ReplayClient::new([ChatResponse::text("hi")]));
    let agent = ChatAgent::builder(client.clone()).skills(SkillSet::from_dir(dir.path()).unwrap()).build();
    agent.run(&mut AgentSession::new(), "hello").await.unwrap();
    let request = &client.requests()[0];
    assert!(request.options.tools.is_empty());
    assert!(request.messages.iter().all(|m| m.role != Role::System));
}
