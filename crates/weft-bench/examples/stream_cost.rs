//! The provider stream benchmarks' six answers (`benches/stream_fixtures`) read by each
//! provider's client with no network: a [`Transport`] answers every request with the fixture's
//! bytes in 8 KiB pieces, so that what runs is the client's stream path alone (body stream,
//! framing parser, the provider's stream state machine, Weft updates). Made for counting
//! instructions with callgrind, which does not depend on the machine's load:
//!
//!     cargo build --release -p weft-bench --example stream_cost
//!     valgrind --tool=callgrind target/release/examples/stream_cost gemini 11
//!
//! Arguments: the provider (`chat`, `responses`, `anthropic`, `gemini`, `ollama`, `bedrock`) and
//! how many times to read the answer. The difference between the totals of two repetition
//! counts, divided by the extra chunks, is the cost per chunk (`bench/stream_cost.sh`).

#![allow(missing_docs)]

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use weft_core::{ChatClient, ChatOptions, ChatRequest, Content, Message};
use weft_provider::{Exchange, SendFuture, Transport};

#[path = "../benches/stream_fixtures/mod.rs"]
mod stream_fixtures;
use stream_fixtures::CHUNKS;

/// Bytes per body piece, about what a local socket read hands over.
const PIECE: usize = 8 * 1024;

/// Answers every request with `body` (status 200, `content_type`), in [`PIECE`]-sized pieces.
#[derive(Debug)]
struct Canned {
    body: Bytes,
    content_type: &'static str,
}

impl Transport for Canned {
    fn send<'a>(
        &'a self,
        _http: &'a reqwest::Client,
        _request: reqwest::Request,
        _exchange: Exchange<'a>,
    ) -> SendFuture<'a> {
        let body = self.body.clone();
        let content_type = self.content_type;
        Box::pin(async move {
            let pieces: Vec<Result<Bytes, std::io::Error>> = (0..body.len())
                .step_by(PIECE)
                .map(|at| Ok(body.slice(at..(at + PIECE).min(body.len()))))
                .collect();
            let mut answer = http::Response::new(reqwest::Body::wrap_stream(futures::stream::iter(pieces)));
            answer
                .headers_mut()
                .insert(reqwest::header::CONTENT_TYPE, http::HeaderValue::from_static(content_type));
            Ok(reqwest::Response::from(answer))
        })
    }
}

fn client(provider: &str) -> Result<Box<dyn ChatClient>, String> {
    let sse = "text/event-stream";
    let canned = |body: Vec<u8>, content_type| -> Arc<dyn Transport> {
        Arc::new(Canned { body: Bytes::from(body), content_type })
    };
    let openai = |body: String| {
        weft_openai::OpenAI::builder()
            .base_url("http://127.0.0.1:9")
            .api_key("k")
            .model("m")
            .transport(canned(body.into_bytes(), sse))
            .build()
            .map_err(|err| err.to_string())
    };
    Ok(match provider {
        "chat" => Box::new(openai(stream_fixtures::chat_completions())?.chat()),
        "responses" => Box::new(openai(stream_fixtures::responses())?.responses()),
        "anthropic" => Box::new(
            weft_anthropic::Anthropic::builder()
                .base_url("http://127.0.0.1:9")
                .api_key("k")
                .model("m")
                .transport(canned(stream_fixtures::anthropic_messages().into_bytes(), sse))
                .build()
                .map_err(|err| err.to_string())?
                .messages(),
        ),
        "gemini" => Box::new(
            weft_gemini::Gemini::builder()
                .base_url("http://127.0.0.1:9")
                .api_key("k")
                .model("m")
                .transport(canned(stream_fixtures::gemini().into_bytes(), sse))
                .build()
                .map_err(|err| err.to_string())?
                .chat(),
        ),
        "ollama" => Box::new(
            weft_ollama::Ollama::builder()
                .host("http://127.0.0.1:9")
                .model("m")
                .transport(canned(stream_fixtures::ollama().into_bytes(), "application/x-ndjson"))
                .build()
                .map_err(|err| err.to_string())?
                .chat(),
        ),
        "bedrock" => Box::new(
            weft_bedrock::Bedrock::builder()
                .credentials(weft_bedrock::Credentials::new(
                    "AKIDBENCHEXAMPLE",
                    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                    None,
                ))
                .region("us-east-1")
                .endpoint_url("http://127.0.0.1:9")
                .model("m")
                .transport(canned(stream_fixtures::bedrock(), "application/vnd.amazon.eventstream"))
                .build()
                .map_err(|err| err.to_string())?
                .converse(),
        ),
        other => return Err(format!("unknown provider {other}")),
    })
}

/// Reads one answer from `client` to the end; the number of text updates.
async fn drain(client: &dyn ChatClient) -> Result<usize, String> {
    let request = ChatRequest::new(vec![Message::user("go")], ChatOptions::default());
    let mut stream = client.get_streaming_response(request);
    let mut texts = 0;
    while let Some(update) = stream.next().await {
        let update = update.map_err(|err| err.to_string())?;
        if update.contents.iter().any(|c| matches!(c, Content::Text { .. })) {
            texts += 1;
        }
    }
    Ok(texts)
}

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let provider = args.next().ok_or("usage: stream_cost PROVIDER [REPETITIONS]")?;
    let repetitions: usize =
        args.next().map_or(Ok(1), |n| n.parse()).map_err(|err| format!("repetitions: {err}"))?;
    let client = client(&provider)?;
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|err| err.to_string())?;
    for _ in 0..repetitions {
        let texts = runtime.block_on(drain(client.as_ref()))?;
        if texts != CHUNKS {
            return Err(format!("{provider}: {texts} text updates, expected {CHUNKS}"));
        }
    }
    Ok(())
}
