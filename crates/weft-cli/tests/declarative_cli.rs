//! `weft run -f`, `weft validate` and `weft schema agent` on the declarative examples.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
use common::text;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

fn weft(args: &[&str]) -> Output {
    let mut command = common::weft();
    command.env_remove("RUST_LOG").stdin(Stdio::null()).args(args).output().expect("the weft binary runs")
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

#[test]
fn run_f_runs_the_files_agent_with_its_bound_function() {
    let file = repo("examples/declarative/weather.yaml");
    let out = weft(&["run", "-f", file.to_str().unwrap(), "What's the weather in Paris?"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("weather in Paris:"), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("get_weather"), "{}", text(&out.stderr));
}

#[test]
fn run_f_answers_structured_output_and_keeps_the_run_flags() {
    let file = repo("examples/declarative/sentiment.yaml");
    let out = weft(&["run", "--json", "--max-iterations", "2", "-f", file.to_str().unwrap(), "I love it"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("sentiment") && stdout.contains("confidence"), "{stdout}");
    assert!(stdout.lines().all(|line| serde_json::from_str::<serde_json::Value>(line).is_ok()), "{stdout}");
}

#[test]
fn run_f_with_a_bad_file_is_a_usage_error_at_its_place() {
    let file = repo("crates/weft-declarative/tests/fixtures/bad/unknown_provider.yaml");
    let out = weft(&["run", "-f", file.to_str().unwrap(), "hi"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown_provider.yaml:3:13: unknown provider `OpenAl.Chat`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn validate_prints_every_problem_and_exits_1() {
    let good = repo("examples/declarative/weather.yaml");
    let bad = repo("crates/weft-declarative/tests/fixtures/bad");
    let out = weft(&["validate", good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let files = ["unknown_field.yaml", "missing_env.yaml", "empty.yaml"].map(|f| bad.join(f));
    let mut args = vec!["validate", good.to_str().unwrap()];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let out = weft(&args);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    assert!(stdout.contains("unknown_field.yaml:3:1: unknown field `instrucions`"), "{stdout}");
    assert!(stdout.contains("did you mean `instructions`?"), "{stdout}");
    assert!(
        stdout.contains("missing_env.yaml:6:13: the environment variable WEFT_SURELY_UNSET_VAR is not set"),
        "{stdout}"
    );
    assert!(stdout.contains("empty.yaml:1:1: the file is empty"), "{stdout}");
}

#[test]
fn schema_agent_prints_a_json_schema() {
    let out = weft(&["schema", "agent"]);
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["type"], "object");
    assert!(schema["properties"].get("outputSchema").is_some());
}

#[test]
fn provider_replaces_the_model_of_every_agent_of_a_file() {
    // An agent file for OpenAI whose key variable is unset: it does not load as it is…
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openai.yaml");
    std::fs::write(
        &file,
        "kind: Prompt\nname: weather\nmodel:\n  provider: OpenAI.Chat\n  id: gpt-4o-mini\n  connection: { kind: key, apiKey: =Env.WEFT_SURELY_UNSET_VAR }\n\
         tools:\n  - { kind: function, name: get_weather, parameters: [{ name: city, kind: string }] }\n",
    )
    .unwrap();
    let out = weft(&["run", "-f", file.to_str().unwrap(), "What's the weather in Paris?"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("WEFT_SURELY_UNSET_VAR is not set"), "{}", text(&out.stderr));
    // …but runs on the model `--provider` names, with the file's tools.
    let out = weft(&[
        "run",
        "-f",
        file.to_str().unwrap(),
        "--provider",
        "scripted",
        "What's the weather in Paris?",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("weather in Paris:"), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("using the scripted model"), "{}", text(&out.stderr));
}

#[test]
fn provider_replaces_the_models_of_a_workflows_agents_too() {
    // The server is unreachable (port 9, discard): every agent of the file asks it, none
    // answers from the file's scripted model.
    let file = repo("examples/declarative/sequential.workflow.yaml");
    let args =
        ["run", "-f", file.to_str().unwrap(), "--provider", "openai", "--base-url", "http://127.0.0.1:9/v1"];
    let out = weft(&[&args[..], &["--model", "m", "--timeout", "5", "hi"]].concat());
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stdout).is_empty(), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("127.0.0.1:9"), "{}", text(&out.stderr));
}

#[test]
fn validate_locates_every_problem_of_every_bad_fixture() {
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in
        ["crates/weft-declarative/tests/fixtures/bad", "crates/weft-declarative/tests/fixtures/workflows/bad"]
    {
        for entry in std::fs::read_dir(repo(dir)).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    files.sort();
    let mut args = vec!["validate"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let out = weft(&args);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    // Every line is `file:line:col: message`, and every file has its problem (a workflow whose
    // agent file is bad reports it in that file).
    for line in stdout.lines() {
        let mut parts = line.splitn(4, ':');
        let (file, row, column) = (parts.next().unwrap(), parts.next(), parts.next());
        assert!(file.ends_with(".yaml") || file == "/dev/zero", "{line}");
        assert!(row.and_then(|r| r.parse::<u32>().ok()).is_some(), "{line}");
        assert!(column.and_then(|c| c.parse::<u32>().ok()).is_some(), "{line}");
    }
    for file in &files {
        let name = file.file_name().unwrap().to_str().unwrap();
        let named = stdout.lines().any(|line| line.starts_with(file.to_str().unwrap()));
        assert!(named || name == "bad_agent_file.yaml", "{name} has no problem in\n{stdout}");
    }
}

#[test]
fn run_f_keeps_its_conversation_with_session() {
    let file = repo("examples/declarative/weather.yaml");
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("chat.json");
    let session = session.to_str().unwrap();
    let first = weft(&["run", "-f", file.to_str().unwrap(), "--session", session, "My name is Ada."]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let second = weft(&["run", "-f", file.to_str().unwrap(), "--session", session, "What is my name?"]);
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert!(text(&second.stdout).contains("Your name is Ada."), "{}", text(&second.stdout));
}
