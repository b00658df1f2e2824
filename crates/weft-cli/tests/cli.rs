//! End-to-end tests of the `weft` binary on the scripted model.

// A test helper that fails is a failed test: panicking is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
use common::{run, text, weft};

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use weft::{AgentSession, Role};

/// A fresh path in the temp directory (the file does not exist yet).
fn temp_path(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let unique =
        format!("weft-cli-{}-{}-{name}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    let path = std::env::temp_dir().join(unique);
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn run_streams_the_answer_and_shows_tool_calls() {
    let output = run(&["run", "What's the weather in Paris?"]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}", output.status);
    assert!(stdout.contains("weather in Paris"), "stdout:\n{stdout}");
    assert!(stdout.ends_with('\n'), "the answer ends its line: {stdout:?}");
    assert!(stderr.contains("scripted model"), "stderr:\n{stderr}");
    assert!(stderr.contains("→ get_weather {\"city\":\"Paris\"}"), "stderr:\n{stderr}");
    assert!(stderr.contains("← weather in Paris: "), "stderr:\n{stderr}");
    // Tool activity stays off stdout.
    assert!(!stdout.contains('→'), "stdout:\n{stdout}");
}

#[test]
fn json_output_is_one_event_per_line() {
    let output = run(&["run", "--json", "What's the weather in Paris?"]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "stderr:\n{}", text(&output.stderr));
    let events: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let of_type = |kind: &str| events.iter().filter(|e| e["type"] == kind).collect::<Vec<_>>();

    let calls = of_type("function_call");
    assert_eq!(calls.len(), 1, "{stdout}");
    assert_eq!(calls[0]["name"], "get_weather");
    assert_eq!(calls[0]["arguments"]["city"], "Paris");
    let results = of_type("function_result");
    assert_eq!(results.len(), 1, "{stdout}");
    assert_eq!(results[0]["call_id"], calls[0]["call_id"]);
    assert!(results[0]["result"].as_str().is_some_and(|r| r.starts_with("weather in Paris")), "{stdout}");

    let streamed: String = of_type("text").iter().filter_map(|e| e["text"].as_str()).collect();
    let done = events.last().expect("at least one event");
    assert_eq!(done["type"], "done", "the last event is done: {stdout}");
    assert_eq!(done["text"], streamed.as_str());
    assert!(done["usage"]["total_tokens"].as_u64().is_some_and(|t| t > 0), "{done}");
}

#[test]
fn a_session_file_keeps_the_conversation_across_runs() {
    let path = temp_path("session.json");
    let path_arg = path.to_str().expect("a UTF-8 temp path");
    for prompt in ["What's the weather in Paris?", "And add 2 and 3"] {
        let output = run(&["run", "--session", path_arg, prompt]);
        assert!(output.status.success(), "stderr:\n{}", text(&output.stderr));
    }
    let session = AgentSession::load(&path).expect("the session file loads");
    let _ = std::fs::remove_file(&path);
    let users: Vec<String> =
        session.messages.iter().filter(|m| m.role == Role::User).map(|m| m.text()).collect();
    assert_eq!(users, ["What's the weather in Paris?", "And add 2 and 3"]);
    let answers = session.messages.iter().filter(|m| m.role == Role::Assistant).map(|m| m.text());
    assert!(answers.clone().any(|a| a.contains("weather in Paris")), "{session:?}");
    assert!(answers.clone().any(|a| a.contains("2 + 3 = 5")), "{session:?}");
}

#[test]
fn a_bad_flag_is_a_usage_error() {
    let output = run(&["run", "--no-such-flag", "hi"]);
    assert_eq!(output.status.code(), Some(2), "stderr:\n{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("--no-such-flag"));
    assert!(output.stdout.is_empty());

    let output = run(&["run", "--api", "nonsense", "hi"]);
    assert_eq!(output.status.code(), Some(2));
    let output = run(&["run", "--max-iterations", "0", "hi"]);
    assert_eq!(output.status.code(), Some(2));
    let output = run(&["run", "   "]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("weft: error: the prompt is empty"));
}

#[test]
fn hitting_the_iteration_limit_is_a_model_error() {
    let output = run(&["run", "--max-iterations", "1", "--json", "What's the weather in Paris?"]);
    assert_eq!(output.status.code(), Some(3), "stderr:\n{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    let error_lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("weft: error: ")).collect();
    assert_eq!(error_lines.len(), 1, "{stderr}");
    assert!(error_lines[0].contains("after 1 model calls"), "{stderr}");
    let stdout = text(&output.stdout);
    let last: Value = serde_json::from_str(stdout.lines().last().expect("events")).expect("JSON");
    assert_eq!(last["type"], "error");
    assert_eq!(last["exit_code"], 3);
}

#[test]
fn a_corrupt_session_file_is_reported_and_left_alone() {
    let path = temp_path("corrupt.json");
    std::fs::write(&path, "not json").expect("write");
    let output = run(&["run", "--session", path.to_str().expect("UTF-8"), "hi"]);
    let kept = std::fs::read_to_string(&path).expect("read");
    let _ = std::fs::remove_file(&path);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!("weft: error: session file {}: invalid session JSON", path.display())),
        "{stderr}"
    );
    assert_eq!(kept, "not json");
}

#[test]
fn the_prompt_can_come_from_stdin() {
    use std::io::Write;
    let mut child = weft()
        .args(["run", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(b"add 40 and 2").expect("write");
    let output = child.wait_with_output().expect("wait");
    assert!(output.status.success(), "stderr:\n{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("40 + 2 = 42"), "{}", text(&output.stdout));
}

/// A one-shot OpenAI-compatible server: answers each connection with the next body as a
/// server-sent-event stream and hands back the request bodies it received. It gives up after 30
/// seconds without a connection, so a failing test never hangs.
fn sse_server(bodies: Vec<String>) -> (String, std::thread::JoinHandle<Vec<Value>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::time::{Duration, Instant};

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base_url = format!("http://{}/v1", listener.local_addr().expect("address"));
    listener.set_nonblocking(true).expect("nonblocking");
    let handle = std::thread::spawn(move || {
        let mut received = Vec::new();
        for body in bodies {
            let deadline = Instant::now() + Duration::from_secs(30);
            let stream = loop {
                match listener.accept() {
                    Ok((stream, _)) => break stream,
                    Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
                    Err(_) => return received,
                }
            };
            stream.set_nonblocking(false).expect("blocking");
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("request line");
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().expect("content length");
                    }
                }
                if line == "\r\n" || line.is_empty() {
                    break;
                }
            }
            let mut request = vec![0; length];
            reader.read_exact(&mut request).expect("request body");
            received.push(serde_json::from_slice(&request).expect("a JSON request"));
            let mut stream = reader.into_inner();
            write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .expect("response");
        }
        received
    });
    (base_url, handle)
}

fn sse(events: &[Value], done: bool) -> String {
    let mut body: String = events.iter().map(|event| format!("data: {event}\n\n")).collect();
    if done {
        body.push_str("data: [DONE]\n\n");
    }
    body
}

#[test]
fn base_url_selects_the_openai_chat_provider_and_runs_its_tool_calls() {
    use serde_json::json;
    let arguments = json!({"city": "Paris"}).to_string();
    let call = sse(
        &[
            json!({"id": "c1", "choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [
                {"index": 0, "id": "call_1", "type": "function",
                 "function": {"name": "get_weather", "arguments": arguments}}]}}]}),
            json!({"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
        ],
        true,
    );
    let answer = sse(
        &[
            json!({"id": "c2", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Paris is "}}]}),
            json!({"id": "c2", "choices": [{"index": 0, "delta": {"content": "lovely."}, "finish_reason": "stop"}]}),
            json!({"id": "c2", "choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": 4, "total_tokens": 24}}),
        ],
        true,
    );
    let (base_url, server) = sse_server(vec![call, answer]);
    let output = run(&["run", "--base-url", &base_url, "--model", "test-model", "Weather in Paris?"]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.contains(&format!("weft: using openai chat at {base_url}, model test-model")), "{stderr}");
    assert!(stderr.contains("→ get_weather {\"city\":\"Paris\"}"), "{stderr}");
    assert!(stderr.contains("← weather in Paris: "), "{stderr}");
    assert_eq!(stdout, "Paris is lovely.\n");

    let requests = server.join().expect("the server thread");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0]["model"], "test-model");
    assert_eq!(requests[0]["stream"], true);
    let tools = requests[0]["tools"].as_array().expect("tools are offered");
    assert!(tools.iter().any(|t| t["function"]["name"] == "get_weather"), "{}", requests[0]);
    let history = requests[1]["messages"].to_string();
    assert!(history.contains("weather in Paris: "), "the tool result goes back to the model: {history}");
}

#[test]
fn the_responses_api_is_used_when_asked_for() {
    use serde_json::json;
    let body = sse(
        &[
            json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "delta": "Hi from "}),
            json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "delta": "responses"}),
            json!({"type": "response.completed", "response": {"id": "resp_1", "status": "completed", "output": [],
                "usage": {"input_tokens": 3, "output_tokens": 3, "total_tokens": 6}}}),
        ],
        false,
    );
    let (base_url, server) = sse_server(vec![body]);
    let output = run(&["run", "--base-url", &base_url, "--api", "responses", "--json", "hello"]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stderr.contains(&format!("weft: using openai responses at {base_url}, model gpt-4o-mini")),
        "{stderr}"
    );
    let done: Value = serde_json::from_str(stdout.lines().last().expect("events")).expect("JSON");
    assert_eq!(done["type"], "done");
    assert_eq!(done["text"], "Hi from responses");
    assert_eq!(done["usage"]["total_tokens"], 6);
    let requests = server.join().expect("the server thread");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["model"], "gpt-4o-mini");
    assert!(requests[0].get("input").is_some(), "a Responses request: {}", requests[0]);
}

#[test]
fn an_unreachable_provider_is_a_model_error_with_its_cause() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let base_url = format!("http://127.0.0.1:{port}/v1");
    let output = run(&["run", "--base-url", &base_url, "hello"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("weft: error: ")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("network error"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_base_url_that_is_not_http_is_a_usage_error() {
    let output = run(&["run", "--base-url", "localhost:8080", "hello"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("http://"), "{}", text(&output.stderr));
}

/// A server that accepts connections, reads each request, answers with `head` (possibly
/// nothing) and then holds the connection open without another byte. It stops accepting after
/// 20 seconds, so a failing test never hangs.
fn hanging_server(head: &'static str) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::time::{Duration, Instant};

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base_url = format!("http://{}/v1", listener.local_addr().expect("address"));
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut held = Vec::new();
        while Instant::now() < deadline {
            let Ok((stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            stream.set_nonblocking(false).expect("blocking");
            let mut reader = BufReader::new(stream);
            let mut length = 0;
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
            }
            let _ = reader.read_exact(&mut vec![0; length]);
            let mut stream = reader.into_inner();
            let _ = stream.write_all(head.as_bytes());
            held.push(stream);
        }
    });
    base_url
}

#[test]
fn a_model_server_that_never_answers_is_a_timeout_naming_the_flag() {
    let base_url = hanging_server("");
    let started = std::time::Instant::now();
    let output = run(&["run", "--base-url", &base_url, "--timeout", "1", "hello"]);
    let elapsed = started.elapsed();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("weft: error: ")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("timed out: no response from"), "{stderr}");
    assert!(errors[0].contains("within 1s (the first-byte timeout"), "{stderr}");
    assert!(errors[0].contains("raise it with --timeout SECS"), "{stderr}");
    assert!(!errors[0].contains("OpenAIBuilder"), "{stderr}");
    // One attempt: the client's own deadline is not retried.
    assert!(elapsed < std::time::Duration::from_secs(10), "{elapsed:?}");
}

#[test]
fn a_silent_model_stream_hits_the_idle_timeout_flag() {
    let base_url =
        hanging_server("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n: keep-alive\r\n\r\n");
    let output = run(&["run", "--base-url", &base_url, "--idle-timeout", "1", "hello"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("timed out: no stream event from"), "{stderr}");
    assert!(stderr.contains("raise it with --idle-timeout SECS"), "{stderr}");
}

#[test]
fn credentials_in_the_base_url_are_masked_in_output() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let base_url = format!("http://bob:hunter22@127.0.0.1:{port}/v1?token=t0p-secret");
    let output = run(&["run", "--base-url", &base_url, "hello"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&format!("http://***@127.0.0.1:{port}/v1?token=***")), "{stderr}");
    for secret in ["hunter22", "t0p-secret", "bob"] {
        assert!(!stderr.contains(secret), "{secret} in {stderr}");
    }
    let output = run(&["run", "--base-url", "localhost:1?token=t0p-secret", "hello"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(!text(&output.stderr).contains("t0p-secret"), "{}", text(&output.stderr));
}

#[test]
fn a_reader_that_closes_the_pipe_early_stops_weft_quietly() {
    // `weft run --json … | head -1`: the reader goes away before weft has written everything.
    let mut child = weft()
        .args(["run", "--json", "add 2 and 3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the weft binary runs");
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{:?}\n{stderr}", output.status);
    assert!(!stderr.contains("error"), "{stderr}");
}

#[test]
fn a_bad_header_is_refused_without_showing_its_value() {
    // The colon forgotten: the value may be a credential, so the error does not repeat it.
    for command in [&["mcp", "tools"][..], &["run"][..]] {
        let mut args = command.to_vec();
        args.extend(["--header", "Authorization Bearer sk-header-secret", "http://127.0.0.1:9/mcp"]);
        let output = common::run(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--header") && stderr.contains("NAME:VALUE"), "{stderr}");
        assert!(!stderr.contains("sk-header-secret"), "{stderr}");
    }
}

#[test]
fn a_cassette_that_cannot_be_read_or_written_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.jsonl").display().to_string();
    let output = run(&["run", "--replay", &missing, "hi"]);
    assert_eq!(output.status.code(), Some(2), "stderr:\n{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("cannot read the cassette"), "{}", text(&output.stderr));
    let unwritable = dir.path().join("no-such-dir").join("c.jsonl").display().to_string();
    let output = run(&["run", "--record", &unwritable, "--base-url", "http://127.0.0.1:9/v1", "hi"]);
    assert_eq!(output.status.code(), Some(2), "stderr:\n{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("cannot write the cassette"), "{}", text(&output.stderr));
    let output = run(&["run", "--record", &missing, "--replay", &missing, "hi"]);
    assert_eq!(output.status.code(), Some(2));
}
