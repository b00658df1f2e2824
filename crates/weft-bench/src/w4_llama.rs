//! W4 against a real model server: one streamed run, every update consumed, through a
//! provider's wire, from llama.cpp's `llama-server` (started by `bench/w4_llama.sh` with
//! `--ignore-eos`, so that it generates exactly the tokens asked for and streams each as a
//! chunk). The same server speaks OpenAI's Chat Completions and Responses and Anthropic's
//! Messages, so the client's CPU per chunk compares the provider paths on the same tokens.

use std::sync::Arc;

use futures::StreamExt;
use weft_core::{AgentSession, ChatAgent, ChatClient, ChatOptions};

use crate::measure::{Measure, Outcome};

/// The client of `api` (`chat`, `responses`, `anthropic`) for the llama-server at `url`
/// (`http://127.0.0.1:PORT`).
fn client(api: &str, url: &str) -> Result<Arc<dyn ChatClient>, String> {
    let openai = || {
        weft_openai::OpenAI::builder()
            .base_url(format!("{url}/v1"))
            .api_key("bench-key")
            .model("tiny")
            .build()
            .map_err(|e| e.to_string())
    };
    Ok(match api {
        "chat" => Arc::new(openai()?.chat()),
        "responses" => Arc::new(openai()?.responses()),
        "anthropic" => Arc::new(
            weft_anthropic::Anthropic::builder()
                .base_url(url)
                .api_key("bench-key")
                .model("tiny")
                .build()
                .map_err(|e| e.to_string())?
                .messages(),
        ),
        other => return Err(format!("unknown --api {other} (chat, responses or anthropic)")),
    })
}

/// Streams one answer of `tokens` tokens through `api` and prints the RESULT line, with the
/// text updates that reached the caller and the client's CPU microseconds per update. The run
/// is valid when the stream ends without an error and nearly every token came as an update
/// (llama-server holds back none but a final empty one).
///
/// # Errors
/// When the client cannot be built.
pub async fn run(api: &str, url: &str, tokens: usize) -> Result<bool, String> {
    let options =
        ChatOptions { max_tokens: Some(tokens as u32), temperature: Some(0.0), ..ChatOptions::default() };
    let agent = ChatAgent::builder(client(api, url)?)
        .name("bench")
        .instructions("You are a benchmark agent.")
        .options(options)
        .build();
    let measure = Measure::start(url).await;
    let mut session = AgentSession::new();
    let mut stream = agent.run_stream(&mut session, "stream please");
    let (mut updates, mut chars, mut failed) = (0usize, 0usize, false);
    while let Some(update) = stream.next().await {
        match update {
            Ok(update) => {
                let delta = update.text_content();
                if !delta.is_empty() {
                    updates += 1;
                    chars += delta.len();
                }
            }
            Err(error) => {
                eprintln!("W4-llama ({api}): {error}");
                failed = true;
            }
        }
    }
    drop(stream);
    let measured = measure.stop().await;
    let cpu_us_per_chunk = measured.cpu_seconds() * 1e6 / updates.max(1) as f64;
    let ok = if !failed && updates * 10 >= tokens * 9 { updates } else { 0 };
    let extra = format!(" text_updates={updates} text_bytes={chars} cpu_us_per_chunk={cpu_us_per_chunk:.2}");
    Ok(measured.report(Outcome { workload: "W4-llama", api, n: updates, ok, unit: "chunks", extra }))
}
