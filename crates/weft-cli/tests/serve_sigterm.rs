//! SIGTERM while `weft serve` streams: the binary, on a slow model (a Chat Completions server
//! here that streams one word at a time, or stalls), with an MCP server as its child. The stream
//! that ends within `--grace` completes; the one that would not is cancelled at the grace and
//! ends with `response.failed`; new connections are refused at once; the process exits 0 and
//! leaves no child behind.

// A test helper that fails is a failed test: panicking is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
mod serve_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use serve_support::Server;

/// The words the slow model streams, one every [`WORD_PAUSE`].
const WORDS: [&str; 6] = ["the ", "slow ", "model ", "has ", "finished ", "now"];
const WORD_PAUSE: Duration = Duration::from_millis(250);

/// A Chat Completions server on 127.0.0.1: a prompt holding `stall` gets one word and then
/// nothing (keep-alive comments until the client goes away); any other gets [`WORDS`], slowly.
/// Each request's prompt is sent on `seen` once it is read; each stream's end (`finished` or
/// `dropped`, when the client closed it) on `ended`.
struct SlowModel {
    url: String,
    seen: mpsc::Receiver<String>,
    ended: mpsc::Receiver<&'static str>,
}

impl SlowModel {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let (seen_tx, seen) = mpsc::channel();
        let (ended_tx, ended) = mpsc::channel();
        // Detached: it ends with the test process; each connection's thread ends with its stream.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (seen, ended) = (seen_tx.clone(), ended_tx.clone());
                std::thread::spawn(move || answer(stream, &seen, &ended));
            }
        });
        Self { url, seen, ended }
    }

    /// The next prompt the model is asked (within 20 s).
    fn next_prompt(&self) -> String {
        self.seen.recv_timeout(Duration::from_secs(20)).expect("the model is called")
    }
}

fn chunk(delta: Value, finish: Option<&str>) -> String {
    let chunk = json!({
        "id": "chatcmpl-slow", "object": "chat.completion.chunk", "created": 1, "model": "slow",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    });
    format!("data: {chunk}\n\n")
}

fn answer(stream: TcpStream, seen: &mpsc::Sender<String>, ended: &mpsc::Sender<&'static str>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap();
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let request: Value = serde_json::from_slice(&body).unwrap();
    let prompt = request["messages"].as_array().unwrap().last().unwrap()["content"].to_string();
    let stall = prompt.contains("stall");
    let _ = seen.send(prompt);
    let mut out = stream;
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
    let mut write = |text: &str| out.write_all(text.as_bytes()).and_then(|()| out.flush()).is_ok();
    if !write(head) || !write(&chunk(json!({"role": "assistant", "content": ""}), None)) {
        let _ = ended.send("dropped");
        return;
    }
    if stall {
        write(&chunk(json!({"content": WORDS[0]}), None));
        // Until the client goes away (or a minute: the test has failed by then).
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            if !write(": keep-alive\n\n") {
                let _ = ended.send("dropped");
                return;
            }
        }
        let _ = ended.send("stalled");
        return;
    }
    for word in WORDS {
        std::thread::sleep(WORD_PAUSE);
        if !write(&chunk(json!({"content": word}), None)) {
            let _ = ended.send("dropped");
            return;
        }
    }
    let done = write(&chunk(json!({}), Some("stop"))) && write("data: [DONE]\n\n");
    let _ = ended.send(if done { "finished" } else { "dropped" });
}

/// A streamed `POST /v1/responses` on its own connection, read as it comes.
struct Stream {
    reader: BufReader<TcpStream>,
}

impl Stream {
    fn open(server: &Server, input: &str) -> Self {
        let mut socket = TcpStream::connect(server.address()).unwrap();
        socket.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let body = json!({"model": "weft", "input": input, "stream": true}).to_string();
        write!(
            socket,
            "POST /v1/responses HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        Self { reader: BufReader::new(socket) }
    }

    /// The next SSE event's data, or `None` at the end of the stream.
    fn next_event(&mut self) -> Option<Value> {
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).unwrap() == 0 {
                return None;
            }
            if let Some(data) = line.trim_end().strip_prefix("data: ") {
                return Some(serde_json::from_str(data).unwrap());
            }
        }
    }

    /// Every event until the stream ends.
    fn rest(&mut self) -> Vec<Value> {
        std::iter::from_fn(|| self.next_event()).collect()
    }
}

/// The ids of `pid`'s child processes.
fn children(pid: u32) -> Vec<u32> {
    let list = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    list.split_whitespace().map(|id| id.parse().unwrap()).collect()
}

/// Whether process `pid` still runs (a zombie not yet reaped does not).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')))
}

#[test]
fn sigterm_mid_stream_finishes_within_grace_cancels_the_rest_and_exits_cleanly() {
    let model = SlowModel::start();
    let mcp = format!("{} mcp serve", env!("CARGO_BIN_EXE_weft"));
    let grace = 4;
    let mut server = Server::start_with(&[
        "--grace",
        &grace.to_string(),
        "--base-url",
        &model.url,
        "--model",
        "slow",
        "--mcp",
        &mcp,
    ]);
    let mcp_children = children(server.child.id());
    assert_eq!(mcp_children.len(), 1, "the MCP server runs as the server's child");

    let mut quick = Stream::open(&server, "answer slowly");
    assert_eq!(quick.next_event().unwrap()["type"], "response.created");
    assert!(model.next_prompt().contains("answer slowly"));
    let mut stalled = Stream::open(&server, "stall forever");
    assert_eq!(stalled.next_event().unwrap()["type"], "response.created");
    assert!(model.next_prompt().contains("stall forever"));

    let terminated = Instant::now();
    server.signal_term();
    // New connections are refused at once (well within the grace).
    let refused = Instant::now() + Duration::from_secs(grace);
    while TcpStream::connect(server.address()).is_ok() {
        assert!(Instant::now() < refused, "weft serve still accepts connections after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }

    // The run that ends within the grace completes, whole.
    let events = quick.rest();
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.completed", "{events:#?}");
    assert_eq!(last["response"]["output_text"], WORDS.concat(), "{last:#}");
    let sequence: Vec<u64> = events.iter().map(|e| e["sequence_number"].as_u64().unwrap()).collect();
    assert!(sequence.windows(2).all(|w| w[1] == w[0] + 1), "{sequence:?}");
    assert_eq!(model.ended.recv_timeout(Duration::from_secs(20)).unwrap(), "finished");

    // The one past the grace is cancelled then: its stream ends with the documented failure,
    // its model call is dropped.
    let events = stalled.rest();
    let cancelled = terminated.elapsed();
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.failed", "{events:#?}");
    assert_eq!(last["response"]["status"], "failed", "{last:#}");
    assert_eq!(last["response"]["error"]["message"], "The server shut down before the run ended", "{last:#}");
    assert!(
        cancelled >= Duration::from_secs(grace) - Duration::from_millis(500),
        "cancelled after {cancelled:?}"
    );
    assert_eq!(model.ended.recv_timeout(Duration::from_secs(20)).unwrap(), "dropped");

    let status = server.wait();
    assert_eq!(status.code(), Some(0), "{status:?}");
    // Its MCP server went with it.
    let gone = Instant::now() + Duration::from_secs(10);
    while mcp_children.iter().any(|pid| running(*pid)) {
        assert!(Instant::now() < gone, "the MCP server {mcp_children:?} outlived weft serve");
        std::thread::sleep(Duration::from_millis(50));
    }
}
