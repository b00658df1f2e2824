//! The measurements of WORKLOADS.md: wall time, this process's CPU (getrusage deltas), peak RSS,
//! and the mock's own request count and CPU (`GET /stats` before and after).

use std::time::Instant;

use nix::sys::resource::{UsageWho, getrusage};
use serde_json::Value;

/// CPU seconds (user, system) and peak RSS in MiB of this process so far.
fn rusage() -> (f64, f64, f64) {
    match getrusage(UsageWho::RUSAGE_SELF) {
        Ok(usage) => {
            let seconds = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 / 1e6;
            (seconds(usage.user_time()), seconds(usage.system_time()), usage.max_rss() as f64 / 1024.0)
        }
        Err(_) => (0.0, 0.0, 0.0),
    }
}

/// CPU seconds (user + system) of this process so far.
pub fn own_cpu_seconds() -> f64 {
    let (user, sys, _) = rusage();
    user + sys
}

/// The mock's `/stats`, or `null` when it does not answer. A plain HTTP/1.1 GET over a TCP
/// socket, as the floor peer does: a reqwest client here would load the system's TLS roots
/// (about 33 million instructions) into the process's CPU for nothing.
pub async fn mock_stats(mock_url: &str) -> Value {
    mock_request(mock_url, "GET", "/stats")
        .await
        .and_then(|body| serde_json::from_str(&body).ok())
        .unwrap_or(Value::Null)
}

/// `POST /stats/reset` on the mock (its counters, `max_in_flight` included, start again);
/// `false` when it does not answer.
pub async fn reset_mock_stats(mock_url: &str) -> bool {
    mock_request(mock_url, "POST", "/stats/reset").await.is_some()
}

/// The body of a plain HTTP/1.1 request without a body to the mock, or `None`.
async fn mock_request(mock_url: &str, method: &str, path: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = mock_url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(host).await.ok()?;
    let request =
        format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 2").then(|| body.to_string())
}

/// A timed region.
pub struct Measure {
    mock_url: String,
    stats: Value,
    usage: (f64, f64, f64),
    started: Instant,
}

/// What a workload reports.
pub struct Outcome<'a> {
    /// The workload id (`W1`, `W5-chain`, …).
    pub workload: &'a str,
    /// `chat`, `responses`, `none` or `mcp`.
    pub api: &'a str,
    /// Items run.
    pub n: usize,
    /// Items that passed validation.
    pub ok: usize,
    /// What an item is (`runs`, `chunks`, `workflow_runs`, …).
    pub unit: &'a str,
    /// Extra ` key=value` fields, each with a leading space.
    pub extra: String,
}

impl Measure {
    /// Starts the timed region.
    pub async fn start(mock_url: &str) -> Self {
        let stats = mock_stats(mock_url).await;
        Self { mock_url: mock_url.to_string(), stats, usage: rusage(), started: Instant::now() }
    }

    /// Ends the region and prints the RESULT line.
    pub async fn report(self, outcome: Outcome<'_>) -> bool {
        self.stop().await.report(outcome)
    }

    /// Ends the region (wall clock, CPU, the mock's counters) without printing yet: for
    /// workloads that probe the process after the region (W7 settles, then counts fds).
    pub async fn stop(self) -> Measured {
        let wall = self.started.elapsed().as_secs_f64();
        let usage = rusage();
        let stats = mock_stats(&self.mock_url).await;
        let field = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(0.0);
        let mock_reqs = field(&stats, "requests_total") - field(&self.stats, "requests_total");
        let mock_cpu = field(&stats, "cpu_user_s") + field(&stats, "cpu_sys_s")
            - field(&self.stats, "cpu_user_s")
            - field(&self.stats, "cpu_sys_s");
        let (user, sys) = (usage.0 - self.usage.0, usage.1 - self.usage.1);
        Measured { wall, user, sys, mock_reqs, mock_cpu }
    }
}

/// A finished timed region, not yet reported.
pub struct Measured {
    wall: f64,
    user: f64,
    sys: f64,
    mock_reqs: f64,
    mock_cpu: f64,
}

impl Measured {
    /// This process's CPU seconds (user and system) in the region.
    pub fn cpu_seconds(&self) -> f64 {
        self.user + self.sys
    }

    /// Prints the RESULT line (peak RSS as of now); `true` when every item validated.
    pub fn report(self, outcome: Outcome<'_>) -> bool {
        let Measured { wall, user, sys, mock_reqs, mock_cpu } = self;
        let peak_rss = rusage().2;
        let Outcome { workload, api, n, ok, unit, extra } = outcome;
        println!(
            "RESULT peer=weft api={api} workload={workload} n={n} ok={ok} unit={unit} wall_s={wall:.4} \
             ops_per_s={:.1} cpu_s={:.3} user_s={user:.3} sys_s={sys:.3} peak_rss_mb={peak_rss:.1} \
             mock_reqs={mock_reqs} mock_cpu_s={mock_cpu:.3}{extra}",
            n as f64 / wall,
            user + sys,
        );
        if ok != n {
            eprintln!("VALIDATION FAILED: {workload} ok={ok} of {n}");
        }
        ok == n
    }
}
