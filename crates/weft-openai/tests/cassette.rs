//! Cassettes with the OpenAI provider: traffic recorded against llama.cpp's `llama-server`
//! replays identically with the server stopped (the same updates, the same final responses),
//! and the committed cassette recorded there replays in CI without any server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/llama.rs"]
mod llama;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use llama::{LlamaServer, Options, peer};
use weft_core::{ChatClient, ChatOptions, ChatRequest, ChatResponse, ChatResponseUpdate, Message};
use weft_openai::OpenAI;
use weft_provider::Transport;
use weft_provider::cassette::{Recorder, Replayer};

const KEY: &str = "sk-llama-cassette-key";

/// The committed cassette: `record_against_llama_then_replay_offline` wrote it (run it with
/// `WEFT_WRITE_CASSETTE_FIXTURE=1` to write it again).
fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/llama-chat.jsonl")
}

fn clients(base_url: &str, transport: Arc<dyn Transport>) -> Vec<Arc<dyn ChatClient>> {
    let openai = OpenAI::builder()
        .base_url(base_url)
        .api_key(KEY)
        .model("tiny")
        .timeout(Duration::from_secs(30))
        .max_retries(0)
        .transport(transport)
        .build()
        .unwrap();
    vec![Arc::new(openai.chat()), Arc::new(openai.responses())]
}

fn ask() -> ChatRequest {
    ChatRequest::new(
        vec![Message::user("Say hello.")],
        ChatOptions { temperature: Some(0.0), ..ChatOptions::default() },
    )
}

/// For each client: the streamed updates, then the whole response.
async fn converse(clients: &[Arc<dyn ChatClient>]) -> Vec<(Vec<ChatResponseUpdate>, ChatResponse)> {
    let mut out = Vec::new();
    for client in clients {
        let updates: Vec<ChatResponseUpdate> =
            client.get_streaming_response(ask()).map(|update| update.unwrap()).collect().await;
        let whole = client.get_response(ask()).await.unwrap();
        out.push((updates, whole));
    }
    out
}

#[tokio::test]
#[ignore = "needs llama-server: scripts/test installs them"]
async fn record_against_llama_then_replay_offline() {
    let peer = peer("record_against_llama_then_replay_offline");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("llama.jsonl");
    let mut server = LlamaServer::start(&peer, &Options { api_key: Some(KEY.into()), ..Options::default() });
    let base_url = server.base_url();
    let recorder = Recorder::create(&path).unwrap();
    let live = converse(&clients(&base_url, Arc::new(recorder.clone()))).await;
    recorder.check().unwrap();
    assert_eq!(recorder.len(), 4);
    server.kill();

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(KEY), "the key reached the cassette");
    let replayer = Replayer::open(&path).unwrap();
    let replayed = converse(&clients(&base_url, Arc::new(replayer.clone()))).await;
    assert_eq!(replayed, live);
    assert!(live.iter().all(|(updates, whole)| !updates.is_empty() && !whole.text_content().is_empty()));
    replayer.finish().unwrap();
    if std::env::var_os("WEFT_WRITE_CASSETTE_FIXTURE").is_some() {
        std::fs::copy(&path, fixture()).unwrap();
    }
}

#[tokio::test]
async fn the_committed_llama_cassette_replays_without_a_server() {
    let replayer = Replayer::open(fixture()).unwrap();
    let conversations = converse(&clients("http://127.0.0.1:9/v1", Arc::new(replayer.clone()))).await;
    for (updates, whole) in &conversations {
        let streamed: String = updates.iter().map(ChatResponseUpdate::text_content).collect();
        assert_eq!(streamed, "Howdy, pal!");
        assert_eq!(whole.text_content(), "Howdy, pal!");
    }
    replayer.finish().unwrap();
    let text = std::fs::read_to_string(fixture()).unwrap();
    assert!(!text.contains(KEY));
}
