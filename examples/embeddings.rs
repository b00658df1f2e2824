//! Embeddings: texts turned into vectors, and the document closest to a question found by
//! cosine similarity.
//!
//! `cargo run -p weft --example embeddings`
//!
//! With `OPENAI_API_KEY` set it uses OpenAI's embeddings (`OPENAI_BASE_URL`, and
//! `OPENAI_EMBEDDING_MODEL`, default `text-embedding-3-small`); without, Weft's offline
//! `ScriptedEmbeddingClient`, which hashes words (deterministic, not semantic: it matches shared
//! words, not meanings).

use std::sync::Arc;

use weft::{EmbeddingClient, EmbeddingOptions, ScriptedEmbeddingClient, cosine_similarity};

/// The embedding model: OpenAI's when `OPENAI_API_KEY` is set, else the scripted one.
fn embedding_client() -> Arc<dyn EmbeddingClient> {
    if std::env::var("OPENAI_API_KEY").is_ok_and(|key| !key.trim().is_empty()) {
        let model =
            std::env::var("OPENAI_EMBEDDING_MODEL").unwrap_or_else(|_| "text-embedding-3-small".into());
        match weft::openai::OpenAI::from_env() {
            Ok(openai) => {
                eprintln!("(using {model} at {})", openai.base_url());
                return Arc::new(openai.embeddings(model));
            }
            Err(error) => eprintln!("(cannot use OpenAI: {error}; falling back to the scripted model)"),
        }
    }
    eprintln!("(using the scripted embedding model: deterministic, offline, not semantic)");
    Arc::new(ScriptedEmbeddingClient::new())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = embedding_client();
    let documents = [
        "The weather in Paris is sunny and 21C today.",
        "Rust's borrow checker makes sure references stay valid.",
        "A croissant and a coffee make a fine breakfast.",
    ];
    let question = "What is the weather like in Paris?";

    // One call embeds a whole batch; the vectors come back in the same order.
    let mut inputs: Vec<String> = documents.iter().map(|text| text.to_string()).collect();
    inputs.push(question.to_string());
    let embeddings = client.embed(inputs, EmbeddingOptions::default()).await?;
    let tokens = embeddings.usage.map_or(0, |usage| usage.input_tokens);
    println!(
        "embedded {} texts with {}: {} dimensions, {tokens} input tokens",
        embeddings.len(),
        embeddings.model,
        embeddings.dimensions().unwrap_or(0)
    );

    let (question_vector, document_vectors) = embeddings.vectors.split_last().ok_or("no vectors")?;
    let mut ranked: Vec<(f32, &str)> = document_vectors
        .iter()
        .zip(documents)
        .map(|(vector, document)| (cosine_similarity(question_vector, vector), document))
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("closest to {question:?}:");
    for (score, document) in ranked {
        println!("  {score:>5.2}  {document}");
    }
    Ok(())
}
