//! W8: an agent served over the OpenAI Responses protocol, under load. The server runs in its own
//! process (`weft serve`, or the peer's server); this process is the load and measures the server
//! from outside through `/proc/PID` (`SERVER_PID`):
//!
//! - `W8 --concurrency C`: 1,000 streaming `POST /v1/responses` (input `hello {i}`, model
//!   `W8_MODEL`), C at a time. Each item is valid when the stream's text
//!   (`response.output_text.done`, else its deltas) is `hello {i}` and it ends with
//!   `response.completed`. Reports requests/s, the p50/p99
//!   time to the first event, the server's CPU per request and its peak RSS.
//! - `W8-open`: 1,000 streams open at once on a slow model (`echo+slow-MS`); once every stream has
//!   its first event, the server's resident memory is read, then every stream is read to its end.
//! - `W8-idle`: 10,000 keep-alive connections, each after one `GET` (`W8_IDLE_PATH`), held idle for
//!   `W8_IDLE_SECS`; then each is asked again, and counts as held when it still answers.
//!
//! With `W8_DEADLINE_S` set, each workload stops at that deadline and reports what it got by
//! then (`deadline_hit=1`, `done=` the requests that ended): a slow server's row is then a
//! measurement of what it did, not a run without end.
//!
//! The requests carry `metadata.entity_id` (`W8_ENTITY_ID`) besides `model`, because MAF's DevUI
//! server picks its agent by that field; Weft picks by `model`.
//!
//! The HTTP here is written by hand on tokio sockets (one request per connection for the streams,
//! a fixed `GET` for the idle ones) rather than with reqwest, so the load costs as little CPU as
//! possible on the machine it shares with the server under test.

use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// Where the load goes and what it measures.
#[derive(Clone)]
pub struct Target {
    /// `host:port` of the server.
    pub address: String,
    /// The model (Weft's entity name).
    pub model: String,
    /// MAF DevUI's entity id (sent as `metadata.entity_id`).
    pub entity_id: String,
    /// The label of the RESULT line's `peer=`.
    pub peer: String,
    /// The server's process id, read through `/proc`.
    pub server_pid: u32,
    /// The bearer token, if the server wants one.
    pub token: Option<String>,
    /// When the workload stops and reports what it got so far (`W8_DEADLINE_S`).
    pub deadline: Option<Duration>,
}

impl Target {
    /// Reads `W8_ADDRESS` (default `127.0.0.1:8088`), `W8_MODEL` (`weft`), `W8_ENTITY_ID`,
    /// `W8_PEER` (`weft`), `SERVER_PID`, `W8_TOKEN` and `W8_DEADLINE_S` (seconds).
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_string());
        let server_pid = std::env::var("SERVER_PID")
            .map_err(|_| "W8 needs SERVER_PID, the server's process id".to_string())?
            .parse()
            .map_err(|_| "SERVER_PID is not a process id".to_string())?;
        Ok(Self {
            address: var("W8_ADDRESS", "127.0.0.1:8088"),
            model: var("W8_MODEL", "weft"),
            entity_id: var("W8_ENTITY_ID", ""),
            peer: var("W8_PEER", "weft"),
            server_pid,
            token: std::env::var("W8_TOKEN").ok(),
            deadline: match std::env::var("W8_DEADLINE_S") {
                Ok(secs) => Some(Duration::from_secs(
                    secs.parse().map_err(|_| "W8_DEADLINE_S is not a number of seconds".to_string())?,
                )),
                Err(_) => None,
            },
        })
    }

    /// When the workload started at `started` must stop (far away without a deadline).
    fn stop_at(&self, started: Instant) -> tokio::time::Instant {
        let far = Duration::from_secs(365 * 24 * 3600);
        tokio::time::Instant::from_std(started + self.deadline.unwrap_or(far))
    }

    fn request(&self, input: &str) -> String {
        let body = serde_json::json!({
            "model": self.model,
            "input": input,
            "stream": true,
            "metadata": { "entity_id": self.entity_id },
        })
        .to_string();
        let auth = self.token.as_ref().map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        format!(
            "POST /v1/responses HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Accept: text/event-stream\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.address,
            body.len()
        )
    }
}

/// The CPU seconds (user + system) of process `pid` so far, from `/proc/PID/stat` (0 when it
/// cannot be read).
pub fn server_cpu(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name; 100 ticks a second.
    (ticks(11) + ticks(12)) / 100.0
}

/// A `/proc/PID/status` field in MiB (`VmRSS`, `VmHWM`), summed with the server's children
/// (a Python server may run its workers as child processes).
fn server_memory(pid: u32, field: &str) -> f64 {
    let read = |pid: &str| -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|l| {
                l.strip_prefix(field).and_then(|v| v.trim_start_matches(':').split_whitespace().next())
            })
            .and_then(|kib| kib.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    };
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    read(&pid.to_string()) + children.split_whitespace().map(read).sum::<f64>()
}

/// What one streamed request saw.
struct Streamed {
    first_event: Duration,
    valid: bool,
}

/// Sends one streaming request and reads it to its end; `opened` (if any) is told when the first
/// event arrives.
async fn stream_one(
    target: &Target,
    input: String,
    opened: Option<tokio::sync::mpsc::Sender<()>>,
) -> Result<Streamed, String> {
    let started = Instant::now();
    let mut socket = TcpStream::connect(&target.address).await.map_err(|e| format!("connect: {e}"))?;
    socket.set_nodelay(true).map_err(|e| e.to_string())?;
    socket.write_all(target.request(&input).as_bytes()).await.map_err(|e| format!("send: {e}"))?;
    let mut reader = BufReader::new(socket);
    let mut line = String::new();
    let (mut first_event, mut text, mut completed) = (None, None, false);
    let mut deltas = String::new();
    let mut status_ok = None;
    loop {
        line.clear();
        if reader.read_line(&mut line).await.map_err(|e| format!("read: {e}"))? == 0 {
            break;
        }
        if status_ok.is_none() {
            status_ok = Some(line.starts_with("HTTP/1.1 200"));
            if status_ok == Some(false) {
                return Err(format!("status: {}", line.trim()));
            }
        }
        let Some(data) = line.trim_end().strip_prefix("data:") else { continue };
        if first_event.is_none() {
            first_event = Some(started.elapsed());
            if let Some(opened) = &opened {
                let _ = opened.send(()).await;
            }
        }
        let Ok(event) = serde_json::from_str::<serde_json::Value>(data.trim_start()) else { continue };
        match event.get("type").and_then(|t| t.as_str()) {
            // MAF's DevUI sends no `response.output_text.done`: the deltas are the text then.
            Some("response.output_text.delta") => {
                if let Some(delta) = event.get("delta").and_then(|t| t.as_str()) {
                    deltas.push_str(delta);
                }
            }
            Some("response.output_text.done") => {
                text = event.get("text").and_then(|t| t.as_str()).map(str::to_string);
            }
            Some("response.completed") => {
                completed = true;
                // Chunked framing: the stream may not close at once; the answer is complete.
                break;
            }
            _ => {}
        }
    }
    Ok(Streamed {
        first_event: first_event.unwrap_or_else(|| started.elapsed()),
        valid: completed && text.unwrap_or(deltas) == input,
    })
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// `W8`: `n` streamed requests, `concurrency` at a time.
pub async fn load(target: &Target, n: usize, concurrency: usize) -> Result<bool, String> {
    let cpu_before = server_cpu(target.server_pid);
    let started = Instant::now();
    let mut first_events = Vec::with_capacity(n);
    let (mut ok, mut errors) = (0usize, 0usize);
    let mut running = JoinSet::new();
    let target = std::sync::Arc::new(target.clone());
    let mut next = 0usize;
    let stop_at = target.stop_at(started);
    let mut deadline_hit = false;
    while next < n || !running.is_empty() {
        while next < n && running.len() < concurrency {
            let target = target.clone();
            let input = format!("hello {next}");
            running.spawn(async move { stream_one(&target, input, None).await });
            next += 1;
        }
        let Ok(joined) = tokio::time::timeout_at(stop_at, running.join_next()).await else {
            deadline_hit = true;
            break;
        };
        match joined {
            Some(Ok(Ok(streamed))) => {
                first_events.push(streamed.first_event);
                ok += usize::from(streamed.valid);
            }
            Some(Ok(Err(error))) => {
                if errors < 3 {
                    eprintln!("W8: {error}");
                }
                errors += 1;
            }
            Some(Err(error)) => return Err(format!("a request task failed: {error}")),
            None => break,
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = server_cpu(target.server_pid) - cpu_before;
    // At a deadline, the rates are of the requests that ended by then.
    let done = (first_events.len() + errors).max(1);
    running.abort_all();
    first_events.sort();
    println!(
        "RESULT peer={} api=responses workload=W8-c{concurrency} n={n} ok={ok} unit=requests wall_s={wall:.4} \
         ops_per_s={:.1} ttfe_p50_ms={:.2} ttfe_p99_ms={:.2} server_cpu_ms_per_req={:.3} server_peak_rss_mb={:.1} \
         errors={errors} done={} deadline_hit={}",
        target.peer,
        done as f64 / wall,
        percentile(&first_events, 50.0),
        percentile(&first_events, 99.0),
        cpu * 1000.0 / done as f64,
        server_memory(target.server_pid, "VmHWM"),
        first_events.len() + errors,
        u8::from(deadline_hit),
    );
    Ok(ok == n && !deadline_hit)
}

/// `W8-open`: `n` streams open at once on a slow model; the server's RSS with all of them open.
pub async fn open_streams(target: &Target, n: usize, slow_ms: u64) -> Result<bool, String> {
    let target = std::sync::Arc::new(target.clone());
    let (opened, mut opened_rx) = tokio::sync::mpsc::channel(n);
    let rss_before = server_memory(target.server_pid, "VmRSS");
    let stop_at = target.stop_at(Instant::now());
    let mut running = JoinSet::new();
    for i in 0..n {
        let (target, opened) = (target.clone(), opened.clone());
        running.spawn(async move { stream_one(&target, format!("hello {i}"), Some(opened)).await });
    }
    drop(opened);
    let deadline = Duration::from_millis(slow_ms);
    let mut open = 0usize;
    while open < n {
        let next_at = (tokio::time::Instant::now() + deadline).min(stop_at);
        match tokio::time::timeout_at(next_at, opened_rx.recv()).await {
            Ok(Some(())) => open += 1,
            _ => break,
        }
    }
    let rss_open = server_memory(target.server_pid, "VmRSS");
    let (mut ok, mut errors, mut deadline_hit) = (0usize, 0usize, false);
    loop {
        let Ok(joined) = tokio::time::timeout_at(stop_at, running.join_next()).await else {
            deadline_hit = true;
            break;
        };
        match joined {
            None => break,
            Some(Ok(Ok(streamed))) => ok += usize::from(streamed.valid),
            Some(Ok(Err(error))) => {
                if errors < 3 {
                    eprintln!("W8-open: {error}");
                }
                errors += 1;
            }
            Some(Err(error)) => return Err(format!("a request task failed: {error}")),
        }
    }
    running.abort_all();
    println!(
        "RESULT peer={} api=responses workload=W8-open n={n} ok={ok} unit=streams open_at_once={open} \
         server_rss_before_mb={rss_before:.1} server_rss_open_mb={rss_open:.1} server_peak_rss_mb={:.1} \
         errors={errors} deadline_hit={}",
        target.peer,
        server_memory(target.server_pid, "VmHWM"),
        u8::from(deadline_hit),
    );
    Ok(ok == n && open == n && !deadline_hit)
}

/// Sends `GET path` on a kept-alive connection and reads the whole answer (by Content-Length).
async fn get(reader: &mut BufReader<TcpStream>, host: &str, path: &str) -> Result<(), String> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n");
    reader.get_mut().write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut line = String::new();
    let mut length = 0usize;
    let mut status = None;
    loop {
        line.clear();
        if reader.read_line(&mut line).await.map_err(|e| e.to_string())? == 0 {
            return Err("closed".into());
        }
        if status.is_none() {
            status = Some(line.split_whitespace().nth(1).unwrap_or("").to_string());
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.map_err(|e| e.to_string())?;
    match status.as_deref() {
        Some("200") => Ok(()),
        other => Err(format!("status {other:?}")),
    }
}

/// `W8-idle`: `n` idle keep-alive connections held for `idle`, then each asked again.
pub async fn idle_connections(target: &Target, n: usize, path: &str, idle: Duration) -> Result<bool, String> {
    let rss_before = server_memory(target.server_pid, "VmRSS");
    let stop_at = target.stop_at(Instant::now());
    let mut connections = Vec::with_capacity(n);
    let (mut failed, mut deadline_hit) = (0usize, false);
    for _ in 0..n {
        if tokio::time::Instant::now() >= stop_at {
            deadline_hit = true;
            break;
        }
        let Ok(socket) = TcpStream::connect(&target.address).await else {
            failed += 1;
            continue;
        };
        let mut reader = BufReader::new(socket);
        match tokio::time::timeout_at(stop_at, get(&mut reader, &target.address, path)).await {
            Ok(Ok(())) => connections.push(reader),
            Ok(Err(_)) => failed += 1,
            Err(_) => {
                deadline_hit = true;
                break;
            }
        }
    }
    let opened = connections.len();
    tokio::time::sleep(idle).await;
    let rss_idle = server_memory(target.server_pid, "VmRSS");
    let mut held = 0usize;
    // The connections opened are asked again even past the deadline, each within 10 s.
    for reader in &mut connections {
        let asked = tokio::time::timeout(Duration::from_secs(10), get(reader, &target.address, path)).await;
        held += usize::from(matches!(asked, Ok(Ok(()))));
    }
    println!(
        "RESULT peer={} api=none workload=W8-idle n={n} ok={held} unit=connections opened={opened} \
         failed_to_open={failed} idle_s={} server_rss_before_mb={rss_before:.1} server_rss_idle_mb={rss_idle:.1} \
         deadline_hit={}",
        target.peer,
        idle.as_secs(),
        u8::from(deadline_hit),
    );
    Ok(held == n)
}
