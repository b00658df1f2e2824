//! What the `weft` binary says besides answers, and the commands around runs: retry notices,
//! `-q`/`-v`, `[env: …]` in help, one exit-code table, `weft models`, `weft completions`, and
//! the errors of an MCP server that is not one (HTTP 404) or that crashes on start.

// A test helper that fails is a failed test: panicking is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
use common::{run, text, weft};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A server that answers each connection with the next raw HTTP response, whatever was asked,
/// and hands back the request heads it got. It gives up after 30 s without a connection.
fn raw_server(responses: Vec<String>) -> (String, JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    listener.set_nonblocking(true).expect("nonblocking");
    let handle = std::thread::spawn(move || {
        let mut heads = Vec::new();
        for response in responses {
            let deadline = Instant::now() + Duration::from_secs(30);
            let stream = loop {
                match listener.accept() {
                    Ok((stream, _)) => break stream,
                    Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
                    Err(_) => return heads,
                }
            };
            stream.set_nonblocking(false).expect("blocking");
            stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
            let mut reader = BufReader::new(stream);
            let (mut head, mut length) = (String::new(), 0);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            heads.push(head);
            let _ = reader.into_inner().write_all(response.as_bytes());
        }
        heads
    });
    (address, handle)
}

fn response(status: &str, headers: &str, body: &str) -> String {
    format!("HTTP/1.1 {status}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
}

/// A streamed Chat Completions answer saying `text`.
fn answer(text: &str) -> String {
    let chunk = json!({"id": "c1", "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": "stop"}]});
    response("200 OK", "content-type: text/event-stream\r\n", &format!("data: {chunk}\n\ndata: [DONE]\n\n"))
}

fn busy() -> String {
    response(
        "429 Too Many Requests",
        "content-type: application/json\r\nretry-after: 0\r\n",
        r#"{"error": {"message": "slow down", "type": "rate_limit"}}"#,
    )
}

#[test]
fn a_retry_is_one_notice_line_and_quiet_hides_it() {
    let (base, server) = raw_server(vec![busy(), answer("Hello after a wait.")]);
    let output = run(&["run", "--base-url", &format!("{base}/v1"), "hi"]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(stdout, "Hello after a wait.\n");
    let notices: Vec<&str> = stderr.lines().filter(|line| line.contains("retrying")).collect();
    assert_eq!(
        notices,
        ["weft: model server busy (HTTP 429), retrying in 0s (attempt 2 of 3)"],
        "stderr:\n{stderr}"
    );
    assert!(!stderr.contains("WARN"), "no raw tracing line: {stderr}");
    assert_eq!(server.join().unwrap().len(), 2);

    let (base, server) = raw_server(vec![busy(), answer("Quietly.")]);
    let output = run(&["-q", "run", "--base-url", &format!("{base}/v1"), "hi"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "Quietly.\n");
    assert_eq!(text(&output.stderr), "", "-q leaves only the answer");
    server.join().unwrap();
}

#[test]
fn verbose_shows_debug_logs_and_rust_log_wins() {
    let quiet_run = run(&["run", "hello"]);
    assert!(!text(&quiet_run.stderr).contains("run finished"), "{}", text(&quiet_run.stderr));
    let verbose = run(&["-v", "run", "hello"]);
    assert!(verbose.status.success());
    assert!(text(&verbose.stderr).contains("run finished"), "{}", text(&verbose.stderr));
    let logged = weft().args(["-q", "run", "hello"]).env("RUST_LOG", "info").output().unwrap();
    assert!(text(&logged.stderr).contains("run finished"), "{}", text(&logged.stderr));
    assert_eq!(run(&["-q", "-v", "run", "hello"]).status.code(), Some(2), "-q and -v conflict");
}

#[test]
fn options_read_from_the_environment_say_so_in_help_without_secrets() {
    let help = weft()
        .args(["run", "--help"])
        .env("OPENAI_BASE_URL", "https://user:sk-secret@example.invalid/v1")
        .output()
        .unwrap();
    let help = text(&help.stdout);
    assert!(help.contains("[env: OPENAI_MODEL"), "{help}");
    assert!(help.contains("[env: OPENAI_BASE_URL"), "{help}");
    assert!(help.contains("OPENAI_API_KEY"), "{help}");
    assert!(help.contains("--provider <NAME>") && help.contains("ANTHROPIC_API_KEY"), "{help}");
    assert!(help.contains("GEMINI_API_KEY, GOOGLE_API_KEY") && help.contains("GEMINI_MODEL"), "{help}");
    assert!(help.contains("OLLAMA_HOST") && help.contains("OLLAMA_MODEL"), "{help}");
    assert!(help.contains("RUST_LOG"), "{help}");
    assert!(!help.contains("sk-secret"), "{help}");
    let models = text(&run(&["models", "--help"]).stdout);
    assert!(models.contains("[env: OPENAI_BASE_URL"), "{models}");
}

/// The exit-code table at the end of a help text.
fn exit_codes(help: &str) -> &str {
    let start = help.find("Exit codes:").unwrap_or_else(|| panic!("no exit codes in:\n{help}"));
    &help[start..]
}

#[test]
fn every_command_shows_the_same_exit_codes() {
    let run_help = text(&run(&["run", "--help"]).stdout);
    let table = exit_codes(&run_help).to_string();
    for args in [&["--help"][..], &["mcp", "--help"], &["chat", "--help"], &["models", "--help"]] {
        let help = text(&run(args).stdout);
        assert_eq!(exit_codes(&help), table, "weft {args:?}");
    }
    for line in ["  3    the model failed", "  2    usage errors", "  130  interrupted"] {
        assert!(table.contains(line), "{line}: {table}");
    }
}

#[test]
fn the_anthropic_provider_without_a_key_or_server_is_a_usage_error() {
    let output = run(&["run", "--provider", "anthropic", "hello"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("ANTHROPIC_API_KEY"), "{}", text(&output.stderr));
}

#[test]
fn the_gemini_provider_without_a_key_or_server_is_a_usage_error() {
    let output = run(&["run", "--provider", "gemini", "hello"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("GEMINI_API_KEY or GOOGLE_API_KEY"), "{}", text(&output.stderr));
}

#[test]
fn the_gemini_provider_streams_from_the_gemini_api() {
    let chunk = |text: &str, finish: &str| json!({"candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": finish, "index": 0}]});
    let stream = format!(
        "data: {}\r\n\r\ndata: {}\r\n\r\n",
        json!({"candidates": [{"content": {"parts": [{"text": "Howdy"}], "role": "model"}, "index": 0}]}),
        chunk(", pal!", "STOP")
    );
    let (base, server) = raw_server(vec![response("200 OK", "content-type: text/event-stream\r\n", &stream)]);
    let output = weft()
        .args(["run", "--provider", "gemini", "--base-url", &format!("{base}/v1beta"), "hello"])
        .env("GEMINI_API_KEY", "AIza-cli-secret")
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(text(&output.stdout), "Howdy, pal!\n");
    assert!(
        stderr.contains(&format!("weft: using gemini at {base}/v1beta, model gemini-2.5-flash")),
        "{stderr}"
    );
    assert!(!stderr.contains("AIza-cli-secret"), "{stderr}");
    let heads = server.join().unwrap();
    assert!(
        heads[0].starts_with("POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse "),
        "{heads:?}"
    );
    assert!(heads[0].to_ascii_lowercase().contains("x-goog-api-key: aiza-cli-secret"), "{heads:?}");
}

#[test]
fn the_iteration_limit_error_names_the_flag() {
    let output = run(&["run", "--max-iterations", "1", "What's the weather in Paris?"]);
    assert_eq!(output.status.code(), Some(3));
    let stderr = text(&output.stderr);
    let error = stderr.lines().find(|l| l.starts_with("weft: error: ")).expect("an error line");
    assert!(error.contains("after 1 model calls") && error.contains("--max-iterations"), "{stderr}");
}

#[test]
fn models_lists_what_the_server_serves() {
    let list = json!({"object": "list", "data": [
        {"id": "llama-3.2-1b", "object": "model", "owned_by": "llamacpp", "created": 1},
        {"id": "qwen2.5-0.5b", "object": "model"}
    ]})
    .to_string();
    let ok = || response("200 OK", "content-type: application/json\r\n", &list);
    let (base, server) = raw_server(vec![ok(), ok()]);
    let output = weft()
        .args(["models", "--base-url", &format!("{base}/v1")])
        .env("OPENAI_API_KEY", "sk-test-key")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "llama-3.2-1b\nqwen2.5-0.5b\n");
    let output =
        weft().args(["models", "--json"]).env("OPENAI_BASE_URL", format!("{base}/v1")).output().unwrap();
    let models: Vec<Value> = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(models[0]["owned_by"], "llamacpp");
    assert_eq!(models[1]["id"], "qwen2.5-0.5b");
    let heads = server.join().unwrap();
    assert!(heads[0].starts_with("GET /v1/models "), "{}", heads[0]);
    assert!(heads[0].to_lowercase().contains("authorization: bearer sk-test-key"), "{}", heads[0]);
}

#[test]
fn models_reports_a_refusal_and_a_missing_server() {
    let refused = response(
        "401 Unauthorized",
        "content-type: application/json\r\n",
        r#"{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}"#,
    );
    let (base, server) = raw_server(vec![refused]);
    let output = weft()
        .args(["models", "--base-url", &format!("{base}/v1")])
        .env("OPENAI_API_KEY", "sk-very-secret")
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("weft: error: could not list the models: "), "{stderr}");
    assert!(stderr.contains("HTTP 401") && stderr.contains("Incorrect API key"), "{stderr}");
    assert!(!stderr.contains("sk-very-secret"), "{stderr}");
    server.join().unwrap();

    let output = run(&["models"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--base-url"), "{}", text(&output.stderr));
}

#[test]
fn completions_name_the_subcommands() {
    let output = run(&["completions", "bash"]);
    assert!(output.status.success());
    let script = text(&output.stdout);
    for name in ["run", "chat", "mcp", "models", "completions", "--max-iterations"] {
        assert!(script.contains(name), "{name} missing from the bash script");
    }
    let zsh = text(&run(&["completions", "zsh"]).stdout);
    assert!(zsh.starts_with("#compdef weft"), "{zsh}");
    assert_eq!(run(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn an_http_404_says_there_is_no_mcp_endpoint_there() {
    let not_found = || response("404 Not Found", "content-type: text/plain\r\n", "Not Found");
    let (base, _server) = raw_server(vec![not_found(), not_found(), not_found()]);
    let url = format!("{base}/wrong-path");
    let output = run(&["mcp", "tools", &url]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "weft: error: {url}: no MCP endpoint at this URL (the server answered HTTP 404 Not Found; \
             is the path right, e.g. /mcp?)\n"
        )
    );
}

#[test]
fn a_crashed_stdio_server_shows_its_error_line() {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/servers/node_crash.sh");
    let server = format!("sh {}", script.display());
    let output = run(&["mcp", "tools", &server]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("Error: Cannot find module '/srv/mcp/dist/index.js'"), "{stderr}");
    assert!(stderr.contains("exited during the handshake"), "{stderr}");
    assert!(!stderr.contains("    at Module"), "no stack frames: {stderr}");
}

/// A streamed `/api/chat` answer saying `text` (NDJSON, the counts on the last line).
fn ollama_answer(text: &str) -> String {
    let line = json!({"model": "llama3.2", "created_at": "2023-08-04T08:52:19.385406455-07:00",
        "message": {"role": "assistant", "content": text}, "done": false});
    let last = json!({"model": "llama3.2", "created_at": "2023-08-04T19:22:45.499127Z", "done": true,
        "done_reason": "stop", "prompt_eval_count": 26, "eval_count": 3});
    response("200 OK", "content-type: application/x-ndjson\r\n", &format!("{line}\n{last}\n"))
}

#[test]
fn the_ollama_provider_talks_to_api_chat() {
    // --base-url is the host; --model the model.
    let (base, server) = raw_server(vec![ollama_answer("Hello from Ollama.")]);
    let output = run(&["run", "--provider", "ollama", "--base-url", &base, "--model", "qwen3", "hi"]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(stdout, "Hello from Ollama.\n");
    assert!(stderr.contains(&format!("using ollama at {base}, model qwen3")), "{stderr}");
    let heads = server.join().unwrap();
    assert!(heads[0].starts_with("POST /api/chat "), "{heads:?}");
    // OLLAMA_HOST as Ollama takes it (host:port, no scheme), and the default model.
    let (base, server) = raw_server(vec![ollama_answer("From the environment.")]);
    let host = base.trim_start_matches("http://").to_string();
    let output =
        weft().args(["run", "--provider", "ollama", "hi"]).env("OLLAMA_HOST", &host).output().unwrap();
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(stdout, "From the environment.\n");
    assert!(stderr.contains(&format!("using ollama at {base}, model llama3.2")), "{stderr}");
    server.join().unwrap();
    // Nothing listening: the model failed (exit 3), naming Ollama's endpoint.
    let output = run(&["run", "--provider", "ollama", "--base-url", "http://127.0.0.1:9", "hi"]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("ollama http://127.0.0.1:9"), "{}", text(&output.stderr));
}
