#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every example of the `weft` facade runs, offline on the scripted model, and prints what its
//! doc comment promises. Cargo builds a package's examples before its tests; these tests run
//! those binaries.

#[path = "support/examples.rs"]
mod examples_support;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

/// The built example `name` (see `examples_support::example_path`).
fn example_path(name: &str) -> PathBuf {
    examples_support::example_path(
        name,
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples")),
    )
}

/// Runs an example with the `OPENAI_*` and Gemini variables removed (so it picks the scripted model) and
/// returns its output once it exits; fails the test if it fails or runs over a minute.
async fn run(name: &str) -> (String, String) {
    let mut command = tokio::process::Command::new(example_path(name));
    for var in [
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_MODEL",
        "BEDROCK_MODEL",
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        "GEMINI_BASE_URL",
        "OLLAMA_HOST",
        "OLLAMA_MODEL",
    ] {
        command.env_remove(var);
    }
    command.kill_on_drop(true).stdin(std::process::Stdio::null());
    let output: Output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .unwrap_or_else(|_| panic!("example {name} ran over 60 s"))
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        output.status.success(),
        "example {name}: {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    (stdout, stderr)
}

#[track_caller]
fn assert_lines(output: &str, expected: &[&str]) {
    let lines: Vec<&str> = output.lines().collect();
    for line in expected {
        assert!(lines.contains(line), "missing line {line:?} in:\n{output}");
    }
}

#[tokio::test]
async fn agent_with_tool_calls_the_weather_tool() {
    let (stdout, _) = run("agent_with_tool").await;
    assert_eq!(stdout, "get_weather returned: weather in Paris: sunny, 21C\n");
}

#[tokio::test]
async fn agent_as_tool_forwards_the_inner_approval_and_stream() {
    let (stdout, _) = run("agent_as_tool").await;
    assert_eq!(
        stdout,
        "approval asked: get_weather {\"city\":\"Paris\"}\n\
         forecaster streamed: get_weather returned: weather in Paris: sunny, 21C\n\
         lead answers: forecaster returned: get_weather returned: weather in Paris: sunny, 21C\n"
    );
}

#[cfg(feature = "openai")]
#[tokio::test]
async fn streaming_prints_deltas_and_tool_activity() {
    let (stdout, stderr) = run("streaming").await;
    assert_eq!(stdout, "add returned: 19 + 23 = 42\n");
    assert!(stderr.contains("using the scripted model"), "{stderr}");
    assert_lines(
        &stderr,
        &["→ add {\"a\":19.0,\"b\":23.0}", "← 19 + 23 = 42", "the session now holds 4 messages"],
    );
}

#[cfg(feature = "openai")]
#[tokio::test]
async fn session_resume_remembers_the_name_across_the_saved_session() {
    let (stdout, _) = run("session_resume").await;
    assert_lines(
        &stdout,
        &[
            "1st answer: Nice to meet you, Ada.",
            "2nd answer: Your name is Ada.",
            "the conversation now has 4 messages:",
            "  user: What is my name?",
            "  assistant: Your name is Ada.",
        ],
    );
}

#[cfg(feature = "openai")]
#[tokio::test]
async fn structured_output_fills_each_field_from_the_text() {
    let (stdout, _) = run("structured_output").await;
    assert_lines(
        &stdout,
        &["Paris (France): 2.1 million people, capital: true", "landmarks: Eiffel Tower, Louvre"],
    );
}

#[cfg(feature = "openai")]
#[tokio::test]
async fn middleware_logs_times_and_blocks() {
    let (stdout, _) = run("middleware").await;
    assert_lines(
        &stdout,
        &[
            "[chat] calling the model with 1 message(s)",
            "[tool] get_weather {\"city\":\"Lisbon\"}",
            "answer: get_weather returned: weather in Lisbon: sunny, 21C",
            "[tool] delete_file {\"path\":\"notes.txt\"}",
            "answer: delete_file failed: blocked by policy: this agent may not delete files",
        ],
    );
    assert_eq!(stdout.matches("[agent] run took").count(), 2, "{stdout}");
}

#[cfg(feature = "openai")]
#[tokio::test]
async fn approval_stops_for_approval_then_runs_the_tool() {
    let (stdout, _) = run("approval").await;
    assert_lines(
        &stdout,
        &[
            "the run stopped with 1 approval request(s)",
            "  approving refund_order {\"amount\":25.0,\"order_number\":1234}",
            "answer: refund_order returned: refunded 25.00 EUR on order 1234",
        ],
    );
}

#[cfg(feature = "openai")]
#[tokio::test]
async fn embeddings_ranks_the_documents_against_the_question() {
    let (stdout, stderr) = run("embeddings").await;
    assert!(stderr.contains("using the scripted embedding model"), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0], "embedded 4 texts with scripted-embedding: 64 dimensions, 34 input tokens",
        "{stdout}"
    );
    assert_eq!(lines[1], "closest to \"What is the weather like in Paris?\":", "{stdout}");
    assert!(lines[2].ends_with("  The weather in Paris is sunny and 21C today."), "{stdout}");
    assert_eq!(lines.len(), 5, "{stdout}");
}

#[cfg(feature = "bedrock")]
#[tokio::test]
async fn bedrock_runs_on_the_scripted_model_when_nothing_is_configured() {
    let (stdout, stderr) = run("bedrock").await;
    assert_eq!(stdout, "get_weather returned: weather in Paris: sunny, 21C\n");
    assert!(stderr.contains("set BEDROCK_MODEL and AWS credentials"), "{stderr}");
}

#[cfg(feature = "gemini")]
#[tokio::test]
async fn gemini_runs_on_the_scripted_model_without_a_key() {
    let (stdout, stderr) = run("gemini").await;
    assert_eq!(stdout, "get_weather returned: weather in Paris: sunny, 21C\n");
    assert!(stderr.contains("set GEMINI_API_KEY for Gemini"), "{stderr}");
    assert_lines(&stderr, &["→ get_weather {\"city\":\"Paris\"}", "← weather in Paris: sunny, 21C"]);
}

#[cfg(feature = "ollama")]
#[tokio::test]
async fn ollama_runs_on_the_scripted_models_when_ollama_is_not_configured() {
    let (stdout, stderr) = run("ollama").await;
    assert_eq!(
        stdout,
        "agent: get_weather returned: weather in Paris: sunny, 21C\n\
         closest document: The weather in Paris is sunny and 21C today.\n"
    );
    assert!(stderr.contains("set OLLAMA_HOST or OLLAMA_MODEL for Ollama"), "{stderr}");
}

#[cfg(feature = "azure")]
#[tokio::test]
async fn foundry_haiku_runs_offline_without_a_project() {
    let mut command = tokio::process::Command::new(example_path("foundry_haiku"));
    for var in ["FOUNDRY_PROJECT_ENDPOINT", "AZURE_AI_PROJECT_ENDPOINT"] {
        command.env_remove(var);
    }
    let output = tokio::time::timeout(Duration::from_secs(60), command.kill_on_drop(true).output())
        .await
        .expect("foundry_haiku ran over 60 s")
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout, "You said: Write a haiku about Microsoft Agent Framework.\n");
    assert!(stderr.contains("using the scripted model"), "{stderr}");
}

#[tokio::test]
async fn memory_recalls_a_fact_in_a_new_session() {
    let (stdout, _) = run("memory").await;
    assert_lines(
        &stdout,
        &[
            "remembered: My favourite colour is teal. | I live in Lyon.",
            "recalled: My favourite colour is teal.",
        ],
    );
}

#[tokio::test]
async fn budget_stops_the_run_at_the_tool_call_limit() {
    let (stdout, _) = run("budget").await;
    assert_lines(
        &stdout,
        &["stopped: tool calls: the next batch would make 1 of 0", "session unchanged: 0 messages"],
    );
    assert!(stdout.contains("partial response: 2 messages"), "{stdout}");
}

#[cfg(feature = "skills")]
#[tokio::test]
async fn skills_loads_the_skill_and_reads_its_resource() {
    let (stdout, stderr) = run("skills").await;
    assert!(stderr.contains("using the scripted model"), "{stderr}");
    assert_lines(
        &stdout,
        &[
            "skill: unit-converter (1 resource(s))",
            "called load_skill {\"skill_name\":\"unit-converter\"}",
            "called read_skill_resource {\"skill_name\":\"unit-converter\",\"resource_name\":\"references/conversion-table.md\"}",
            "  -> <skill name=\"unit-converter\"> (12 lines)",
            "  -> | from | to | factor | (4 lines)",
        ],
    );
    assert!(stdout.contains("answer: load_skill returned: <skill name=\"unit-converter\">"), "{stdout}");
    assert!(stdout.contains("read_skill_resource returned: | from | to | factor |"), "{stdout}");
}
