//! An agent whose conversation lives in SQLite, compacted to its last turns: the session file
//! holds only ids, each run loads only what it sends and appends its new messages.
//!
//! ```sh
//! cargo run -p weft-history --example sqlite_history -- DIR   # three turns
//! cargo run -p weft-history --example sqlite_history -- DIR   # a new process goes on with them
//! ```
//!
//! It keeps `DIR/history.db` (the messages) and `DIR/session.json` (the session: its id and
//! store). Compaction keeps the last 4 turns: from the sixth turn on, the model is sent less
//! than the store holds. Offline, on the scripted model.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use schemars::JsonSchema;
use serde::Deserialize;
use weft_core::agent::{AgentSession, ChatAgent};
use weft_core::compaction::KeepLastTurns;
use weft_core::history::HistoryStore;
use weft_core::middleware::{Next, from_fn};
use weft_core::{ChatRequest, FunctionTool, ScriptedClient};
use weft_history::SqliteHistoryStore;

#[derive(Deserialize, JsonSchema)]
struct City {
    /// The city.
    city: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: sqlite_history DIR")?;
    let dir = std::path::Path::new(&dir);
    let store = Arc::new(SqliteHistoryStore::open(dir.join("history.db")).await?);

    let weather = FunctionTool::new("get_weather", "Get the weather for a city", |args: City| async move {
        Ok::<_, String>(format!("weather in {}: sunny, 21C", args.city))
    });
    // Counts the messages each model call is sent.
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new()))
        .tool(weather)
        .history_store(store.clone())
        .compaction(KeepLastTurns::new(4))
        .chat_middleware(from_fn(move |request: ChatRequest, next: Next<ChatRequest>| {
            counter.store(request.messages.len(), Ordering::SeqCst);
            next.run(request)
        }))
        .build();

    let session_file = dir.join("session.json");
    let (mut session, prompts) = if session_file.exists() {
        println!("going on with the saved session");
        (
            AgentSession::load(&session_file)?,
            vec!["What is my name?", "What's the weather in Oslo?", "and in Lima?"],
        )
    } else {
        (agent.new_session(), vec!["My name is Ada.", "What's the weather in Paris?", "and in Rome?"])
    };
    for prompt in prompts {
        let response = agent.run(&mut session, prompt).await?;
        println!("> {prompt}\n{}", response.text());
        println!(
            "  (messages sent to the model: {}; stored in history.db: {})",
            sent.load(Ordering::SeqCst),
            store.len(&session.id).await?
        );
    }
    session.save(&session_file)?;
    println!("session.json: {} bytes, no message in it", std::fs::metadata(&session_file)?.len());
    Ok(())
}
