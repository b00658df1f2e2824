//! Scale workloads (issue #21, item 6):
//!
//! - `S-sessions`: 100,000 idle sessions held in one process, each after three turns with the
//!   scripted model (a fact, a tool call, a question about the fact: 8 messages), and the
//!   resident memory they add (target: the process under 1 GiB). `S-sessions-sqlite` keeps the
//!   same turns in weft-history's SQLite store instead: the sessions hold a reference only.
//! - `S-concurrent`: 10,000 agent runs in flight at once against the mock, on a model slow
//!   enough that every request is open before the first is answered (the mock's `max_in_flight`
//!   says whether they were), and the process's peak resident memory (target: under 200 MiB).
//!
//! Both report through [`Measure`]: wall time, CPU (getrusage), peak RSS, and their own fields.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use nix::sys::resource::{Resource, getrlimit, setrlimit};
use weft_core::history::HistoryStore;
use weft_core::{AgentSession, ChatAgent, ChatClient, ScriptedClient};
use weft_openai::OpenAI;

use crate::bench_agent::{INSTRUCTIONS, weather_tool};
use crate::measure::{Measure, Outcome, mock_stats, reset_mock_stats};

/// Resident memory of this process in bytes (`/proc/self/statm`).
pub fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

const MIB: f64 = 1024.0 * 1024.0;

/// The three turns of an idle session: a fact, a tool call, a question about the fact. Each
/// pair is the prompt and what the scripted model's final answer must contain.
fn turns(i: usize) -> [(String, String); 3] {
    [
        (format!("My name is Ada{i}."), format!("Ada{i}")),
        (format!("What's the weather in City{i}?"), format!("weather in City{i}: sunny, 21C")),
        ("What is my name?".into(), format!("Your name is Ada{i}.")),
    ]
}

/// `S-sessions` (`store` is `None`) and `S-sessions-sqlite`: `n` sessions of three turns each,
/// all kept until the end.
pub async fn idle_sessions(
    n: usize,
    store: Option<Arc<dyn HistoryStore>>,
    mock_url: &str,
) -> Result<bool, String> {
    let workload = if store.is_some() { "S-sessions-sqlite" } else { "S-sessions" };
    let mut builder = ChatAgent::builder(Arc::new(ScriptedClient::new()))
        .name("bench")
        .instructions(INSTRUCTIONS)
        .tool(weather_tool());
    if let Some(store) = store {
        builder = builder.history_store(store);
    }
    let agent = builder.build();
    let before = resident_bytes();
    let measure = Measure::start(mock_url).await;
    let mut sessions = Vec::with_capacity(n);
    let mut ok = 0;
    for i in 0..n {
        let mut session = agent.new_session();
        let mut valid = true;
        for (prompt, expected) in turns(i) {
            valid &= agent.run(&mut session, prompt).await.is_ok_and(|r| r.text().contains(&expected));
        }
        ok += usize::from(valid);
        sessions.push(session);
    }
    let measured = measure.stop().await;
    let after = resident_bytes();
    let messages: usize = sessions.iter().map(|s| s.messages.len()).sum();
    let json_bytes = sessions.first().and_then(|s| serde_json::to_vec(s).ok()).map_or(0, |b| b.len());
    let delta = after.saturating_sub(before) as f64;
    let extra = format!(
        " rss_before_mb={:.1} rss_after_mb={:.1} bytes_per_session={:.0} messages_per_session={:.1} \
         session_json_bytes={json_bytes}",
        before as f64 / MIB,
        after as f64 / MIB,
        delta / n as f64,
        messages as f64 / n as f64,
    );
    let valid = measured.report(Outcome { workload, api: "none", n, ok, unit: "sessions", extra });
    drop(sessions);
    Ok(valid)
}

/// Raises this process's open-file limit to its hard limit; the limit now in force.
pub fn raise_fd_limit() -> u64 {
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => hard,
            Err(_) => soft,
        },
        Ok((soft, _)) => soft,
        Err(_) => 0,
    }
}

/// How `S-concurrent` talks to the mock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// HTTP/1.1: a connection per run in flight (`S-concurrent`).
    Http1,
    /// HTTP/2 with prior knowledge (h2c): the runs share a connection as streams
    /// (`S-concurrent-h2`; the mock must speak it, see bench/scale/mockllm_h2.py).
    Http2,
}

/// `S-concurrent`: `n` runs of an agent on the mock's chat completions, all started at once, on
/// the model `echo+slow-{slow_ms}`, over `wire`; each run has its own session and says
/// `hello {i}`.
pub async fn concurrent_runs(n: usize, slow_ms: u64, mock_url: &str, wire: Wire) -> Result<bool, String> {
    let workload = match wire {
        Wire::Http1 => "S-concurrent",
        Wire::Http2 => "S-concurrent-h2",
    };
    let fd_limit = raise_fd_limit();
    if wire == Wire::Http1 && fd_limit < n as u64 + 100 {
        return Err(format!("{workload}: the open-file limit is {fd_limit}, {n} runs need more"));
    }
    let mut builder = OpenAI::builder()
        .api_key("mock-key")
        .base_url(format!("{mock_url}/v1"))
        .model(format!("echo+slow-{slow_ms}"));
    if wire == Wire::Http2 {
        builder = builder.http2_prior_knowledge();
    }
    let openai = builder.build().map_err(|e| e.to_string())?;
    let client: Arc<dyn ChatClient> = Arc::new(openai.chat());
    let agent = ChatAgent::builder(client).name("bench").instructions(INSTRUCTIONS).build();
    if !reset_mock_stats(mock_url).await {
        return Err(format!("{workload}: the mock at {mock_url} does not answer POST /stats/reset"));
    }
    let before = resident_bytes();
    let in_flight = AtomicUsize::new(0);
    let most_in_flight = AtomicUsize::new(0);
    let most_resident = std::sync::atomic::AtomicU64::new(0);
    let measure = Measure::start(mock_url).await;
    let runs = (0..n).map(|i| {
        let (agent, in_flight, most_in_flight) = (&agent, &in_flight, &most_in_flight);
        async move {
            let now = in_flight.fetch_add(1, Ordering::Relaxed) + 1;
            most_in_flight.fetch_max(now, Ordering::Relaxed);
            let expected = format!("hello {i}");
            let mut session = AgentSession::new();
            let response = agent.run(&mut session, expected.as_str()).await;
            in_flight.fetch_sub(1, Ordering::Relaxed);
            match response {
                Ok(response) if response.text() == expected => Ok(()),
                Ok(response) => Err(format!("run {i}: unexpected answer {:?}", response.text())),
                Err(error) => Err(format!("run {i}: {error}")),
            }
        }
    });
    // Samples the resident memory while the runs are open (getrusage's peak covers it too).
    let sampler = async {
        loop {
            most_resident.fetch_max(resident_bytes(), Ordering::Relaxed);
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    };
    let results = tokio::select! {
        results = futures::future::join_all(runs) => results,
        () = sampler => unreachable_sampler(),
    };
    let measured = measure.stop().await;
    let stats = mock_stats(mock_url).await;
    let mock_max_in_flight = stats.get("max_in_flight").and_then(serde_json::Value::as_u64).unwrap_or(0);
    let ok = results.iter().filter(|r| r.is_ok()).count();
    if let Some(Err(first)) = results.iter().find(|r| r.is_err()) {
        eprintln!("{workload}: {} failed; first: {first}", n - ok);
    }
    let all_open = mock_max_in_flight >= n as u64;
    if !all_open {
        eprintln!("{workload}: only {mock_max_in_flight} of {n} requests were open at the mock at once");
    }
    let extra = format!(
        " slow_ms={slow_ms} fd_limit={fd_limit} mock_max_in_flight={mock_max_in_flight} \
         client_max_in_flight={} rss_before_mb={:.1} rss_sampled_max_mb={:.1} bytes_per_run={:.0}",
        most_in_flight.load(Ordering::Relaxed),
        before as f64 / MIB,
        most_resident.load(Ordering::Relaxed) as f64 / MIB,
        most_resident.load(Ordering::Relaxed).saturating_sub(before) as f64 / n as f64,
    );
    let valid = measured.report(Outcome { workload, api: "chat", n, ok, unit: "runs", extra });
    Ok(valid && all_open)
}

/// The sampler loops until the runs end: its branch of the `select!` never completes.
fn unreachable_sampler() -> Vec<Result<(), String>> {
    Vec::new()
}
