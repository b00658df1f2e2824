//! `weft_telemetry::init` in a program: an agent with a function tool, its spans exported to an
//! OTLP/HTTP receiver in the test when the guard is dropped (OTLP protobuf carries names and
//! attribute keys as plain UTF-8, so the bodies are searched for them).

// A test helper that fails is a failed test: panicking is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use schemars::JsonSchema;
use serde::Deserialize;
use tokio_util::task::AbortOnDropHandle;
use weft_core::agent::{AgentSession, ChatAgent};
use weft_core::{FunctionTool, ScriptedClient};
use weft_telemetry::TelemetryConfig;

type Received = Arc<Mutex<Vec<Bytes>>>;

/// An OTLP/HTTP receiver on a free loopback port, stopped when the handle is dropped.
async fn receiver() -> (String, Received, AbortOnDropHandle<()>) {
    let received: Received = Arc::default();
    let app = Router::new()
        .route(
            "/v1/traces",
            post(|State(received): State<Received>, body: Bytes| async move {
                received.lock().unwrap().push(body);
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

#[derive(Deserialize, JsonSchema)]
struct WeatherArgs {
    /// The city.
    city: String,
}

// One test per process: init installs the global subscriber.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_exports_an_agent_run_and_the_guard_flushes_it() {
    let (url, received, _server) = receiver().await;
    let telemetry = weft_telemetry::init(
        TelemetryConfig::default()
            .endpoint(&url)
            .service_name("weather-app")
            .resource_attribute("team", "blue"),
    )
    .unwrap();
    assert!(telemetry.is_enabled());

    let weather =
        FunctionTool::new("get_weather", "Get the weather for a city", |args: WeatherArgs| async move {
            Ok::<_, std::convert::Infallible>(format!("weather in {}: sunny, 21C", args.city))
        });
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new()))
        .name("forecaster")
        .instructions("You are a weather assistant.")
        .tool(weather)
        .capture_message_content(true)
        .build();
    let mut session = AgentSession::new();
    let response = agent.run(&mut session, "What's the weather in Paris?").await.unwrap();
    assert!(response.text().contains("sunny"));
    // A second subscriber cannot be installed: the error says what to do instead.
    let again = weft_telemetry::init(TelemetryConfig::default().endpoint(&url)).unwrap_err();
    assert!(again.to_string().contains("Telemetry::layer()"), "{again}");

    // Dropping the guard sends what the batch processor still holds (off the runtime's thread:
    // the exporter's HTTP client blocks).
    tokio::task::spawn_blocking(move || drop(telemetry)).await.unwrap();
    let bodies: String =
        received.lock().unwrap().iter().map(|body| String::from_utf8_lossy(body).into_owned()).collect();
    for expected in [
        "invoke_agent forecaster",
        "chat scripted",
        "execute_tool get_weather",
        "gen_ai.tool.type",
        "weather-app",
        "team",
        // Content, opted in by the builder flag.
        "gen_ai.input.messages",
        "gen_ai.system_instructions",
        "You are a weather assistant.",
        "gen_ai.tool.call.result",
    ] {
        assert!(bodies.contains(expected), "{expected:?} was not exported: {bodies:?}");
    }
}

#[test]
fn a_disabled_config_exports_nothing_and_needs_no_collector() {
    let telemetry = weft_telemetry::Telemetry::new(&TelemetryConfig::default().disabled(true)).unwrap();
    assert!(!telemetry.is_enabled());
    assert!(telemetry.layer::<tracing_subscriber::Registry>().is_none());
    telemetry.shutdown().unwrap();
}

#[test]
fn the_export_layer_asks_for_nothing_below_info() {
    // Without this hint `tracing` (and `log`, through its bridge) would ask the subscriber about
    // every DEBUG and TRACE call site of the HTTP stack on every request, only to drop them.
    use tracing_subscriber::layer::SubscriberExt as _;
    let telemetry = weft_telemetry::Telemetry::new(
        &TelemetryConfig::default().endpoint("http://127.0.0.1:9").metrics(false),
    )
    .unwrap();
    let subscriber = tracing_subscriber::registry().with(telemetry.layer());
    assert_eq!(
        tracing::Subscriber::max_level_hint(&subscriber),
        Some(tracing_subscriber::filter::LevelFilter::INFO)
    );
    telemetry.shutdown().unwrap();
}
