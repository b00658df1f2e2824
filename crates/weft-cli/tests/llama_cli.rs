//! The `weft` binary against a real OpenAI-compatible server: llama.cpp's `llama-server` with
//! a tiny deterministic model that answers `Howdy, pal!` (built by `scripts/peers/llama.sh`).
//!
//! The tests are `#[ignore]`d in plain `cargo nextest run`; `scripts/test` builds the peer and
//! runs them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[path = "../../weft-openai/tests/support/llama.rs"]
mod llama;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use llama::{LlamaServer, Options, peer};

/// The longest one `weft run` may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the binary with every OPENAI_* variable removed, then `env` set; returns (success,
/// stdout, stderr). Killed (and the test failed) after [`RUN_TIMEOUT`].
fn weft(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut command = common::weft();
    let mut child = command
        .args(args)
        .envs(env.iter().copied())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the weft binary runs");
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
                "weft {args:?} did not finish within {RUN_TIMEOUT:?}; stderr:\n{}",
                stderr.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (status.success(), stdout.join().unwrap(), stderr.join().unwrap())
}

#[ignore = "needs llama-server: scripts/test builds it"]
#[test]
fn weft_run_streams_howdy_from_llama_server_over_either_api() {
    let peer = peer("weft_run_streams_howdy_from_llama_server_over_either_api");
    let server = LlamaServer::start(&peer, &Options::default());
    let base_url = server.base_url();
    for api in [None, Some("chat"), Some("responses")] {
        let mut args = vec!["run", "--base-url", &base_url, "--model", "tiny"];
        if let Some(api) = api {
            args.extend(["--api", api]);
        }
        args.push("hello");
        let (success, stdout, stderr) = weft(&args, &[]);
        assert!(success, "{args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}\nserver log:\n{}", server.log());
        assert_eq!(stdout, "Howdy, pal!\n", "{args:?}\nstderr:\n{stderr}");
        // The chosen API (chat by default) is the one called.
        let label = api.unwrap_or("chat");
        let expected = format!("weft: using openai {label} at {base_url}, model tiny");
        assert!(stderr.contains(&expected), "{args:?}: expected {expected:?} in\n{stderr}");
    }
}

#[ignore = "needs llama-server: scripts/test builds it"]
#[test]
fn weft_run_streams_howdy_from_llama_server_over_the_anthropic_api() {
    let peer = peer("weft_run_streams_howdy_from_llama_server_over_the_anthropic_api");
    let server = LlamaServer::start(&peer, &Options::default());
    let root = format!("http://127.0.0.1:{}", server.port());
    // The server from the flag, then from ANTHROPIC_BASE_URL (an OPENAI_BASE_URL is the other
    // provider's, and ignored).
    type Run<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>);
    let runs: [Run<'_>; 2] = [
        (vec!["run", "--provider", "anthropic", "--base-url", &root, "--model", "tiny", "hello"], vec![]),
        (
            vec!["run", "--provider", "anthropic", "hello"],
            vec![
                ("ANTHROPIC_BASE_URL", root.as_str()),
                ("ANTHROPIC_MODEL", "tiny"),
                ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1"),
            ],
        ),
    ];
    for (args, env) in runs {
        let (success, stdout, stderr) = weft(&args, &env);
        assert!(success, "{args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}\nserver log:\n{}", server.log());
        assert_eq!(stdout, "Howdy, pal!\n", "{args:?}\nstderr:\n{stderr}");
        let expected = format!("weft: using anthropic messages at {root}, model tiny");
        assert!(stderr.contains(&expected), "{args:?}: expected {expected:?} in\n{stderr}");
    }
}

#[ignore = "needs llama-server: scripts/test builds it"]
#[test]
fn weft_run_reports_a_wrong_key_as_a_provider_error() {
    let peer = peer("weft_run_reports_a_wrong_key_as_a_provider_error");
    let server =
        LlamaServer::start(&peer, &Options { api_key: Some("sk-right".into()), ..Options::default() });
    let base_url = server.base_url();
    let args = ["run", "--base-url", &base_url, "--model", "tiny", "hello"];
    let (success, stdout, stderr) = weft(&args, &[("OPENAI_API_KEY", "sk-wrong")]);
    assert!(!success, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.contains("authentication failed (HTTP 401)"), "stderr:\n{stderr}");
    // With the right key (from OPENAI_API_KEY, as documented) it answers.
    let (success, stdout, stderr) = weft(&args, &[("OPENAI_API_KEY", "sk-right")]);
    assert!(success, "stderr:\n{stderr}");
    assert_eq!(stdout, "Howdy, pal!\n");
}

#[ignore = "needs llama-server: scripts/test builds it"]
#[test]
fn weft_run_records_a_cassette_from_llama_server_and_replays_it_without_the_server() {
    let peer = peer("weft_run_records_a_cassette_from_llama_server_and_replays_it_without_the_server");
    let dir = tempfile::tempdir().unwrap();
    let mut server = LlamaServer::start(&peer, &Options::default());
    let openai = server.base_url();
    let anthropic = format!("http://127.0.0.1:{}", server.port());
    let providers: [Vec<&str>; 2] = [
        vec!["--base-url", &openai, "--model", "tiny"],
        vec!["--provider", "anthropic", "--base-url", &anthropic, "--model", "tiny"],
    ];
    let cassettes: Vec<String> =
        (0..2).map(|at| dir.path().join(format!("run-{at}.jsonl")).display().to_string()).collect();
    for (provider, cassette) in providers.iter().zip(&cassettes) {
        let args = [&["run", "--record", cassette][..], provider, &["hello"]].concat();
        let (success, stdout, stderr) = weft(&args, &[]);
        assert!(success && stdout == "Howdy, pal!\n", "{args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    }
    server.kill();
    for (provider, cassette) in providers.iter().zip(&cassettes) {
        let args = [&["run", "--replay", cassette][..], provider, &["hello"]].concat();
        let (success, stdout, stderr) = weft(&args, &[]);
        assert!(success && stdout == "Howdy, pal!\n", "{args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        // Another prompt is another request: the cassette does not hold it.
        let args = [&["run", "--replay", cassette][..], provider, &["goodbye"]].concat();
        let (success, _, stderr) = weft(&args, &[]);
        assert!(!success, "{args:?}");
        assert!(stderr.contains("no entry of the cassette") && stderr.contains("goodbye"), "{stderr}");
    }
}
