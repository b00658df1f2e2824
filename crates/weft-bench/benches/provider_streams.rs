//! Criterion benchmarks of each provider's stream path, chunk for chunk: one streamed answer of
//! 1,000 text chunks in the provider's own wire format, served by a local HTTP server, read by
//! the provider's client (framing parser, stream state machine, Weft updates) to the end.
//! Every provider pays the same HTTP cost, so the differences are the parsers' (SSE for OpenAI,
//! Anthropic and Gemini, NDJSON for Ollama, the binary AWS event stream for Bedrock, whose
//! client also signs each request with SigV4). The OpenAI Chat Completions path is the
//! reference: no provider may cost more per chunk.
//!
//! `cargo bench -p weft-bench --bench provider_streams` (results in BENCHMARKS.md).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::response::Response;
use axum::routing::post;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use tokio::net::TcpListener;
use weft_core::{ChatClient, ChatOptions, ChatRequest, Content, Message};

mod stream_fixtures;
use stream_fixtures::{CHUNKS, anthropic_messages, bedrock, chat_completions, gemini, ollama, responses};

/// A local server answering every POST with `body` as a stream of `content_type`; its base URL.
async fn serve(body: impl Into<Vec<u8>>, content_type: &'static str) -> String {
    let body: Arc<Vec<u8>> = Arc::new(body.into());
    let app = Router::new().fallback(post(move || {
        let body = body.clone();
        async move {
            Response::builder().header(CONTENT_TYPE, content_type).body(Body::from(body.to_vec())).unwrap()
        }
    }));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // The bench process owns the server until it exits.
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// Streams one answer from `client` to the end; the number of text updates.
async fn drain(client: &dyn ChatClient) -> usize {
    let request = ChatRequest::new(vec![Message::user("go")], ChatOptions::default());
    let mut stream = client.get_streaming_response(request);
    let mut texts = 0;
    while let Some(update) = stream.next().await {
        let update = update.unwrap();
        if update.contents.iter().any(|c| matches!(c, Content::Text { .. })) {
            texts += 1;
        }
    }
    texts
}

fn provider_streams(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let sse = "text/event-stream";
    let (chat, responses, anthropic, gemini, ollama, bedrock) = runtime.block_on(async {
        (
            serve(chat_completions(), sse).await,
            serve(responses(), sse).await,
            serve(anthropic_messages(), sse).await,
            serve(gemini(), sse).await,
            serve(ollama(), "application/x-ndjson").await,
            serve(bedrock(), "application/vnd.amazon.eventstream").await,
        )
    });
    let openai =
        |base: &str| weft_openai::OpenAI::builder().base_url(base).api_key("k").model("m").build().unwrap();
    let clients: Vec<(&str, Box<dyn ChatClient>)> = vec![
        ("openai_chat_completions", Box::new(openai(&chat).chat())),
        ("openai_responses", Box::new(openai(&responses).responses())),
        (
            "anthropic_messages",
            Box::new(
                weft_anthropic::Anthropic::builder()
                    .base_url(&anthropic)
                    .api_key("k")
                    .model("m")
                    .build()
                    .unwrap()
                    .messages(),
            ),
        ),
        (
            "gemini_stream_generate_content",
            Box::new(
                weft_gemini::Gemini::builder()
                    .base_url(&gemini)
                    .api_key("k")
                    .model("m")
                    .build()
                    .unwrap()
                    .chat(),
            ),
        ),
        (
            "ollama_api_chat",
            Box::new(weft_ollama::Ollama::builder().host(&ollama).model("m").build().unwrap().chat()),
        ),
        (
            "bedrock_converse_stream",
            Box::new(
                weft_bedrock::Bedrock::builder()
                    .credentials(weft_bedrock::Credentials::new(
                        "AKIDBENCHEXAMPLE",
                        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                        None,
                    ))
                    .region("us-east-1")
                    .endpoint_url(&bedrock)
                    .model("m")
                    .build()
                    .unwrap()
                    .converse(),
            ),
        ),
    ];
    let mut group = c.benchmark_group("provider_stream_1000_chunks");
    group.throughput(Throughput::Elements(CHUNKS as u64));
    for (name, client) in &clients {
        // Every chunk arrives as one text update: the parsers are compared on the same work.
        assert_eq!(runtime.block_on(drain(client.as_ref())), CHUNKS, "{name}");
        group.bench_function(*name, |b| b.to_async(&runtime).iter(|| drain(client.as_ref())));
    }
    group.finish();
}

criterion_group!(benches, provider_streams);
criterion_main!(benches);
