//! The `smoke` example against a real OpenAI-compatible server: llama.cpp's `llama-server` with
//! its tiny deterministic model (built by `scripts/peers/llama.sh`). The example calls both APIs,
//! plain and streamed; every call must succeed and the model's answer must show.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../weft/tests/support/examples.rs"]
mod examples_support;
#[path = "support/llama.rs"]
mod llama;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use llama::{LlamaServer, Options, peer};

/// The built example `name` (see `examples_support::example_path`).
fn example_path(name: &str) -> PathBuf {
    examples_support::example_path(
        name,
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples")),
    )
}

#[ignore = "needs llama-server: scripts/test builds it"]
#[test]
fn smoke_runs_both_apis_against_llama_server() {
    let peer = peer("smoke_runs_both_apis_against_llama_server");
    let server = LlamaServer::start(&peer, &Options::default());
    let mut child = Command::new(example_path("smoke"))
        .arg("What is the weather in Paris?")
        .env_remove("OPENAI_API_KEY")
        .env("OPENAI_BASE_URL", server.base_url())
        .env("OPENAI_MODEL", "tiny")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read both pipes on their own threads, so a full pipe never stalls the example.
    let read = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                std::io::Read::read_to_string(&mut pipe, &mut text).unwrap();
            }
            text
        })
    };
    let stdout = read(child.stdout.take().map(|pipe| Box::new(pipe) as Box<dyn std::io::Read + Send>));
    let stderr = read(child.stderr.take().map(|pipe| Box::new(pipe) as Box<dyn std::io::Read + Send>));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("the smoke example ran over 90 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert!(status.success(), "{status:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(!stdout.contains("failed"), "a call failed:\n{stdout}");
    for api in ["chat", "responses"] {
        let plain =
            stdout.lines().find(|line| line.starts_with(&format!("{api} plain: "))).unwrap_or_else(|| {
                panic!("no `{api} plain:` line:\n{stdout}");
            });
        assert!(plain.contains("Howdy, pal!"), "{plain}");
        let streamed = stdout
            .lines()
            .find(|line| line.starts_with(&format!("{api} streamed: ")))
            .unwrap_or_else(|| panic!("no `{api} streamed:` line:\n{stdout}"));
        let updates: usize = streamed
            .trim_start_matches(&format!("{api} streamed: "))
            .split_whitespace()
            .next()
            .and_then(|count| count.parse().ok())
            .unwrap();
        assert!(updates > 1, "{streamed}");
    }
}
