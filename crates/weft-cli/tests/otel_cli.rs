//! `weft run --otlp` and the OTEL_* variables against a minimal OTLP/HTTP receiver in the test:
//! what reaches it (OTLP protobuf carries span names and attribute keys as plain UTF-8, so the
//! bodies are searched for them), on success and on error exits. The real backend is checked
//! in `otel_phoenix.rs`.

// A test helper that fails is a failed test: panicking is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
use common::weft;

use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio_util::task::AbortOnDropHandle;

/// What the receiver got: each request's headers and body.
type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// An OTLP/HTTP receiver on a free loopback port: `POST /v1/traces` answers 200 and keeps the
/// request. Stopped when the returned handle is dropped.
async fn receiver() -> (String, Received, AbortOnDropHandle<()>) {
    let received: Received = Arc::default();
    let app = Router::new()
        .route(
            "/v1/traces",
            post(|State(received): State<Received>, headers: HeaderMap, body: Bytes| async move {
                received.lock().unwrap().push((headers, body));
                StatusCode::OK
            }),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{address}"), received, AbortOnDropHandle::new(server))
}

/// Runs the command off the runtime's thread (the receiver runs on it).
async fn output(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("the weft binary runs")).await.unwrap()
}

fn bodies(received: &Received) -> String {
    let received = received.lock().unwrap();
    received.iter().map(|(_, body)| String::from_utf8_lossy(body).into_owned()).collect()
}

const PROMPT: &str = "What's the weather in Paris?";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_exports_the_runs_spans_before_exit() {
    let (url, received, _server) = receiver().await;
    let mut command = weft();
    command.args(["run", "--otlp", &url, PROMPT]);
    let output = output(command).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let bodies = bodies(&received);
    for expected in
        ["invoke_agent weft", "chat scripted", "execute_tool get_weather", "gen_ai.usage.input_tokens"]
    {
        assert!(bodies.contains(expected), "{expected:?} was not exported: {bodies:?}");
    }
    assert!(bodies.contains("service.name") && bodies.contains("weft"));
    assert!(!bodies.contains("sunny"), "tool output exported without opt-in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_exit_still_flushes_the_spans() {
    let (url, received, _server) = receiver().await;
    let mut command = weft();
    // The scripted model calls a tool first: one model call is not enough (exit code 3).
    command.args(["run", "--otlp", &url, "--max-iterations", "1", PROMPT]);
    let output = output(command).await;
    assert_eq!(output.status.code(), Some(3), "{}", String::from_utf8_lossy(&output.stderr));
    let bodies = bodies(&received);
    assert!(bodies.contains("invoke_agent weft"), "{bodies:?}");
    assert!(bodies.contains("error.type") && bodies.contains("max_iterations"), "{bodies:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standard_variables_configure_the_export() {
    let (url, received, _server) = receiver().await;
    let mut command = weft();
    command
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &url)
        .env("OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=acme")
        .env("OTEL_SERVICE_NAME", "weather-bot")
        .env("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=test")
        .args(["run", PROMPT]);
    let output = output(command).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let bodies = bodies(&received);
    assert!(bodies.contains("invoke_agent weft"), "{bodies:?}");
    assert!(bodies.contains("weather-bot") && bodies.contains("deployment.environment.name"), "{bodies:?}");
    let received = received.lock().unwrap();
    assert!(received.iter().all(|(headers, _)| headers.get("x-tenant").is_some_and(|value| value == "acme")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otel_sdk_disabled_turns_export_off() {
    let (url, received, _server) = receiver().await;
    let mut command = weft();
    command.env("OTEL_SDK_DISABLED", "true").args(["run", "--otlp", &url, PROMPT]);
    let output = output(command).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(received.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsupported_protocol_is_a_usage_error() {
    let mut command = weft();
    command.env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json").args([
        "run",
        "--otlp",
        "http://127.0.0.1:9",
        PROMPT,
    ]);
    let output = output(command).await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unsupported OTLP protocol \"http/json\""), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_that_cannot_be_sent_are_a_warning_without_secrets() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut command = weft();
    command.args(["run", "--otlp", &format!("http://user:s3cret@127.0.0.1:{closed}/?token=hidden"), PROMPT]);
    let output = output(command).await;
    assert!(output.status.success(), "the run's own outcome stands");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("warning: 4 span(s) could not be sent to the OTLP endpoint"), "{stderr}");
    assert!(!stderr.contains("s3cret") && !stderr.contains("hidden"), "{stderr}");
}
