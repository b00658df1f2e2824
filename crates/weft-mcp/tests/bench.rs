//! Tool-call latency and throughput over stdio and streamable HTTP. Ignored by default:
//! `cargo test -p weft-mcp --release --test bench -- --ignored --nocapture` (with the peers
//! sourced).
//!
//! The server is the test server's `echo` tool, or the benchmark's echo server (the one W6 uses)
//! when `WEFT_MCP_ECHO_SERVER` names its script. `WEFT_MCP_BENCH_HTTP_URL` measures an already running HTTP server instead
//! of starting one; `WEFT_MCP_BENCH_N` sets the number of sequential calls (default 1,000, as W6).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;
use weft_mcp::{HttpServer, McpSource, ServerConfig, StdioServer};

/// The echo server script, and whether it is the benchmark's one.
fn echo_script() -> (String, bool) {
    match std::env::var("WEFT_MCP_ECHO_SERVER").map(PathBuf::from) {
        Ok(script) if script.exists() => (script.display().to_string(), true),
        _ => (common::py_server(), false),
    }
}

async fn measure(label: &str, config: ServerConfig) {
    let n: usize = std::env::var("WEFT_MCP_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let source =
        McpSource::builder("bench", config).connect_timeout(Duration::from_secs(30)).connect().await.unwrap();
    for i in 0..50 {
        source.call_tool("echo", json!({"text": format!("warm-{i}")})).await.unwrap();
    }
    let mut latencies = Vec::with_capacity(n);
    let started = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        let text = format!("msg-{i}");
        let out = source.call_tool("echo", json!({ "text": text })).await.unwrap();
        assert!(out.value.to_string().contains(&text), "{:?}", out.value);
        latencies.push(t.elapsed());
    }
    let sequential = started.elapsed();
    latencies.sort();
    let (tasks, per_task) = (8, 100);
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks {
        let source = source.clone();
        set.spawn(async move {
            for _ in 0..per_task {
                source.call_tool("echo", json!({"text": "y"})).await.unwrap();
            }
        });
    }
    while let Some(done) = set.join_next().await {
        done.unwrap();
    }
    let concurrent = started.elapsed();
    println!(
        "RESULT mcp {label}: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, sequential {:.0} calls/s, 8 concurrent {:.0} calls/s",
        latencies[n / 2].as_secs_f64() * 1000.0,
        latencies[n * 9 / 10].as_secs_f64() * 1000.0,
        latencies[n * 99 / 100].as_secs_f64() * 1000.0,
        n as f64 / sequential.as_secs_f64(),
        f64::from(tasks * per_task) / concurrent.as_secs_f64(),
    );
    source.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn tool_call_latency_and_throughput() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let (script, shared) = echo_script();
    let name = if shared { "echo server" } else { "test server" };
    if std::env::var("WEFT_MCP_BENCH_SKIP_STDIO").is_err() {
        let stdio = StdioServer::new(&python).arg(&script);
        let stdio = if shared { stdio } else { stdio.arg("stdio") };
        measure(&format!("stdio ({name})"), stdio.into()).await;
    }
    match std::env::var("WEFT_MCP_BENCH_HTTP_URL") {
        Ok(url) => measure(&format!("streamable HTTP ({url})"), HttpServer::new(url).into()).await,
        Err(_) => {
            let port = common::free_port();
            let child = std::process::Command::new(&python)
                .arg(&script)
                .args(["http", &port.to_string()])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            let server = common::ServerProcess { child, url: format!("http://127.0.0.1:{port}/mcp"), port };
            common::wait_listening(port).await;
            measure(&format!("streamable HTTP ({name})"), HttpServer::new(&server.url).into()).await;
        }
    }
}
