//! Ollama's native API: an agent with a tool over `/api/chat` (options, `keep_alive`), and
//! the document closest to a question by `/api/embed`.
//!
//! `cargo run -p weft --features ollama --example ollama`
//!
//! With `OLLAMA_HOST` or `OLLAMA_MODEL` set it talks to that Ollama (`OLLAMA_MODEL`, default
//! `llama3.2`; `OLLAMA_EMBEDDING_MODEL`, default `nomic-embed-text`; pull them first with
//! `ollama pull`); without, Weft's offline scripted models, so it runs anywhere.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use weft::prelude::*;
use weft::{EmbeddingClient, EmbeddingOptions, ScriptedEmbeddingClient, cosine_similarity};

#[derive(Deserialize, JsonSchema)]
struct Weather {
    /// The city to look up.
    city: String,
}

fn configured(name: &str) -> bool {
    std::env::var(name).is_ok_and(|value| !value.trim().is_empty())
}

/// Ollama's chat and embedding clients when it is configured, else the scripted ones.
fn clients() -> (Arc<dyn ChatClient>, Arc<dyn EmbeddingClient>) {
    if configured("OLLAMA_HOST") || configured("OLLAMA_MODEL") {
        let mut builder = weft::ollama::OllamaBuilder::from_env().num_ctx(8192).keep_alive("10m");
        if !configured("OLLAMA_MODEL") {
            builder = builder.model("llama3.2");
        }
        let embedding_model =
            std::env::var("OLLAMA_EMBEDDING_MODEL").unwrap_or_else(|_| "nomic-embed-text".into());
        match builder.build() {
            Ok(ollama) => {
                eprintln!("(using {} at {})", ollama.default_model().unwrap_or("?"), ollama.host());
                return (Arc::new(ollama.chat()), Arc::new(ollama.embeddings(embedding_model)));
            }
            Err(error) => eprintln!("(cannot use Ollama: {error}; falling back to the scripted models)"),
        }
    }
    eprintln!(
        "(using the scripted models: deterministic, offline; set OLLAMA_HOST or OLLAMA_MODEL for Ollama)"
    );
    (Arc::new(ScriptedClient::new()), Arc::new(ScriptedEmbeddingClient::new()))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (chat, embedder) = clients();

    let get_weather =
        FunctionTool::new("get_weather", "Get the weather for a city", |args: Weather| async move {
            Ok::<_, String>(format!("weather in {}: sunny, 21C", args.city))
        });
    let agent = ChatAgent::builder(chat)
        .instructions("You answer questions about the weather.")
        .tool(get_weather)
        .build();
    let mut session = AgentSession::new();
    let response = agent.run(&mut session, "What's the weather in Paris?").await?;
    println!("agent: {}", response.text());

    let documents =
        ["The weather in Paris is sunny and 21C today.", "A croissant and a coffee make a fine breakfast."];
    let mut inputs: Vec<String> = documents.iter().map(|text| text.to_string()).collect();
    inputs.push("What is the weather like in Paris?".to_string());
    let embeddings = embedder.embed(inputs, EmbeddingOptions::default()).await?;
    let question = &embeddings.vectors[documents.len()];
    let (best, _) = documents
        .iter()
        .zip(&embeddings.vectors)
        .map(|(document, vector)| (document, cosine_similarity(question, vector)))
        .fold((&documents[0], f32::MIN), |best, next| if next.1 > best.1 { next } else { best });
    println!("closest document: {best}");
    Ok(())
}
