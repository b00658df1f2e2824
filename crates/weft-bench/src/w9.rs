//! W9: W5's workflows (the chain of 10 adders, the fan-out to 50 workers) on Restate, against
//! the same workflows on the local runner (feature `restate`; `bench/w9.sh` runs it all).
//!
//! - `W9-worker --flow chain|fanout`: a worker process serving the workflow as Restate's
//!   `WeftWorkflow` on `W9_WORKER_ADDR` (default `127.0.0.1:29180`), bound with `SO_REUSEPORT`
//!   so that N workers share one deployment URL and the kernel spreads Restate's connections
//!   among them. On `SIGTERM` it prints the executor invocations it ran (`invocations=`).
//! - `W9 --flow chain|fanout --concurrency C`: `W9_RUNS` runs (200) through the ingress
//!   (`POST {W9_INGRESS}/WeftWorkflow/{key}/run`, input `i`), C at a time, after `W9_WARMUP`
//!   untimed runs (2 C); each reply is checked against the local run's output. Reports runs/s,
//!   p50/p99/mean latency of a run, and the CPU of restate-server (`W9_SERVER_PID`) and of each
//!   worker (`W9_WORKER_PIDS`, comma-separated) in the timed region, from `/proc/PID/stat`.
//! - `W9-local --flow chain|fanout --concurrency C`: the same runs on the local runner in this
//!   process; its CPU from getrusage.
//!
//! The cost of durability per step is the difference of a run's latency (or CPU) on Restate and
//! locally, divided by the executor invocations of a run ([`Flow::invocations`]): on Restate each
//! is one journaled `ctx.run` step, and the run's state is written after every superstep.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use weft_workflow::{BuildError, Workflow};

use crate::measure::own_cpu_seconds;
use crate::w5;
use crate::w8::server_cpu;

/// How long one run through the ingress may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// How long a stopping worker waits for its connections to close.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The most bytes of a failed reply kept in an error message.
const MAX_ERROR_CHARS: usize = 300;

/// Which of W5's workflows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// [`w5::chain`]: 10 executors in a row.
    Chain,
    /// [`w5::fan_out`]: a dispatcher, 50 workers, an aggregator.
    FanOut,
}

impl Flow {
    /// `chain` or `fanout`.
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "chain" => Ok(Self::Chain),
            "fanout" | "fan-out" => Ok(Self::FanOut),
            other => Err(format!("unknown --flow {other} (chain or fanout)")),
        }
    }

    /// The name in RESULT lines (`W9-chain`, `W9-fanout`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Chain => "chain",
            Self::FanOut => "fanout",
        }
    }

    /// The executor invocations of one run (each a journaled step on Restate).
    pub fn invocations(self) -> usize {
        match self {
            Self::Chain => w5::CHAIN_INVOCATIONS,
            Self::FanOut => w5::FAN_OUT_INVOCATIONS,
        }
    }

    /// The workflow, `probe` called at each executor invocation.
    pub fn workflow<P: Fn() + Clone + Send + Sync + 'static>(self, probe: P) -> Result<Workflow, BuildError> {
        match self {
            Self::Chain => w5::chain_with(probe),
            Self::FanOut => w5::fan_out_with(probe),
        }
    }

    /// The output of run `i`, as JSON.
    pub fn expected(self, i: i64) -> Value {
        match self {
            Self::Chain => json!(i + 10),
            Self::FanOut => json!([50, 50 * i + 1225]),
        }
    }
}

/// Serves `flow` as Restate's `WeftWorkflow` on `address`, bound with `SO_REUSEPORT` (several
/// worker processes share the address), until `SIGTERM`; then prints the executor invocations
/// this process ran.
pub async fn serve_worker(flow: Flow, address: SocketAddr) -> Result<bool, String> {
    let invocations = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&invocations);
    let workflow = flow
        .workflow(move || {
            counter.fetch_add(1, Ordering::Relaxed);
        })
        .map_err(|e| e.to_string())?;
    let socket =
        if address.is_ipv4() { tokio::net::TcpSocket::new_v4() } else { tokio::net::TcpSocket::new_v6() }
            .map_err(|e| format!("cannot open a socket: {e}"))?;
    socket.set_reuseport(true).map_err(|e| format!("cannot set SO_REUSEPORT: {e}"))?;
    socket.bind(address).map_err(|e| format!("cannot bind {address}: {e}"))?;
    let listener = socket.listen(1024).map_err(|e| format!("cannot listen on {address}: {e}"))?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot watch SIGTERM: {e}"))?;
    let pid = std::process::id();
    println!("W9-worker pid={pid} flow={} listening on {address}", flow.name());
    let cancel = CancellationToken::new();
    let endpoint = weft_restate::workflow_endpoint(workflow, weft_restate::StepRetry::default());
    let server = weft_restate::serve(endpoint, listener, cancel.clone());
    tokio::pin!(server);
    tokio::select! {
        () = &mut server => {}
        _ = terminate.recv() => {
            cancel.cancel();
            // Restate keeps its connections open; the invocation count is printed regardless.
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await;
        }
    }
    println!("W9-worker pid={pid} flow={} invocations={}", flow.name(), invocations.load(Ordering::Relaxed));
    Ok(true)
}

/// The restate-server and workers the load of [`through_restate`] goes to.
pub struct RestateTarget {
    /// The ingress URL (`W9_INGRESS`, default `http://127.0.0.1:28080`).
    pub ingress: String,
    /// restate-server's process id (`W9_SERVER_PID`).
    pub server_pid: u32,
    /// The workers' process ids (`W9_WORKER_PIDS`, comma-separated).
    pub worker_pids: Vec<u32>,
    /// The start of each run's workflow key (`W9_KEY_PREFIX`; default from the pid and time):
    /// a key starts one run, so keys must not repeat on one server.
    pub key_prefix: String,
}

impl RestateTarget {
    /// Reads the target from the environment.
    pub fn from_env() -> Result<Self, String> {
        let pid = |text: &str, name: &str| {
            text.trim().parse::<u32>().map_err(|_| format!("{name} is not a process id: {text}"))
        };
        let server = std::env::var("W9_SERVER_PID").map_err(|_| "W9 needs W9_SERVER_PID (restate-server)")?;
        let workers = std::env::var("W9_WORKER_PIDS").map_err(|_| "W9 needs W9_WORKER_PIDS (the workers)")?;
        let worker_pids = workers
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|p| pid(p, "W9_WORKER_PIDS"))
            .collect::<Result<Vec<_>, _>>()?;
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        Ok(Self {
            ingress: std::env::var("W9_INGRESS")
                .unwrap_or_else(|_| "http://127.0.0.1:28080".into())
                .trim_end_matches('/')
                .to_string(),
            server_pid: pid(&server, "W9_SERVER_PID")?,
            worker_pids,
            key_prefix: std::env::var("W9_KEY_PREFIX")
                .unwrap_or_else(|_| format!("w9-{}-{nanos}", std::process::id())),
        })
    }
}

/// What a batch of runs gave.
struct Batch {
    ok: usize,
    latencies: Vec<Duration>,
    first_error: Option<String>,
}

fn millis(duration: Duration) -> f64 {
    duration.as_nanos() as f64 / 1e6
}

/// Latency percentiles in milliseconds: (p50, p99, mean).
fn percentiles(mut latencies: Vec<Duration>) -> (f64, f64, f64) {
    if latencies.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    latencies.sort_unstable();
    let n = latencies.len();
    let at = |q: f64| {
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        millis(latencies[rank - 1])
    };
    let mean = latencies.iter().copied().map(millis).sum::<f64>() / n as f64;
    (at(0.50), at(0.99), mean)
}

/// Starts run `key` on input `i` through the ingress and waits for its reply.
async fn run_through_ingress(
    client: &reqwest::Client,
    ingress: &str,
    key: &str,
    i: i64,
) -> Result<Value, String> {
    let response = client
        .post(format!("{ingress}/WeftWorkflow/{key}/run"))
        .json(&i)
        .send()
        .await
        .map_err(|e| format!("run {key}: {e}"))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| format!("run {key}: reading the reply: {e}"))?;
    if !status.is_success() {
        return Err(format!(
            "run {key}: {status}: {}",
            text.chars().take(MAX_ERROR_CHARS).collect::<String>()
        ));
    }
    serde_json::from_str(&text).map_err(|e| format!("run {key}: the reply is not JSON: {e}"))
}

/// Whether a `WorkflowReply` holds exactly run `i`'s output.
fn reply_matches(flow: Flow, i: i64, reply: &Value) -> bool {
    match reply.get("outputs").and_then(Value::as_array).map(Vec::as_slice) {
        Some([output]) => output.get("value") == Some(&flow.expected(i)),
        _ => false,
    }
}

/// `runs` runs through the ingress, `concurrency` at a time, keys `{prefix}-{phase}-{i}`.
async fn restate_batch(
    client: &reqwest::Client,
    target: &RestateTarget,
    flow: Flow,
    phase: &str,
    runs: usize,
    concurrency: usize,
) -> Batch {
    let results: Vec<(Result<bool, String>, Duration)> = futures::stream::iter(0..runs)
        .map(|i| async move {
            let key = format!("{}-{phase}-{i}", target.key_prefix);
            let started = Instant::now();
            let reply = run_through_ingress(client, &target.ingress, &key, i as i64).await;
            let elapsed = started.elapsed();
            (reply.map(|r| reply_matches(flow, i as i64, &r)), elapsed)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut batch = Batch { ok: 0, latencies: Vec::with_capacity(runs), first_error: None };
    for (outcome, elapsed) in results {
        batch.latencies.push(elapsed);
        match outcome {
            Ok(true) => batch.ok += 1,
            Ok(false) => {
                batch.first_error.get_or_insert_with(|| "a reply's output was not the local run's".into());
            }
            Err(error) => {
                batch.first_error.get_or_insert(error);
            }
        }
    }
    batch
}

/// `W9`: `runs` runs of `flow` through Restate's ingress, `concurrency` at a time, after
/// `warmup` untimed runs; prints the RESULT line.
pub async fn through_restate(
    flow: Flow,
    target: &RestateTarget,
    runs: usize,
    concurrency: usize,
    warmup: usize,
) -> Result<bool, String> {
    let client = reqwest::Client::builder()
        .timeout(RUN_TIMEOUT)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let warm = restate_batch(&client, target, flow, "warm", warmup, concurrency).await;
    if let Some(error) = warm.first_error {
        return Err(format!("the warm-up failed ({} of {warmup} ok): {error}", warm.ok));
    }
    let server_before = server_cpu(target.server_pid);
    let workers_before: Vec<f64> = target.worker_pids.iter().map(|&pid| server_cpu(pid)).collect();
    let own_before = own_cpu_seconds();
    let started = Instant::now();
    let batch = restate_batch(&client, target, flow, "run", runs, concurrency).await;
    let wall = started.elapsed().as_secs_f64();
    let own = own_cpu_seconds() - own_before;
    let server = server_cpu(target.server_pid) - server_before;
    let workers: Vec<f64> = target
        .worker_pids
        .iter()
        .zip(&workers_before)
        .map(|(&pid, before)| server_cpu(pid) - before)
        .collect();
    let workers_total: f64 = workers.iter().sum();
    let steps = (runs * flow.invocations()).max(1) as f64;
    let split = workers.iter().map(|cpu| format!("{cpu:.2}")).collect::<Vec<_>>().join("/");
    let (p50, p99, mean) = percentiles(batch.latencies);
    println!(
        "RESULT peer=weft api=restate workload=W9-{} n={runs} ok={} unit=workflow_runs wall_s={wall:.4} \
         ops_per_s={:.1} workers={} concurrency={concurrency} p50_ms={p50:.3} p99_ms={p99:.3} mean_ms={mean:.3} \
         invocations_per_run={} server_cpu_s={server:.3} workers_cpu_s={workers_total:.3} \
         worker_cpu_split={split} client_cpu_s={own:.3} cpu_per_step_us={:.1} server_cpu_per_step_us={:.1} \
         workers_cpu_per_step_us={:.1}",
        flow.name(),
        batch.ok,
        runs as f64 / wall,
        target.worker_pids.len(),
        flow.invocations(),
        (server + workers_total) / steps * 1e6,
        server / steps * 1e6,
        workers_total / steps * 1e6,
    );
    if let Some(error) = batch.first_error {
        eprintln!("VALIDATION FAILED: W9-{} ok={} of {runs}: {error}", flow.name(), batch.ok);
    }
    Ok(batch.ok == runs)
}

/// `W9-local`: the same runs on the local runner in this process; prints the RESULT line.
pub async fn local(flow: Flow, runs: usize, concurrency: usize, warmup: usize) -> Result<bool, String> {
    let workflow = flow.workflow(|| {}).map_err(|e| e.to_string())?;
    let batch = |count: usize| {
        let workflow = &workflow;
        futures::stream::iter(0..count)
            .map(move |i| async move {
                let started = Instant::now();
                let result = workflow.run(i as i64).await;
                let elapsed = started.elapsed();
                let ok = result.is_ok_and(|r| {
                    let outputs: Vec<Value> =
                        r.outputs.iter().filter_map(|o| o.value.to_json().ok()).collect();
                    outputs == [flow.expected(i as i64)]
                });
                (ok, elapsed)
            })
            .buffer_unordered(concurrency.max(1))
            .collect::<Vec<_>>()
    };
    let warm = batch(warmup).await;
    if warm.iter().any(|(ok, _)| !ok) {
        return Err("a local warm-up run did not give the expected output".into());
    }
    let own_before = own_cpu_seconds();
    let started = Instant::now();
    let results = batch(runs).await;
    let wall = started.elapsed().as_secs_f64();
    let own = own_cpu_seconds() - own_before;
    let ok = results.iter().filter(|(ok, _)| *ok).count();
    let (p50, p99, mean) = percentiles(results.into_iter().map(|(_, elapsed)| elapsed).collect());
    let steps = (runs * flow.invocations()).max(1) as f64;
    println!(
        "RESULT peer=weft api=local workload=W9-{} n={runs} ok={ok} unit=workflow_runs wall_s={wall:.4} \
         ops_per_s={:.1} workers=0 concurrency={concurrency} p50_ms={p50:.4} p99_ms={p99:.4} mean_ms={mean:.4} \
         invocations_per_run={} cpu_s={own:.4} cpu_per_step_us={:.2}",
        flow.name(),
        runs as f64 / wall,
        flow.invocations(),
        own / steps * 1e6,
    );
    if ok != runs {
        eprintln!("VALIDATION FAILED: W9-{} (local) ok={ok} of {runs}", flow.name());
    }
    Ok(ok == runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let latencies: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let (p50, p99, mean) = percentiles(latencies);
        assert_eq!((p50, p99), (50.0, 99.0));
        assert!((mean - 50.5).abs() < 1e-9);
        assert_eq!(percentiles(Vec::new()), (0.0, 0.0, 0.0));
    }

    #[test]
    fn a_reply_matches_only_the_runs_own_output() {
        let reply = json!({ "run_id": "k", "outputs": [{ "executor_id": "aggregate", "type_name": "x", "value": [50, 1275] }] });
        assert!(reply_matches(Flow::FanOut, 1, &reply));
        assert!(!reply_matches(Flow::FanOut, 2, &reply));
        assert!(!reply_matches(Flow::Chain, 1, &reply));
        assert!(!reply_matches(Flow::Chain, 1, &json!({ "outputs": [] })));
    }

    #[tokio::test]
    async fn the_probe_counts_each_executor_invocation_of_a_run() {
        for flow in [Flow::Chain, Flow::FanOut] {
            let count = Arc::new(AtomicU64::new(0));
            let counter = Arc::clone(&count);
            let workflow = flow
                .workflow(move || {
                    counter.fetch_add(1, Ordering::Relaxed);
                })
                .unwrap();
            let result = workflow.run(3_i64).await.unwrap();
            let outputs: Vec<Value> = result.outputs.iter().map(|o| o.value.to_json().unwrap()).collect();
            assert_eq!(outputs, [flow.expected(3)]);
            assert_eq!(count.load(Ordering::Relaxed), flow.invocations() as u64, "{flow:?}");
        }
    }
}
