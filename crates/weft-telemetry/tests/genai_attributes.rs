//! GenAI attributes whose semantic-convention type is not a scalar reach the OTLP receiver with
//! that type: `gen_ai.response.finish_reasons` and `gen_ai.request.stop_sequences` are string
//! arrays.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use tracing_subscriber::layer::SubscriberExt as _;
use weft_core::agent::{AgentSession, ChatAgent};
use weft_telemetry::{Telemetry, TelemetryConfig};

use support::{attribute, model, receiver, span, spans, string_array};

#[tokio::test]
async fn finish_reasons_and_stop_sequences_are_exported_as_string_arrays() {
    let (otlp, received, _otlp) = receiver().await;
    let (base_url, _headers, _model) = model().await;
    let telemetry = Telemetry::new(&TelemetryConfig::default().endpoint(&otlp)).unwrap();
    let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(telemetry.layer()));
    let openai = weft_openai::OpenAI::builder().base_url(base_url).api_key("sk-test").model("gpt-4o-mini");
    let options = weft_core::ChatOptions { stop: vec!["END".into(), "STOP".into()], ..Default::default() };
    let agent = ChatAgent::builder(Arc::new(openai.build().unwrap().chat()))
        .name("greeter")
        .id("asst_1")
        .options(options)
        .build();
    agent.run(&mut AgentSession::new(), "hi").await.unwrap();
    drop(guard);
    // Off the runtime's thread: the exporter's HTTP client blocks.
    tokio::task::spawn_blocking(move || telemetry.shutdown().unwrap()).await.unwrap();

    let spans = spans(&received);
    let chat = span(&spans, "chat gpt-4o-mini");
    assert_eq!(string_array(chat, "gen_ai.response.finish_reasons"), Some(vec!["stop".to_string()]));
    assert_eq!(
        string_array(chat, "gen_ai.request.stop_sequences"),
        Some(vec!["END".to_string(), "STOP".to_string()])
    );
    let agent = span(&spans, "invoke_agent greeter");
    assert_eq!(attribute(agent, "gen_ai.agent.id").as_deref(), Some("asst_1"));
}
