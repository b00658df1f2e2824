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
