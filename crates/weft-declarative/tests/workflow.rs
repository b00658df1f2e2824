//! Loading workflow files: every fixture, runs on the scripted model, and every bad input with
//! its place.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use weft_core::{Message, Role};
use weft_declarative::{
    Bindings, FileKind, HumanInputRequest, file_kind, load_workflow, validate_file, validate_workflow,
    workflow_from_str, workflow_json_schema,
};
use weft_workflow::{ParticipantResult, RequestResponse, RunStatus, WorkflowRunResult};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/workflows").join(name)
}

fn bindings() -> Bindings {
    Bindings::new()
        .executor("shout", |mut conversation: Vec<Message>| async move {
            let last = conversation.pop().map(|m| m.text()).unwrap_or_default();
            conversation.push(Message::user(last.to_uppercase()));
            Ok::<_, String>(conversation)
        })
        .executor("tag", |mut conversation: Vec<Message>| async move {
            let last = conversation.last().map(Message::text).unwrap_or_default();
            conversation.push(Message::assistant(format!("tag: {last}")));
            Ok::<_, String>(conversation)
        })
        .predicate("rejected", |conversation: &[Message]| {
            conversation.last().is_some_and(|m| m.text().contains("no"))
        })
        .predicate("bob_spoke", |conversation: &[Message]| {
            conversation.iter().any(|m| m.author_name.as_deref() == Some("bob"))
        })
        .aggregator("joined", |results: Vec<ParticipantResult>| {
            let joined: Vec<String> = results
                .iter()
                .map(|r| format!("{}={}", r.agent, r.messages.iter().map(Message::text).collect::<String>()))
                .collect();
            vec![Message::assistant(joined.join("; "))]
        })
}

fn texts(result: &WorkflowRunResult) -> Vec<Vec<String>> {
    result.outputs_as::<Vec<Message>>().iter().map(|ms| ms.iter().map(Message::text).collect()).collect()
}

#[test]
fn every_good_fixture_validates() {
    for name in [
        "full.yaml",
        "inner.yaml",
        "orchestration_full.yaml",
        "handoff.yaml",
        "group_chat.yaml",
        "concurrent.yaml",
    ] {
        validate_workflow(fixture(name), &bindings()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(file_kind(fixture(name)), FileKind::Workflow, "{name}");
    }
    assert_eq!(file_kind(fixture("writer.yaml")), FileKind::Agent);
    assert_eq!(validate_file(fixture("writer.yaml"), &bindings()).unwrap(), FileKind::Agent);
    assert_eq!(validate_file(fixture("full.yaml"), &bindings()).unwrap(), FileKind::Workflow);
}

/// The full fixture: function, fan-out to two agents, fan-in, human input, a conditional edge,
/// a predicate, a switch and a sub-workflow.
async fn run_full(answer: &str) -> WorkflowRunResult {
    let loaded = load_workflow(fixture("full.yaml"), &bindings()).await.unwrap();
    let workflow = loaded.workflow;
    assert_eq!(workflow.name(), "full");
    assert_eq!(loaded.description.as_deref(), Some("Every field of a graph workflow file."));
    let first = workflow.run(vec![Message::user("hello")]).await.unwrap();
    assert_eq!(first.status, RunStatus::IdleWithPendingRequests, "{:?}", first.error());
    let pending = first.pending_requests();
    assert_eq!(pending.len(), 1);
    let asked: HumanInputRequest = pending[0].data_as().unwrap();
    assert_eq!(asked.prompt, "Approve the draft? (yes/no)");
    let seen: Vec<String> = asked.conversation.iter().map(Message::text).collect();
    assert_eq!(seen, ["HELLO", "You said: HELLO", "You said: HELLO", "tag: You said: HELLO"]);
    let checkpoint = first.last_checkpoint_id().unwrap().to_string();
    let answer = RequestResponse::new(pending[0].request_id.clone(), answer.to_string());
    let second = workflow.send_responses(&checkpoint, vec![answer]).await.unwrap();
    assert_eq!(second.status, RunStatus::Idle, "{:?}", second.error());
    second
}

#[tokio::test]
async fn the_full_fixture_publishes_an_approved_draft() {
    let result = run_full("yes").await;
    assert_eq!(texts(&result), vec![vec!["tag: tag: yes".to_string()]]);
    assert_eq!(result.outputs[0].executor_id, "publish");
}

#[tokio::test]
async fn the_switch_default_runs_the_sub_workflow() {
    let result = run_full("yes, later").await;
    assert_eq!(texts(&result), vec![vec!["You said: yes, later".to_string()]]);
    assert_eq!(result.outputs[0].executor_id, "archive");
}

#[tokio::test]
async fn the_predicate_sends_a_rejection_to_rework() {
    let result = run_full("no").await;
    assert_eq!(texts(&result), vec![vec!["tag: no".to_string()]]);
    assert_eq!(result.outputs[0].executor_id, "rework");
}

#[tokio::test]
async fn orchestrations_load_from_text() {
    let text = r"
kind: Workflow
orchestration: sequential
participants:
  - { kind: Prompt, name: one, model: { provider: scripted } }
  - { kind: Prompt, name: two, model: { provider: scripted } }
";
    let loaded = workflow_from_str(text, &Bindings::new()).await.unwrap();
    assert_eq!(loaded.name, "workflow");
    let result = loaded.workflow.run(vec![Message::user("hi")]).await.unwrap();
    let added = result.outputs_as::<Vec<Message>>();
    assert_eq!(added.len(), 1);
    let roles: Vec<(Role, String)> =
        added[0].iter().map(|m| (m.role, m.author_name.clone().unwrap_or_default())).collect();
    assert_eq!(roles, [(Role::Assistant, "one".to_string()), (Role::Assistant, "two".to_string())]);
}

#[tokio::test]
async fn every_orchestration_fixture_builds() {
    for name in ["orchestration_full.yaml", "handoff.yaml", "group_chat.yaml", "concurrent.yaml"] {
        let loaded =
            load_workflow(fixture(name), &bindings()).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!loaded.workflow.executor_ids().is_empty());
    }
}

#[tokio::test]
async fn a_concurrent_aggregator_binds_by_name() {
    let loaded = load_workflow(fixture("concurrent.yaml"), &bindings()).await.unwrap();
    let result = loaded.workflow.run(vec![Message::user("hi")]).await.unwrap();
    assert_eq!(texts(&result), [["left=You said: hi; right=You said: hi"]]);
}

/// A group chat in round robin between alice and bob, with `terminate` (and 5 rounds).
async fn group_chat_speakers(terminate: &str) -> Vec<String> {
    let text = format!(
        "
kind: Workflow
orchestration: group_chat
maxRounds: 5
terminate: {terminate}
participants:
  - {{ kind: Prompt, name: alice, model: {{ provider: scripted }} }}
  - {{ kind: Prompt, name: bob, model: {{ provider: scripted }} }}
"
    );
    let loaded = workflow_from_str(&text, &bindings()).await.unwrap();
    let result = loaded.workflow.run(vec![Message::user("hi")]).await.unwrap();
    let added = result.outputs_as::<Vec<Message>>();
    added.iter().flatten().map(|m| m.author_name.clone().unwrap_or_default()).collect()
}

#[tokio::test]
async fn a_group_chat_ends_when_its_terminate_condition_holds() {
    // Without a condition that holds, every round is taken.
    assert_eq!(group_chat_speakers("{ when: message.text contains 'never' }").await.len(), 5);
    // An expression over the last message, and a registered predicate.
    assert_eq!(group_chat_speakers("{ when: message.author equals 'bob' }").await, ["alice", "bob"]);
    assert_eq!(group_chat_speakers("{ predicate: bob_spoke }").await, ["alice", "bob"]);
}

#[test]
fn the_schema_describes_the_format() {
    let schema = workflow_json_schema();
    let text = schema.to_string();
    for field in ["executors", "edges", "switch", "orchestration", "participants", "checkpoint", "request"] {
        assert!(text.contains(&format!("\"{field}\"")), "{field}");
    }
    assert_eq!(schema["title"], "Weft declarative workflow");
}

/// The single problem of a bad file, as `file:line:col: message` (file relative to `bad/`).
fn problem(name: &str) -> String {
    let error = validate_workflow(fixture(&format!("bad/{name}")), &bindings()).expect_err(name);
    let problems = error.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = &problems[0];
    let file = p.file.file_name().unwrap().to_string_lossy().to_string();
    format!("{file}:{}:{}: {}", p.line, p.column, p.message)
}

#[test]
fn bad_files_name_the_place_of_their_problem() {
    let cases = [
        ("unknown_field.yaml", "unknown_field.yaml:4:5: unknown field `functon`", "did you mean `function`?"),
        ("wrong_type.yaml", "wrong_type.yaml:2:16: ", "invalid"),
        ("missing_field.yaml", "missing_field.yaml:3:5: ", "missing field `id`"),
        (
            "unknown_executor.yaml",
            "unknown_executor.yaml:7:9: unknown executor `shuot`",
            "the executors are a",
        ),
        (
            "unknown_binding.yaml",
            "unknown_binding.yaml:4:15: no executor function named `shoot`",
            "did you mean `shout`?",
        ),
        (
            "unknown_predicate.yaml",
            "unknown_predicate.yaml:10:16: no predicate named `rejectd`",
            "did you mean `rejected`?",
        ),
        (
            "cycle.yaml",
            "cycle.yaml:8:11: the edges a -> b -> a form a cycle with no condition",
            "make one of them conditional",
        ),
        ("unreachable.yaml", "unreachable.yaml:5:9: executor `b` is unreachable", "from the start `a`"),
        ("empty.yaml", "empty.yaml:1:1: the file is empty", "`kind: Workflow`"),
        (
            "bad_condition.yaml",
            "bad_condition.yaml:10:24: in the condition: expected an operator",
            "did you mean `contains`?",
        ),
        (
            "self_include.yaml",
            "self_include.yaml:4:15: `self_include.yaml` includes itself",
            "cycle of sub-workflows",
        ),
        (
            "unknown_orchestration.yaml",
            "unknown_orchestration.yaml:2:16: unknown orchestration `sequental`",
            "did you mean `sequential`?",
        ),
        (
            "misplaced_option.yaml",
            "misplaced_option.yaml:2:16: `maxRounds` does not apply to orchestration `sequential`",
            "",
        ),
        (
            "bad_checkpoint.yaml",
            "bad_checkpoint.yaml:2:13: unknown checkpoint store `files:/tmp/x`",
            "did you mean `file`?",
        ),
        (
            "inline_agent_error.yaml",
            "inline_agent_error.yaml:7:7: unknown field `modle`",
            "did you mean `model`?",
        ),
        (
            "bad_agent_file.yaml",
            "unknown_field.yaml:3:1: unknown field `instrucions`",
            "did you mean `instructions`?",
        ),
        ("empty_from.yaml", "empty_from.yaml:10:11: an edge needs a `from`", "none"),
        ("empty_to.yaml", "empty_to.yaml:11:9: an edge needs a `to`", "none"),
        (
            "unknown_aggregator.yaml",
            "unknown_aggregator.yaml:3:13: no aggregator named `joind`",
            "did you mean `joined`?",
        ),
        (
            "misplaced_aggregator.yaml",
            "misplaced_aggregator.yaml:2:16: `aggregator` does not apply to orchestration `group_chat`",
            "",
        ),
        ("bad_terminate.yaml", "bad_terminate.yaml:6:22: in the condition: expected an operator", ""),
        (
            "unknown_terminate_predicate.yaml",
            "unknown_terminate_predicate.yaml:5:25: no predicate named `rejectd`",
            "did you mean `rejected`?",
        ),
        ("empty_terminate.yaml", "empty_terminate.yaml:2:16: `terminate` needs `when`", "or `predicate`"),
    ];
    let mut failures = Vec::new();
    for (name, start, contains) in cases {
        let got = problem(name);
        if !got.starts_with(start) || !got.contains(contains) {
            failures.push(format!(
                "{name}: got `{got}`; expected to start with `{start}` and contain `{contains}`"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A workflow file with `checkpoint: KIND` in a fresh directory, run once; returns the result,
/// the workflow and the directory (kept alive).
async fn run_with_checkpoint(kind: &str) -> (WorkflowRunResult, weft_workflow::Workflow, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w.yaml");
    let text = format!(
        "kind: Workflow\nname: stored\ncheckpoint: {kind}\nexecutors:\n  - id: a\n    function: shout\n"
    );
    std::fs::write(&file, text).unwrap();
    validate_workflow(&file, &bindings()).unwrap();
    let loaded = load_workflow(&file, &bindings()).await.unwrap();
    let result = loaded.workflow.run(vec![Message::user("hi")]).await.unwrap();
    assert_eq!(texts(&result), vec![vec!["HI".to_string()]]);
    (result, loaded.workflow, dir)
}

#[tokio::test]
async fn file_and_sqlite_checkpoints_are_written_where_the_file_says() {
    for (kind, written) in [("file:checkpoints", "checkpoints"), ("sqlite:runs.db", "runs.db")] {
        let (result, workflow, dir) = run_with_checkpoint(kind).await;
        assert!(dir.path().join(written).exists(), "{kind}");
        let saved = workflow.list_checkpoints(&result.run_id).await.unwrap();
        assert!(saved.len() >= 2, "{kind}: {saved:?}");
    }
    let (result, workflow, _dir) = run_with_checkpoint("memory").await;
    assert!(!workflow.list_checkpoints(&result.run_id).await.unwrap().is_empty());
}

#[tokio::test]
async fn text_problems_name_the_string_and_hostile_files_fail_fast() {
    let error = workflow_from_str("kind: Workflow\nexecutors:\n  - id: a\n    function: nope\n", &bindings())
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "<string>:4:15: no executor function named `nope` is bound; registered: shout, tag"
    );
    let started = std::time::Instant::now();
    let problems = validate_workflow(fixture("bad/billion_laughs.yaml"), &bindings()).unwrap_err().problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].message.contains("alias"), "{problems:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// A file whose size says nothing (a device, a FIFO) is read up to the limit, not to its end.
#[test]
fn an_endless_file_is_refused_at_the_size_limit() {
    assert_eq!(file_kind("/dev/zero"), FileKind::Agent);
    let errors = [
        validate_file("/dev/zero", &bindings()).unwrap_err(),
        validate_workflow("/dev/zero", &bindings()).unwrap_err(),
    ];
    for error in errors {
        let problems = error.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].file, Path::new("/dev/zero"));
        assert!(problems[0].message.contains("over the limit of 1048576 bytes"), "{problems:?}");
    }
    // Named in a workflow, it is no agent file at all.
    assert_eq!(
        problem("endless_agent_file.yaml"),
        "endless_agent_file.yaml:4:5: no agent file at `/dev/zero`"
    );
}

#[tokio::test]
async fn condition_problems_point_at_the_character_plain_or_quoted() {
    for (line, at) in [
        ("    when: message.text contans 'x'", (10, 24)),
        ("    when: \"message.text contans 'x'\"", (10, 25)),
        ("    when: >-\n      message.text contans 'x'", (11, 20)),
    ] {
        let text = format!(
            "kind: Workflow\nexecutors:\n  - id: a\n    function: shout\n  - id: b\n    function: tag\nedges:\n  - from: a\n    to: b\n{line}\n"
        );
        let problems = workflow_from_str(&text, &bindings()).await.unwrap_err().problems();
        assert_eq!((problems[0].line, problems[0].column), at, "{line}: {problems:?}");
        assert!(problems[0].message.contains("did you mean `contains`?"), "{problems:?}");
    }
}

#[test]
fn every_problem_of_a_file_is_reported_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w.yaml");
    std::fs::write(
        &file,
        "kind: Workflow\nexecutors:\n  - id: a\n    function: nope\n  - id: a\n    request: again\nedges:\n  - from: a\n    to: [b, c]\n",
    )
    .unwrap();
    let lines: Vec<String> = validate_workflow(&file, &bindings())
        .unwrap_err()
        .problems()
        .iter()
        .map(|p| format!("{}:{}: {}", p.line, p.column, p.message))
        .collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(lines[0].starts_with("4:15: no executor function named `nope`"), "{lines:?}");
    assert!(lines[1].starts_with("5:9: executor `a` is defined twice"), "{lines:?}");
    assert!(lines[2].starts_with("9:10: unknown executor `b`"), "{lines:?}");
    assert!(lines[3].starts_with("9:13: unknown executor `c`"), "{lines:?}");
}

#[tokio::test]
async fn a_cycle_with_a_condition_loops_until_it_fails() {
    let text = "kind: Workflow
executors:
  - { id: a, function: tag }
  - { id: b, function: tag }
edges:
  - { from: a, to: b }
  - { from: b, to: a, when: \"not message.text startsWith 'tag: tag: tag'\" }
outputs: [b]
";
    let loaded = workflow_from_str(text, &bindings()).await.unwrap();
    let result = loaded.workflow.run(vec![Message::user("x")]).await.unwrap();
    let last: Vec<String> = texts(&result).into_iter().map(|added| added.join(" | ")).collect();
    assert_eq!(last, ["tag: tag: x", "tag: tag: tag: tag: x"]);
}

/// Every field the schema documents is used by a good fixture (the schema is generated from the
/// spec types, so a new field without a fixture fails here).
#[test]
fn the_good_fixtures_use_every_field_of_the_schema() {
    let schema = workflow_json_schema();
    let mut fields: Vec<String> = schema["properties"].as_object().unwrap().keys().cloned().collect();
    for definition in ["ExecutorSpec", "EdgeSpec", "CaseSpec", "ConditionSpec"] {
        fields.extend(schema["$defs"][definition]["properties"].as_object().unwrap().keys().cloned());
    }
    let texts: String = [
        "full.yaml",
        "inner.yaml",
        "orchestration_full.yaml",
        "handoff.yaml",
        "group_chat.yaml",
        "concurrent.yaml",
    ]
    .iter()
    .map(|name| std::fs::read_to_string(fixture(name)).unwrap())
    .collect();
    let missing: Vec<&String> = fields
        .iter()
        .filter(|field| !texts.contains(&format!(" {field}:")) && !texts.contains(&format!("\n{field}:")))
        .collect();
    assert!(missing.is_empty(), "fields no fixture uses: {missing:?}");
    assert!(fields.len() >= 27, "{fields:?}");
}
