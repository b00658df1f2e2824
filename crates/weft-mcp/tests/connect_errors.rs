//! Contract: an unreachable server gives a typed error naming the server and the cause, within
//! the connect timeout, leaving no task, child process or socket behind; a caller's own
//! cancellation (dropping the future) is prompt and is not turned into an error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::bounded;
use serde_json::json;
use weft_mcp::{HttpServer, McpSource, StdioServer, UnreachableCause};

/// Connects, expecting an error; checks that the failed connect left no task behind.
async fn connect_err(source: McpSource) -> weft_mcp::McpError {
    let tasks = common::alive_tasks();
    let error = bounded(20, source.connect()).await.expect_err("connect should fail");
    assert!(common::tasks_settle(tasks).await, "tasks {tasks} -> {}", common::alive_tasks());
    error
}

#[tokio::test]
async fn connection_refused_is_typed() {
    let port = common::free_port();
    let source =
        McpSource::builder("refused", HttpServer::new(format!("http://127.0.0.1:{port}/mcp"))).build();
    let error = connect_err(source).await;
    assert_eq!(error.unreachable_cause(), Some(UnreachableCause::ConnectionRefused), "{error}");
    assert_eq!(error.server(), "refused");
    assert!(error.to_string().contains("connection refused"), "{error}");
}

#[tokio::test]
async fn unknown_host_is_dns() {
    let source = McpSource::builder("nohost", HttpServer::new("http://no-such-host.invalid/mcp")).build();
    let error = connect_err(source).await;
    assert_eq!(error.unreachable_cause(), Some(UnreachableCause::Dns), "{error}");
}

#[tokio::test]
async fn tls_failure_is_tls() {
    // A TCP server that answers the TLS client hello with plain text.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            use tokio::io::AsyncWriteExt;
            let _ = socket.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\nnot tls").await;
        }
    });
    let source = McpSource::builder("tls", HttpServer::new(format!("https://127.0.0.1:{port}/mcp"))).build();
    let error = connect_err(source).await;
    server.abort();
    assert_eq!(error.unreachable_cause(), Some(UnreachableCause::Tls), "{error}");
}

#[tokio::test]
async fn http_401_stays_an_auth_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut buffer = [0u8; 4096];
            let _ = socket.read(&mut buffer).await;
            let _ = socket
                .write_all(
                    b"HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Bearer\r\ncontent-length: 0\r\n\r\n",
                )
                .await;
        }
    });
    let source = McpSource::builder("auth", HttpServer::new(format!("http://127.0.0.1:{port}/mcp"))).build();
    let error = connect_err(source).await;
    server.abort();
    assert!(error.is_authentication(), "{error}");
    assert_eq!(error.unreachable_cause(), Some(UnreachableCause::HttpStatus(401)));
}

#[tokio::test]
async fn silent_server_times_out_within_the_connect_timeout() {
    // Accepts TCP and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let source = McpSource::builder("silent", HttpServer::new(format!("http://127.0.0.1:{port}/mcp")))
        .connect_timeout(Duration::from_millis(500))
        .build();
    let started = Instant::now();
    let error = connect_err(source).await;
    server.abort();
    assert_eq!(error.unreachable_cause(), Some(UnreachableCause::Timeout), "{error}");
    assert!(error.is_timeout());
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn missing_command_is_spawn_failed() {
    let source = McpSource::builder("ghost", StdioServer::new("/nonexistent/weft-mcp-server")).build();
    let error = connect_err(source).await;
    assert_eq!(error.unreachable_cause(), Some(UnreachableCause::SpawnFailed), "{error}");
    assert!(error.to_string().contains("/nonexistent/weft-mcp-server"), "{error}");
}

#[tokio::test]
async fn command_exiting_at_once_is_exited_early_with_its_stderr() {
    let source = McpSource::builder(
        "quitter",
        StdioServer::new("sh").args(["-c", "echo 'boom: bad config' >&2; exit 3"]),
    )
    .build();
    let error = connect_err(source).await;
    assert_eq!(error.unreachable_cause(), Some(UnreachableCause::ExitedEarly), "{error}");
    assert!(error.to_string().contains("boom: bad config"), "{error}");
}

#[tokio::test]
async fn silent_child_times_out_and_its_process_group_is_gone() {
    // `sh -c` with a grandchild that would outlive a plain kill of the shell.
    let script = "sleep 301 & echo started >&2; wait";
    let source = McpSource::builder("silent-child", StdioServer::new("sh").args(["-c", script]))
        .connect_timeout(Duration::from_millis(700))
        .build();
    let started = Instant::now();
    let error = connect_err(source).await;
    assert_eq!(error.unreachable_cause(), Some(UnreachableCause::Timeout), "{error}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(no_process_like("sleep 301").await, "a grandchild survived");
}

#[tokio::test]
async fn dropping_connect_cancels_promptly_without_an_error() {
    let source = McpSource::builder("slow", StdioServer::new("sh").args(["-c", "sleep 302 & wait"]))
        .connect_timeout(Duration::from_secs(30))
        .build();
    let started = Instant::now();
    let outcome = tokio::time::timeout(Duration::from_millis(300), source.connect()).await;
    assert!(outcome.is_err(), "connect should still be pending when dropped");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(no_process_like("sleep 302").await, "the child survived the dropped connect");
    // Dropped, not failed: the source is simply not connected.
    let error = bounded(5, source.call_tool("x", json!({}))).await.unwrap_err();
    assert!(error.is_closed(), "{error}");
}

#[tokio::test]
async fn dropping_an_http_connect_cancels_promptly_without_an_error() {
    // Accepts TCP and never answers: the connect is pending in the handshake when dropped.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (accepted, mut accepted_rx) = tokio::sync::mpsc::unbounded_channel();
    let server = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let _ = accepted.send(socket);
        }
    });
    let tasks = common::alive_tasks();
    let source = McpSource::builder("slow-http", HttpServer::new(format!("http://127.0.0.1:{port}/mcp")))
        .connect_timeout(Duration::from_secs(30))
        .build();
    let mut connect = Box::pin(source.connect());
    // Drive the connect until the server holds its connection, then drop it.
    let socket = tokio::select! {
        outcome = &mut connect => panic!("connect finished: {outcome:?}"),
        socket = accepted_rx.recv() => socket.unwrap(),
    };
    let started = Instant::now();
    drop(connect);
    assert!(started.elapsed() < Duration::from_millis(500));
    assert!(common::tasks_settle(tasks).await, "tasks {tasks} -> {}", common::alive_tasks());
    // The client's side of the connection is closed: the server's read ends (EOF or reset).
    let mut socket = socket;
    let mut rest = Vec::new();
    let _ = bounded(5, tokio::io::AsyncReadExt::read_to_end(&mut socket, &mut rest)).await;
    server.abort();
    let error = bounded(5, source.call_tool("x", json!({}))).await.unwrap_err();
    assert!(error.is_closed(), "{error}");
}

#[tokio::test]
async fn calls_before_connect_and_after_close_are_closed_errors() {
    let source = McpSource::builder("idle", StdioServer::new("true")).build();
    let error = source.call_tool("echo", json!({})).await.unwrap_err();
    assert!(error.is_closed(), "{error}");
    assert!(error.to_string().contains("not connected"), "{error}");
    source.close().await;
    source.close().await;
    let error = source.call_tool("echo", json!({})).await.unwrap_err();
    assert!(error.is_closed(), "{error}");
}

/// Waits (bounded) until no process runs this exact command line.
async fn no_process_like(command: &str) -> bool {
    for _ in 0..60 {
        let out = std::process::Command::new("pgrep").args(["-x", "-f", command]).output().unwrap();
        if out.stdout.is_empty() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
