//! Weft's implementation of the benchmark workloads of `../shared/bench/WORKLOADS.md`, against
//! the mock OpenAI server (`MOCK_URL`, default `http://127.0.0.1:8089`) and, for W6/W7, the MCP
//! echo server of the shared bench (see [`weft_bench::mcp`] for `MCP_PYTHON`,
//! `MCP_ECHO_SERVER`, `MCP_HTTP_URL`).
//!
//! ```text
//! weft-bench W1|W2|W3|W4 [--api chat|responses]
//! weft-bench W1-otel [--api …]  # W1 with OTLP export on (OTEL_EXPORTER_OTLP_ENDPOINT); W1_RUNS (1000) for both
//! weft-bench W5               # workflows: W5-chain and W5-fanout
//! weft-bench W6-stdio|W6-http # 1,000 MCP echo calls through the tool object
//! weft-bench W7-http|W7-stdio # 200 MCP connect/close cycles, fds and children before/after
//! weft-bench M-sessions       # resident memory of 10,000 idle sessions
//! weft-bench W8 --concurrency C  # 1,000 streamed Responses requests to a server (SERVER_PID)
//! weft-bench W8-open          # 1,000 streams open at once on a slow model
//! weft-bench W8-idle          # 10,000 idle keep-alive connections
//! weft-bench W4-llama --api chat|responses|anthropic  # W4 from llama-server (LLAMA_URL, W4_TOKENS)
//! weft-bench S-sessions       # 100,000 idle sessions of three turns (S_SESSIONS)
//! weft-bench S-sessions-sqlite  # the same turns kept in weft-history's SQLite store (S_SQLITE_DIR)
//! weft-bench S-concurrent     # 10,000 runs in flight at once on the mock (S_RUNS, S_SLOW_MS)
//! weft-bench S-concurrent-h2  # the same over HTTP/2 (h2c, prior knowledge: a mock that speaks it)
//! weft-bench S-long --compaction none|keep-last-turns|token-budget  # a 1,000-turn conversation
//! weft-bench W9-worker --flow chain|fanout  # feature `restate`: serves a W5 workflow to Restate
//! weft-bench W9 --flow chain|fanout --concurrency C        # W5's runs through Restate's ingress
//! weft-bench W9-local --flow chain|fanout --concurrency C  # the same runs on the local runner
//! ```
//!
//! Each process builds its agent first (not timed), runs the timed region, and prints one
//! `RESULT` line; it exits non-zero when an item failed validation.

use std::sync::Arc;

use futures::StreamExt;
use weft_core::{AgentSession, ChatAgent, ChatClient};
use weft_openai::OpenAI;

use weft_bench::bench_agent::{INSTRUCTIONS, weather_tool};
use weft_bench::mcp::{EchoServer, Transport};
use weft_bench::measure::{Measure, Outcome};
use weft_bench::{long_conversation, scale, w5, w6, w7, w8};

fn agent(api: &str, base_url: &str, model: &str, with_tool: bool) -> Result<ChatAgent, String> {
    let openai = OpenAI::builder()
        .api_key("mock-key")
        .base_url(base_url)
        .model(model)
        .build()
        .map_err(|e| e.to_string())?;
    let client: Arc<dyn ChatClient> = match api {
        "chat" => Arc::new(openai.chat()),
        "responses" => Arc::new(openai.responses()),
        other => return Err(format!("unknown --api {other} (chat or responses)")),
    };
    let mut builder = ChatAgent::builder(client).name("bench").instructions(INSTRUCTIONS);
    if with_tool {
        builder = builder.tool(weather_tool());
    }
    Ok(builder.build())
}

fn expected_w2(i: usize) -> String {
    format!("weather in city-{i}: sunny, 21C")
}

async fn run(workload: &str, api: &str, mock_url: &str) -> Result<bool, String> {
    let base_url = format!("{mock_url}/v1");
    match workload {
        "W1" => {
            let agent = agent(api, &base_url, "echo", false)?;
            let n = env_number("W1_RUNS", 1000);
            let measure = Measure::start(mock_url).await;
            let mut ok = 0;
            for i in 0..n {
                let expected = format!("hello {i}");
                let response = agent.run(&mut AgentSession::new(), expected.as_str()).await;
                ok += usize::from(response.is_ok_and(|r| r.text() == expected));
            }
            Ok(measure.report(Outcome { workload, api, n, ok, unit: "runs", extra: String::new() }).await)
        }
        "W1-otel" => w1_exported(api, &base_url, mock_url).await,
        "W2" => {
            let agent = agent(api, &base_url, "tool", true)?;
            let n = 500;
            let measure = Measure::start(mock_url).await;
            let mut ok = 0;
            for i in 0..n {
                let response = agent.run(&mut AgentSession::new(), format!("city-{i}")).await;
                ok += usize::from(response.is_ok_and(|r| r.text().contains(&expected_w2(i))));
            }
            Ok(measure.report(Outcome { workload, api, n, ok, unit: "runs", extra: String::new() }).await)
        }
        "W3" => {
            let agent = agent(api, &base_url, "tool", true)?;
            let n = 200;
            let measure = Measure::start(mock_url).await;
            let runs = (0..n).map(|i| {
                let agent = &agent;
                async move {
                    let response = agent.run(&mut AgentSession::new(), format!("city-{i}")).await;
                    response.is_ok_and(|r| r.text().contains(&expected_w2(i)))
                }
            });
            let ok = futures::future::join_all(runs).await.into_iter().filter(|x| *x).count();
            Ok(measure.report(Outcome { workload, api, n, ok, unit: "runs", extra: String::new() }).await)
        }
        "W4" => {
            let n = 5000;
            let agent = agent(api, &base_url, &format!("stream-{n}"), false)?;
            let expected: String = (0..n).map(|i| format!("t{i} ")).collect();
            let measure = Measure::start(mock_url).await;
            let mut session = AgentSession::new();
            let mut stream = agent.run_stream(&mut session, "stream please");
            let (mut updates, mut text, mut failed) = (0usize, String::new(), false);
            while let Some(update) = stream.next().await {
                match update {
                    Ok(update) => {
                        let delta = update.text_content();
                        if !delta.is_empty() {
                            updates += 1;
                            text.push_str(&delta);
                        }
                    }
                    Err(error) => {
                        eprintln!("W4: {error}");
                        failed = true;
                    }
                }
            }
            drop(stream);
            let ok = if !failed && updates >= n && text == expected { n } else { 0 };
            let extra = format!(" text_updates={updates}");
            Ok(measure.report(Outcome { workload, api, n, ok, unit: "chunks", extra }).await)
        }
        "W4-llama" => {
            let url = std::env::var("LLAMA_URL")
                .map_err(|_| "W4-llama streams from LLAMA_URL (bench/w4_llama.sh starts llama-server)")?;
            weft_bench::w4_llama::run(api, url.trim_end_matches('/'), env_number("W4_TOKENS", 5000)).await
        }
        "M-sessions" => idle_sessions(mock_url).await,
        "W5" => workflows(mock_url).await,
        "W6-stdio" => w6::run(Transport::Stdio, &EchoServer::from_env(), mock_url).await,
        "W6-http" => w6::run(Transport::Http, &EchoServer::from_env(), mock_url).await,
        "W7-http" => w7::run(Transport::Http, &EchoServer::from_env(), mock_url).await,
        "W7-stdio" => w7::run(Transport::Stdio, &EchoServer::from_env(), mock_url).await,
        "W8" => {
            w8::load(
                &w8::Target::from_env()?,
                env_number("W8_REQUESTS", 1000),
                flag_number("--concurrency", 50),
            )
            .await
        }
        "W8-open" => {
            w8::open_streams(
                &w8::Target::from_env()?,
                env_number("W8_STREAMS", 1000),
                env_number("W8_SLOW_MS", 10_000) as u64,
            )
            .await
        }
        "W8-idle" => {
            let path = std::env::var("W8_IDLE_PATH").unwrap_or_else(|_| "/liveness".into());
            let idle = std::time::Duration::from_secs(env_number("W8_IDLE_SECS", 10) as u64);
            w8::idle_connections(&w8::Target::from_env()?, env_number("W8_CONNECTIONS", 10_000), &path, idle)
                .await
        }
        "S-sessions" => scale::idle_sessions(env_number("S_SESSIONS", 100_000), None, mock_url).await,
        "S-sessions-sqlite" => sqlite_sessions(mock_url).await,
        "S-concurrent" | "S-concurrent-h2" => {
            let wire = if workload == "S-concurrent-h2" { scale::Wire::Http2 } else { scale::Wire::Http1 };
            scale::concurrent_runs(
                env_number("S_RUNS", 10_000),
                env_number("S_SLOW_MS", 10_000) as u64,
                mock_url,
                wire,
            )
            .await
        }
        "S-long" => {
            let args: Vec<String> = std::env::args().collect();
            let name = args
                .iter()
                .position(|a| a == "--compaction")
                .and_then(|p| args.get(p + 1).cloned())
                .unwrap_or_else(|| "keep-last-turns".into());
            long_conversation::run(long_conversation::Compaction::parse(&name)?, mock_url).await
        }
        "W9" | "W9-local" | "W9-worker" => w9(workload).await,
        other => Err(format!(
            "unknown workload {other} (W1-W4, W4-llama, W1-otel, W5, W6-stdio, W6-http, W7-http, W7-stdio, M-sessions, \
             W8, W8-open, W8-idle, S-sessions, S-sessions-sqlite, S-concurrent, S-concurrent-h2, S-long, W9, W9-local, W9-worker)"
        )),
    }
}

/// W1 with span and metric export on, as a user turns it on: `weft_telemetry::init` from the
/// standard variables (`OTEL_EXPORTER_OTLP_ENDPOINT` must name an OTLP/HTTP receiver in another
/// process, e.g. `bench/otlp_sink.py`, so that its CPU is not the client's), the batch span
/// processor and the periodic metric reader. The final flush is in the timed region: every span
/// of the region is exported inside it.
async fn w1_exported(api: &str, base_url: &str, mock_url: &str) -> Result<bool, String> {
    if std::env::var_os(weft_telemetry::OTEL_EXPORTER_OTLP_ENDPOINT).is_none() {
        return Err(
            "W1-otel exports to OTEL_EXPORTER_OTLP_ENDPOINT: set it (bench/otlp_sink.py is a receiver)"
                .into(),
        );
    }
    let config = weft_telemetry::TelemetryConfig::from_env().map_err(|e| e.to_string())?;
    let telemetry =
        weft_telemetry::init(config.default_service_name("weft-bench")).map_err(|e| e.to_string())?;
    let agent = agent(api, base_url, "echo", false)?;
    let n = env_number("W1_RUNS", 1000);
    let measure = Measure::start(mock_url).await;
    let mut ok = 0;
    for i in 0..n {
        let expected = format!("hello {i}");
        let response = agent.run(&mut AgentSession::new(), expected.as_str()).await;
        ok += usize::from(response.is_ok_and(|r| r.text() == expected));
    }
    // Off the runtime's threads: the exporter's HTTP client blocks.
    let flushed =
        tokio::task::spawn_blocking(move || telemetry.shutdown()).await.map_err(|e| e.to_string())?;
    if let Err(error) = &flushed {
        eprintln!("W1-otel: {error}");
    }
    let extra = format!(" exported={}", if flushed.is_ok() { "all" } else { "NOT-all" });
    let ok = if flushed.is_ok() { ok } else { 0 };
    Ok(measure.report(Outcome { workload: "W1-otel", api, n, ok, unit: "runs", extra }).await)
}

/// W9 (see [`weft_bench::w9`]): `W9_RUNS` (200) runs after `W9_WARMUP` (twice the concurrency).
#[cfg(feature = "restate")]
async fn w9(workload: &str) -> Result<bool, String> {
    use weft_bench::w9;
    let args: Vec<String> = std::env::args().collect();
    let flow = args.iter().position(|a| a == "--flow").and_then(|p| args.get(p + 1));
    let flow = w9::Flow::parse(flow.map_or("chain", String::as_str))?;
    let concurrency = flag_number("--concurrency", 1).max(1);
    let runs = env_number("W9_RUNS", 200);
    let warmup = env_number("W9_WARMUP", 2 * concurrency);
    match workload {
        "W9-worker" => {
            let address = std::env::var("W9_WORKER_ADDR").unwrap_or_else(|_| "127.0.0.1:29180".into());
            let address =
                address.parse().map_err(|_| format!("W9_WORKER_ADDR is not host:port: {address}"))?;
            w9::serve_worker(flow, address).await
        }
        "W9-local" => w9::local(flow, runs, concurrency, warmup).await,
        _ => w9::through_restate(flow, &w9::RestateTarget::from_env()?, runs, concurrency, warmup).await,
    }
}

/// W9 needs the `restate` feature.
#[cfg(not(feature = "restate"))]
async fn w9(workload: &str) -> Result<bool, String> {
    Err(format!(
        "{workload} needs the restate feature: cargo build --release -p weft-bench --features restate"
    ))
}

/// A number from the environment, or `default`.
fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The number after `flag` on the command line, or `default`.
fn flag_number(flag: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == flag)
        .and_then(|p| args.get(p + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `S-sessions-sqlite`: the sessions of `S-sessions` with their messages in a new SQLite file
/// under `S_SQLITE_DIR` (default: the system's temporary directory), removed afterwards.
async fn sqlite_sessions(mock_url: &str) -> Result<bool, String> {
    let dir = std::env::var_os("S_SQLITE_DIR").map_or_else(std::env::temp_dir, std::path::PathBuf::from);
    let path = dir.join(format!("weft-bench-sessions-{}.db", std::process::id()));
    let store = weft_history::SqliteHistoryStore::open(&path).await.map_err(|e| e.to_string())?;
    let result =
        scale::idle_sessions(env_number("S_SESSIONS", 100_000), Some(Arc::new(store.clone())), mock_url)
            .await;
    let size: u64 = ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", path.display())).ok())
        .map(|m| m.len())
        .sum();
    println!("S-sessions-sqlite: database {} bytes (with its WAL) at {}", size, path.display());
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    result
}

/// W5-chain (200 runs) and W5-fanout (100 runs), two RESULT lines from one process.
async fn workflows(mock_url: &str) -> Result<bool, String> {
    let chain = w5::chain().map_err(|e| e.to_string())?;
    let fan_out = w5::fan_out().map_err(|e| e.to_string())?;
    let n = 200;
    let measure = Measure::start(mock_url).await;
    let mut ok = 0;
    for i in 0..n as i64 {
        let result = chain.run(i).await;
        ok += usize::from(result.is_ok_and(|r| r.outputs_as::<i64>() == vec![i + 10]));
    }
    let chain_ok = measure
        .report(Outcome {
            workload: "W5-chain",
            api: "none",
            n,
            ok,
            unit: "workflow_runs",
            extra: String::new(),
        })
        .await;
    let n = 100;
    let measure = Measure::start(mock_url).await;
    let mut ok = 0;
    for i in 0..n as i64 {
        let result = fan_out.run(i).await;
        ok += usize::from(result.is_ok_and(|r| r.outputs_as::<Vec<i64>>() == vec![vec![50, 50 * i + 1225]]));
    }
    let fan_out_ok = measure
        .report(Outcome {
            workload: "W5-fanout",
            api: "none",
            n,
            ok,
            unit: "workflow_runs",
            extra: String::new(),
        })
        .await;
    Ok(chain_ok && fan_out_ok)
}

/// Resident memory of this process in bytes (`/proc/self/statm`).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

/// 10,000 idle sessions held in one process, each after one exchange with the scripted model:
/// the resident memory they add.
async fn idle_sessions(mock_url: &str) -> Result<bool, String> {
    let n = 10_000;
    let agent = ChatAgent::builder(Arc::new(weft_core::ScriptedClient::new()))
        .name("bench")
        .instructions(INSTRUCTIONS)
        .tool(weather_tool())
        .build();
    let before = resident_bytes();
    let measure = Measure::start(mock_url).await;
    let mut sessions = Vec::with_capacity(n);
    let mut ok = 0;
    for i in 0..n {
        let mut session = AgentSession::new();
        let expected = format!("You said: hello {i}");
        ok += usize::from(
            agent.run(&mut session, format!("hello {i}")).await.is_ok_and(|r| r.text() == expected),
        );
        sessions.push(session);
    }
    let after = resident_bytes();
    let delta = after.saturating_sub(before) as f64;
    let extra = format!(
        " rss_before_mb={:.1} rss_after_mb={:.1} bytes_per_session={:.0}",
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
        delta / n as f64
    );
    let valid =
        measure.report(Outcome { workload: "M-sessions", api: "none", n, ok, unit: "sessions", extra }).await;
    drop(sessions);
    Ok(valid)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let workload = args.get(1).cloned().unwrap_or_else(|| "W1".into());
    let api = args
        .iter()
        .position(|a| a == "--api")
        .and_then(|p| args.get(p + 1).cloned())
        .unwrap_or_else(|| "chat".into());
    let mock_url = std::env::var("MOCK_URL").unwrap_or_else(|_| "http://127.0.0.1:8089".into());
    // WEFT_THREADS=1: a current-thread runtime (as the peers' FLOOR_THREADS / RIG_THREADS);
    // the default is the multi-thread runtime, as theirs.
    let current_thread = std::env::var("WEFT_THREADS").is_ok_and(|threads| threads == "1");
    let mut builder = if current_thread {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("weft-bench: cannot start the runtime: {error}");
            std::process::exit(1);
        }
    };
    match runtime.block_on(run(&workload, &api, &mock_url)) {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(error) => {
            eprintln!("weft-bench: {error}");
            std::process::exit(2);
        }
    }
}
