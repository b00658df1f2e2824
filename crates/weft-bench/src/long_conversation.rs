//! `S-long`: one conversation of 1,000 turns against the mock's chat completions (`echo`), with
//! weft-core's compaction ([`KeepLastTurns`], [`TokenBudget`]) or without, and what each turn
//! costs: the size of its request and this process's CPU.
//!
//! A request's size is the mock's count of it: the mock's prompt tokens are the request body's
//! bytes / 4, so `request_bytes` is 4 × the run's input tokens (within 4 bytes of the body).
//! The CPU of a turn is this process's user + system time across it (getrusage), reported per
//! bucket of 100 turns (µs a turn) and, noisier, for turns 1, 10, 100, 500 and 1,000.

use std::sync::Arc;

use nix::sys::resource::{UsageWho, getrusage};
use weft_core::compaction::{KeepLastTurns, TokenBudget};
use weft_core::{AgentSession, ChatAgent, ChatClient};
use weft_openai::OpenAI;

use crate::measure::{Measure, Outcome};

/// Turns in the conversation.
pub const TURNS: usize = 1_000;
/// The turns whose request size and CPU are reported one by one (1-based).
pub const SAMPLED: [usize; 5] = [1, 10, 100, 500, 1_000];
/// Turns per CPU bucket.
pub const BUCKET: usize = 100;

/// How the conversation is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compaction {
    /// The whole conversation is sent every turn.
    None,
    /// [`KeepLastTurns`] with the last 10 turns.
    KeepLastTurns,
    /// [`TokenBudget`] of 1,000 (estimated) tokens.
    TokenBudget,
}

impl Compaction {
    /// Parses `none`, `keep-last-turns` or `token-budget`.
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "none" => Ok(Self::None),
            "keep-last-turns" => Ok(Self::KeepLastTurns),
            "token-budget" => Ok(Self::TokenBudget),
            other => Err(format!("unknown --compaction {other} (none, keep-last-turns, token-budget)")),
        }
    }

    /// The name `parse` reads.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::KeepLastTurns => "keep-last-turns",
            Self::TokenBudget => "token-budget",
        }
    }
}

/// The prompt of turn `turn` (0-based): three kinds in turn, 40 to 60 bytes each.
pub fn prompt(turn: usize) -> String {
    match turn % 3 {
        0 => format!("What's the weather in City{turn}?"),
        1 => format!("My name is Ada{turn}."),
        _ => format!("Note {turn}: the quick brown fox jumps over the lazy dog."),
    }
}

/// This process's CPU time so far, in microseconds.
fn cpu_micros() -> u64 {
    match getrusage(UsageWho::RUSAGE_SELF) {
        Ok(usage) => {
            let micros = |tv: nix::sys::time::TimeVal| tv.tv_sec() as u64 * 1_000_000 + tv.tv_usec() as u64;
            micros(usage.user_time()) + micros(usage.system_time())
        }
        Err(_) => 0,
    }
}

/// The agent of `S-long`: the mock's `echo` model behind Chat Completions, with `compaction`.
fn agent(compaction: Compaction, mock_url: &str) -> Result<ChatAgent, String> {
    let openai = OpenAI::builder()
        .api_key("mock-key")
        .base_url(format!("{mock_url}/v1"))
        .model("echo")
        .build()
        .map_err(|e| e.to_string())?;
    let client: Arc<dyn ChatClient> = Arc::new(openai.chat());
    let builder = ChatAgent::builder(client).name("bench").instructions("You are a benchmark agent.");
    Ok(match compaction {
        Compaction::None => builder.build(),
        Compaction::KeepLastTurns => builder.compaction(KeepLastTurns::new(10)).build(),
        Compaction::TokenBudget => builder.compaction(TokenBudget::new(1_000)).build(),
    })
}

/// Runs the 1,000 turns in one session and prints the RESULT line.
pub async fn run(compaction: Compaction, mock_url: &str) -> Result<bool, String> {
    let agent = agent(compaction, mock_url)?;
    let mut session = AgentSession::new();
    let mut request_bytes = Vec::with_capacity(TURNS);
    let mut cpu = Vec::with_capacity(TURNS);
    let mut ok = 0;
    let measure = Measure::start(mock_url).await;
    for turn in 0..TURNS {
        let text = prompt(turn);
        let started = cpu_micros();
        let response = agent.run(&mut session, text.as_str()).await;
        cpu.push(cpu_micros().saturating_sub(started));
        match response {
            Ok(response) => {
                request_bytes.push(response.usage.input_tokens * 4);
                ok += usize::from(response.text() == text);
            }
            Err(error) => {
                eprintln!("S-long: turn {}: {error}", turn + 1);
                request_bytes.push(0);
            }
        }
    }
    let measured = measure.stop().await;
    let sampled = |values: &[u64], name: &str| {
        SAMPLED.iter().map(|t| format!(" {name}_t{t}={}", values[t - 1])).collect::<String>()
    };
    let buckets: String = cpu
        .chunks(BUCKET)
        .enumerate()
        .map(|(b, chunk)| {
            format!(
                " cpu_us_b{}={:.0}",
                (b + 1) * BUCKET,
                chunk.iter().sum::<u64>() as f64 / chunk.len() as f64
            )
        })
        .collect();
    let extra = format!(
        " compaction={} session_messages={} max_request_bytes={}{}{}{buckets}",
        compaction.as_str(),
        session.messages.len(),
        request_bytes.iter().max().copied().unwrap_or(0),
        sampled(&request_bytes, "request_bytes"),
        sampled(&cpu, "cpu_us"),
    );
    let workload = format!("S-long-{}", compaction.as_str());
    Ok(measured.report(Outcome { workload: &workload, api: "chat", n: TURNS, ok, unit: "turns", extra }))
}
