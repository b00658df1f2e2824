//! Tool-call latency and throughput over stdio and streamable HTTP, against the Python test
//! server's `echo` tool. Ignored by default: `cargo test -p weft-mcp --release --test bench --
//! --ignored --nocapture` (with the peers sourced).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use serde_json::json;
use weft_mcp::{HttpServer, McpSource, ServerConfig, StdioServer};

async fn measure(label: &str, config: ServerConfig) {
    let source =
        McpSource::builder("bench", config).connect_timeout(Duration::from_secs(30)).connect().await.unwrap();
    for _ in 0..20 {
        source.call_tool("echo", json!({"text": "warm"})).await.unwrap();
    }
    let n = 300;
    let mut latencies = Vec::with_capacity(n);
    let started = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        source.call_tool("echo", json!({"text": "x"})).await.unwrap();
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
        "RESULT mcp {label}: p50 {:.2} ms, p99 {:.2} ms, sequential {:.0} calls/s, 8 concurrent {:.0} calls/s",
        latencies[n / 2].as_secs_f64() * 1000.0,
        latencies[n * 99 / 100].as_secs_f64() * 1000.0,
        n as f64 / sequential.as_secs_f64(),
        f64::from(tasks * per_task) / concurrent.as_secs_f64(),
    );
    source.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn tool_call_latency_and_throughput() {
    let Some(python) = common::peer("WEFT_MCP_PYTHON") else { return };
    measure("stdio (python mcp)", StdioServer::new(&python).arg(common::py_server()).arg("stdio").into())
        .await;
    let server = common::start_py_http(&python).await;
    measure("streamable HTTP (python mcp)", HttpServer::new(&server.url).into()).await;
    if let (Some(node), Some(everything)) =
        (common::peer("WEFT_MCP_NODE"), common::peer("WEFT_MCP_EVERYTHING"))
    {
        let server = common::start_everything_http(&node, &everything).await;
        let source = McpSource::builder("e", HttpServer::new(&server.url)).connect().await.unwrap();
        drop(source);
        measure_everything(&node, &everything, &server.url).await;
    }
}

async fn measure_everything(node: &str, everything: &str, url: &str) {
    for (label, config) in [
        (
            "stdio (server-everything)",
            ServerConfig::from(StdioServer::new(node).arg(everything).arg("stdio")),
        ),
        ("streamable HTTP (server-everything)", ServerConfig::from(HttpServer::new(url))),
    ] {
        let source = McpSource::builder("bench", config).connect().await.unwrap();
        let n = 300;
        let started = Instant::now();
        for _ in 0..n {
            source.call_tool("echo", json!({"message": "x"})).await.unwrap();
        }
        println!("RESULT mcp {label}: sequential {:.0} calls/s", n as f64 / started.elapsed().as_secs_f64());
        source.close().await;
    }
}
