//! An in-test server that gives scripted answers in turn and keeps the requests it got.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use weft_gemini::{Gemini, GeminiBuilder};

/// One scripted answer: status, extra headers, content type, body.
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub content_type: &'static str,
    pub body: String,
}

/// A stream of server-sent events.
pub fn sse(body: &str) -> Answer {
    Answer { status: 200, headers: Vec::new(), content_type: "text/event-stream", body: body.to_string() }
}

/// A JSON answer.
pub fn json_answer(status: u16, body: &str) -> Answer {
    Answer { status, headers: Vec::new(), content_type: "application/json", body: body.to_string() }
}

/// A request the server got: its path and query, headers and JSON body.
#[derive(Clone, Debug)]
pub struct Got {
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Default)]
struct Script {
    answers: Vec<Answer>,
    requests: Vec<Got>,
}

/// A server on a free port that gives the scripted answers in turn (the last one again when
/// they run out), stopped when the test ends.
pub struct Mock {
    pub base_url: String,
    script: Arc<Mutex<Script>>,
    stop: CancellationToken,
    _server: tokio::task::JoinHandle<()>,
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Mock {
    pub async fn start(answers: Vec<Answer>) -> Self {
        let script = Arc::new(Mutex::new(Script { answers, requests: Vec::new() }));
        let app = Router::new().fallback(answer).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let stop = CancellationToken::new();
        let shutdown = stop.clone();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await.unwrap();
        });
        Self { base_url, script, stop, _server: server }
    }

    /// A builder for the Gemini API at this server (`{base}/v1beta`), with a key and a model.
    pub fn builder(&self) -> GeminiBuilder {
        Gemini::builder()
            .base_url(format!("{}/v1beta", self.base_url))
            .api_key("AIza-test-key")
            .model("gemini-2.5-flash")
            .initial_retry_delay(Duration::from_millis(10))
    }

    pub fn requests(&self) -> Vec<Got> {
        self.script.lock().unwrap().requests.clone()
    }
}

async fn answer(
    State(script): State<Arc<Mutex<Script>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut script = script.lock().unwrap();
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    script.requests.push(Got { uri: uri.to_string(), headers, body });
    let answer = if script.answers.len() > 1 { script.answers.remove(0) } else { script.answers[0].clone() };
    let mut response =
        (StatusCode::from_u16(answer.status).unwrap(), [("content-type", answer.content_type)], answer.body)
            .into_response();
    for (name, value) in answer.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}
