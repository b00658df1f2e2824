//! A streamed background run whose client stops reading: the run never waits for it, so it still
//! meets its cancellation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use common::{TestHost, eventually, get_json, post_json};
use futures::stream::BoxStream;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use weft_core::{Agent, AgentError, AgentResponse, AgentResponseUpdate, AgentSession, ChatOptions, Message};
use weft_host::Host;

/// How many text deltas the chatty agent sends, and how long each is: 8 MB in all, far more than
/// the sockets, the server's buffers and the run's stream buffer hold together.
const DELTAS: usize = 1000;
const DELTA_LEN: usize = 8 * 1024;

/// An agent that answers [`DELTAS`] long text deltas (counting them in `sent`), then never ends.
#[derive(Default)]
struct ChattyAgent {
    sent: Arc<AtomicUsize>,
}

#[async_trait]
impl Agent for ChattyAgent {
    fn name(&self) -> &str {
        "chatty"
    }
    async fn run_messages(
        &self,
        _session: &mut AgentSession,
        _messages: Vec<Message>,
        _options: ChatOptions,
    ) -> Result<AgentResponse, AgentError> {
        futures::future::pending().await
    }
    fn run_messages_stream<'a>(
        &'a self,
        _session: &'a mut AgentSession,
        _messages: Vec<Message>,
        _options: ChatOptions,
    ) -> BoxStream<'a, Result<AgentResponseUpdate, AgentError>> {
        let sent = self.sent.clone();
        Box::pin(async_stream::stream! {
            let delta = "x".repeat(DELTA_LEN);
            for _ in 0..DELTAS {
                yield Ok(AgentResponseUpdate::text(delta.clone()));
                sent.fetch_add(1, Ordering::SeqCst);
            }
            futures::future::pending::<()>().await;
        })
    }
}

#[tokio::test]
async fn a_streaming_client_that_stops_reading_does_not_hold_up_its_background_run() {
    let agent = ChattyAgent::default();
    let sent = agent.sent.clone();
    let host = TestHost::start(Host::new().agent("chatty", Arc::new(agent))).await;
    let url = &host.url;
    // A client that sends its request and never reads a byte of the answer (with a small receive
    // buffer, so the server's writes stall soon).
    let body = json!({"model": "chatty", "input": "hi", "background": true, "stream": true}).to_string();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut client = socket.connect(url.trim_start_matches("http://").parse().unwrap()).await.unwrap();
    let request = format!(
        "POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    client.write_all(request.as_bytes()).await.unwrap();
    // It reads only as far as the response's id (in the headers' wake: `response.created`).
    let mut head = Vec::new();
    let id = loop {
        let mut chunk = [0u8; 256];
        let n = client.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the server closed the stream: {}", String::from_utf8_lossy(&head));
        head.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&head);
        if let Some(start) = text.find("\"id\":\"resp_") {
            let rest = &text[start + 6..];
            if let Some(end) = rest.find('"') {
                break rest[..end].to_string();
            }
        }
    };

    // The run goes on past what the stalled client can take.
    eventually("the run sends all its text", || sent.load(Ordering::SeqCst) == DELTAS).await;
    let (status, cancelled) = post_json(&format!("{url}/v1/responses/{id}/cancel"), json!({})).await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    let (_, retrieved) = get_json(&format!("{url}/v1/responses/{id}")).await;
    assert_eq!(retrieved["status"], "cancelled");
    drop(client);
}
