//! Every declarative example of `examples/declarative/` run against a real model server:
//! llama.cpp's `llama-server` with the tiny deterministic model of `scripts/peers/llama.sh`,
//! through `weft run -f FILE --provider openai --base-url URL --model tiny`, which replaces the
//! file's `provider: scripted` without editing it.
//!
//! The tiny model answers every chat `Howdy, pal!` and calls a tool only when it must
//! (`tool_choice: required`), which no example asks for: so the runs are checked for their
//! shape (exit 0, which executors and agents answered, in which order), not for sense. The
//! tests are `#[ignore]`d in plain `cargo nextest run`; `scripts/test` builds the peers and runs
//! them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[path = "../../weft-openai/tests/support/llama.rs"]
mod llama;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use llama::{LlamaServer, Options, peer};

/// What the tiny model answers.
const HOWDY: &str = "Howdy, pal!";

/// The longest one `weft run` may take (a hang guard: the runs take 1 to 11 s alone, more on
/// two loaded cores).
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/declarative").join(name)
}

/// The result of one run.
struct Run {
    success: bool,
    stdout: String,
    stderr: String,
}

impl Run {
    fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

/// `weft run -f FILE --provider openai --base-url URL --model tiny EXTRA… PROMPT` with `input`
/// on stdin, in a clean environment; killed (and the test failed) after [`RUN_TIMEOUT`].
fn run_on(server: &LlamaServer, file: &Path, extra: &[&str], prompt: &str, input: &str) -> Run {
    let base_url = server.base_url();
    let mut args = vec!["run", "-f", file.to_str().unwrap(), "--provider", "openai", "--base-url", &base_url];
    args.extend(["--model", "tiny"]);
    args.extend(extra);
    args.push(prompt);
    run_args(&args, input, server)
}

fn run_args(args: &[&str], input: &str, server: &LlamaServer) -> Run {
    let mut child = common::weft()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the weft binary runs");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "weft {args:?} did not finish within {RUN_TIMEOUT:?}; stderr:\n{}\nserver log:\n{}",
                stderr.join().unwrap(),
                server.log()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let run =
        Run { success: status.success(), stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() };
    assert!(
        run.success,
        "weft {args:?} failed\nstdout:\n{}\nstderr:\n{}\nserver log:\n{}",
        run.stdout,
        run.stderr,
        server.log()
    );
    run
}

fn start(test: &str) -> LlamaServer {
    LlamaServer::start(&peer(test), &Options::default())
}

/// `[executor] agent: Howdy, pal!` for each (executor, agent).
fn howdies(outputs: &[(&str, &str)]) -> Vec<String> {
    outputs.iter().map(|(executor, agent)| format!("[{executor}] {agent}: {HOWDY}")).collect()
}

#[ignore = "needs llama-server: scripts/test installs them"]
#[test]
fn the_weather_agent_runs_on_llama_server_over_every_api() {
    let server = start("the_weather_agent_runs_on_llama_server_over_every_api");
    let file = example("weather.yaml");
    for api in ["chat", "responses"] {
        let run = run_on(&server, &file, &["--api", api], "What's the weather in Paris?", "");
        assert_eq!(run.stdout, format!("{HOWDY}\n"), "{api}\nstderr:\n{}", run.stderr);
        let using = format!("weft: using openai {api} at {}, model tiny", server.base_url());
        assert!(run.stderr.contains(&using), "{api}: expected {using:?} in\n{}", run.stderr);
    }
    // The Anthropic Messages API of the same server.
    let root = format!("http://127.0.0.1:{}", server.port());
    let args = ["run", "-f", file.to_str().unwrap(), "--provider", "anthropic", "--base-url", &root];
    let run =
        run_args(&[&args[..], &["--model", "tiny", "What's the weather in Paris?"]].concat(), "", &server);
    assert_eq!(run.stdout, format!("{HOWDY}\n"), "stderr:\n{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("using anthropic messages at {root}, model tiny")),
        "{}",
        run.stderr
    );
}

#[ignore = "needs llama-server: scripts/test installs them"]
#[test]
fn the_structured_output_agent_answers_json_of_its_schema_on_llama_server() {
    let server = start("the_structured_output_agent_answers_json_of_its_schema_on_llama_server");
    let run = run_on(&server, &example("sentiment.yaml"), &[], "I love this", "");
    // The server constrains the answer to the file's outputSchema.
    let answer: serde_json::Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", run.stdout));
    let sentiment = answer["sentiment"].as_str().unwrap_or_default();
    assert!(["positive", "negative", "neutral"].contains(&sentiment), "{answer}");
    assert!(answer["confidence"].is_number(), "{answer}");
}

#[ignore = "needs llama-server and the MCP peers: scripts/test installs them"]
#[test]
fn the_mcp_agent_connects_its_server_and_runs_on_llama_server() {
    let server = start("the_mcp_agent_connects_its_server_and_runs_on_llama_server");
    let node = mcp_peer("WEFT_MCP_NODE");
    let everything = mcp_peer("WEFT_MCP_EVERYTHING");
    // The example starts the server with npx; the test uses the pinned copy of the same one.
    let text = std::fs::read_to_string(example("mcp_agent.yaml")).unwrap();
    let text =
        text.replace("npx -y @modelcontextprotocol/server-everything", &format!("{node} {everything}"));
    assert!(text.contains(&everything), "the example's command changed:\n{text}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mcp_agent.yaml");
    std::fs::write(&file, text).unwrap();
    let run = run_on(&server, &file, &[], "echo hello", "");
    assert_eq!(run.stdout, format!("{HOWDY}\n"), "stderr:\n{}", run.stderr);
}

#[ignore = "needs llama-server: scripts/test installs them"]
#[test]
fn the_sequential_workflow_runs_on_llama_server() {
    let server = start("the_sequential_workflow_runs_on_llama_server");
    let run = run_on(&server, &example("sequential.workflow.yaml"), &[], "What's the weather in Paris?", "");
    assert_eq!(run.lines(), howdies(&[("output", "weather"), ("output", "editor")]), "{}", run.stderr);
}

#[ignore = "needs llama-server: scripts/test installs them"]
#[test]
fn the_concurrent_workflow_runs_on_llama_server() {
    let server = start("the_concurrent_workflow_runs_on_llama_server");
    let run = run_on(&server, &example("concurrent.workflow.yaml"), &[], "Should we ship on Friday?", "");
    assert_eq!(
        run.lines(),
        howdies(&[("aggregator", "optimist"), ("aggregator", "pessimist")]),
        "{}",
        run.stderr
    );
}

#[ignore = "needs llama-server: scripts/test installs them"]
#[test]
fn the_conditional_workflow_runs_on_llama_server() {
    let server = start("the_conditional_workflow_runs_on_llama_server");
    // The clerk's answer does not contain "approve": the archivist gets it.
    let run = run_on(&server, &example("conditional.workflow.yaml"), &[], "please approve the budget", "");
    assert_eq!(run.lines(), howdies(&[("archivist", "archivist")]), "{}", run.stderr);
}

#[ignore = "needs llama-server: scripts/test installs them"]
#[test]
fn the_handoff_workflow_runs_on_llama_server() {
    let server = start("the_handoff_workflow_runs_on_llama_server");
    // Triage is offered `handoff_to_billing` but the tiny model answers instead of calling it.
    let run = run_on(&server, &example("handoff.workflow.yaml"), &[], "I have a billing question", "");
    assert_eq!(run.lines(), howdies(&[("triage", "triage")]), "{}", run.stderr);
    assert!(run.stderr.contains("▸ triage"), "{}", run.stderr);
}

#[ignore = "needs llama-server: scripts/test installs them"]
#[test]
fn the_group_chat_workflow_runs_on_llama_server() {
    let server = start("the_group_chat_workflow_runs_on_llama_server");
    // The example as written: three rounds. In the third, alice gets bob's turn as a user
    // message carrying his name (llama-server refuses a conversation ending with two assistant
    // messages, reading the last as a prefill).
    let file = example("group_chat.workflow.yaml");
    assert!(std::fs::read_to_string(&file).unwrap().contains("maxRounds: 3\n"), "the example changed");
    let run = run_on(&server, &file, &[], "Name our product", "");
    let manager = "group_chat_manager";
    assert_eq!(
        run.lines(),
        howdies(&[(manager, "alice"), (manager, "bob"), (manager, "alice")]),
        "{}",
        run.stderr
    );
}

#[ignore = "needs llama-server: scripts/test installs them"]
#[test]
fn the_magentic_workflow_runs_on_llama_server() {
    let server = start("the_magentic_workflow_runs_on_llama_server");
    let run = run_on(&server, &example("magentic.workflow.yaml"), &[], "Plan a team offsite", "");
    // The manager's plan names the team; the run ends with its final answer.
    assert!(run.stdout.contains("- researcher: Finds venues."), "{}", run.stdout);
    assert!(run.stdout.contains("- planner: Writes the agenda."), "{}", run.stdout);
    assert!(run.stdout.trim_end().ends_with(HOWDY), "{}\nstderr:\n{}", run.stdout, run.stderr);
}

#[ignore = "needs llama-server: scripts/test installs them"]
#[test]
fn the_human_input_workflow_runs_on_llama_server() {
    let server = start("the_human_input_workflow_runs_on_llama_server");
    let file = example("human_input.workflow.yaml");
    let run = run_on(&server, &file, &[], "Draft a haiku", "yes\n");
    assert_eq!(run.lines(), howdies(&[("publisher", "publisher")]), "{}", run.stderr);
    assert!(run.stderr.contains("[review] Publish the draft? (yes/no)"), "{}", run.stderr);
    let run = run_on(&server, &file, &[], "Draft a haiku", "no\n");
    assert_eq!(run.lines(), howdies(&[("shredder", "shredder")]), "{}", run.stderr);
}

/// Every example is run above (a new example without a test here fails).
#[test]
fn every_example_has_a_llama_server_test() {
    let tested = [
        "weather.yaml",
        "sentiment.yaml",
        "mcp_agent.yaml",
        "sequential.workflow.yaml",
        "concurrent.workflow.yaml",
        "conditional.workflow.yaml",
        "handoff.workflow.yaml",
        "group_chat.workflow.yaml",
        "magentic.workflow.yaml",
        "human_input.workflow.yaml",
    ];
    let mut found: Vec<String> = std::fs::read_dir(example(""))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    found.sort();
    let mut tested: Vec<String> = tested.iter().map(|name| name.to_string()).collect();
    tested.sort();
    assert_eq!(found, tested);
}

/// The value of an MCP peer variable (a path that exists); a missing peer fails the test.
fn mcp_peer(var: &str) -> String {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() && Path::new(&value).exists() => value,
        _ => panic!(
            "{var} is not set (or does not exist): this test needs the MCP peers; run scripts/test, \
             or `source scripts/peers/mcp.sh` first"
        ),
    }
}
