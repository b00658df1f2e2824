//! W8's agent behind `weft_host::Host`, without the CLI around it: for profiling the host's
//! memory per open stream (heaptrack) with a small build. `weft serve bench/w8/agent.yaml` is
//! what W8 measures; this serves the same agent (instructions, no tools, OpenAI Chat Completions
//! on the mock) with the same limits.
//!
//!     MOCK_URL=http://127.0.0.1:8089 W8_MOCK_MODEL=echo+slow-10000 \
//!       cargo run --release -p weft-bench --example w8_host -- 127.0.0.1:8088

use std::sync::Arc;
use std::time::Duration;

use weft_core::{ChatAgent, ChatClient};
use weft_host::{Host, HostConfig};
use weft_openai::OpenAI;

#[tokio::main]
async fn main() -> Result<(), String> {
    let address = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8088".into());
    let mock = std::env::var("MOCK_URL").unwrap_or_else(|_| "http://127.0.0.1:8089".into());
    let model = std::env::var("W8_MOCK_MODEL").unwrap_or_else(|_| "echo".into());
    let openai = OpenAI::builder()
        .api_key("mock-key")
        .base_url(format!("{mock}/v1"))
        .model(model)
        .build()
        .map_err(|e| e.to_string())?;
    let client: Arc<dyn ChatClient> = Arc::new(openai.chat());
    let agent = ChatAgent::builder(client).name("bench").instructions("You are a benchmark agent.").build();
    let config = HostConfig {
        max_concurrent_runs: 2000,
        run_timeout: Duration::from_secs(120),
        ..HostConfig::default()
    };
    let listener = tokio::net::TcpListener::bind(&address).await.map_err(|e| e.to_string())?;
    Host::new()
        .config(config)
        .agent("bench", Arc::new(agent))
        .serve(listener, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}
