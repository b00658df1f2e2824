//! Metrics exported over OTLP/HTTP beside the spans, read back (protobuf) by a receiver in the
//! test: token usage by token type, operation durations of model and tool calls, workflow
//! superstep durations; flushed at shutdown.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::{HistogramDataPoint, Metric};
use schemars::JsonSchema;
use serde::Deserialize;
use tracing_subscriber::layer::SubscriberExt as _;
use weft_core::agent::{AgentSession, ChatAgent};
use weft_core::{FunctionTool, ScriptedClient};
use weft_telemetry::{Telemetry, TelemetryConfig};
use weft_workflow::{FnExecutor, WorkflowBuilder, WorkflowContext};

use support::{metrics, model, receiver};

#[derive(Deserialize, JsonSchema)]
struct WeatherArgs {
    /// The city.
    city: String,
}

fn text(attributes: &[KeyValue], key: &str) -> Option<String> {
    match attributes.iter().find(|kv| kv.key == key)?.value.as_ref()?.value.as_ref()? {
        Value::StringValue(text) => Some(text.clone()),
        _ => None,
    }
}

fn points<'a>(metrics: &'a [Metric], name: &str, unit: &str) -> Vec<&'a HistogramDataPoint> {
    let found: Vec<&Metric> = metrics.iter().filter(|metric| metric.name == name).collect();
    assert!(!found.is_empty(), "no metric {name}: {:?}", metrics.iter().map(|m| &m.name).collect::<Vec<_>>());
    found
        .into_iter()
        .flat_map(|metric| {
            assert_eq!(metric.unit, unit, "{name}");
            match &metric.data {
                Some(Data::Histogram(histogram)) => histogram.data_points.iter().collect::<Vec<_>>(),
                other => panic!("{name} is not a histogram: {other:?}"),
            }
        })
        .collect()
}

/// The one data point whose attributes include all of `wanted`.
fn point<'a>(points: &[&'a HistogramDataPoint], wanted: &[(&str, &str)]) -> &'a HistogramDataPoint {
    let found: Vec<&&HistogramDataPoint> = points
        .iter()
        .filter(|point| {
            wanted.iter().all(|(key, value)| text(&point.attributes, key).as_deref() == Some(value))
        })
        .collect();
    assert_eq!(found.len(), 1, "one point with {wanted:?} expected in {points:?}");
    found[0]
}

#[tokio::test]
async fn token_usage_and_durations_are_exported_at_shutdown() {
    let (otlp, received, _otlp) = receiver().await;
    let (base_url, _headers, _model) = model().await;
    let telemetry = Telemetry::new(&TelemetryConfig::default().endpoint(&otlp)).unwrap();
    let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(telemetry.layer()));

    let openai = weft_openai::OpenAI::builder().base_url(base_url).api_key("sk-test").model("gpt-4o-mini");
    let agent = ChatAgent::builder(Arc::new(openai.build().unwrap().chat())).name("greeter").build();
    agent.run(&mut AgentSession::new(), "hi").await.unwrap();
    let weather =
        FunctionTool::new("get_weather", "Get the weather for a city", |args: WeatherArgs| async move {
            Ok::<_, std::convert::Infallible>(format!("weather in {}: sunny", args.city))
        });
    let scripted = ChatAgent::builder(Arc::new(ScriptedClient::new())).tool(weather).build();
    scripted.run(&mut AgentSession::new(), "What's the weather in Paris?").await.unwrap();
    let workflow = WorkflowBuilder::new()
        .name("metered")
        .start_with(FnExecutor::new("first", |n: i64, ctx: WorkflowContext<i64>| async move {
            ctx.send_message(n + 1);
            Ok(())
        }))
        .add_executor(FnExecutor::new("second", |n: i64, ctx: WorkflowContext<()>| async move {
            ctx.yield_output(n);
            Ok(())
        }))
        .add_edge("first", "second")
        .build()
        .unwrap();
    workflow.run(1_i64).await.unwrap();
    assert!(support::metrics(&received).is_empty(), "metrics wait for the periodic export or shutdown");
    drop(guard);
    tokio::task::spawn_blocking(move || telemetry.shutdown().unwrap()).await.unwrap();

    let metrics = metrics(&received);
    let tokens = points(&metrics, "gen_ai.client.token.usage", "{token}");
    let openai = [("gen_ai.request.model", "gpt-4o-mini"), ("gen_ai.provider.name", "openai")];
    let input = point(&tokens, &[openai[0], openai[1], ("gen_ai.token.type", "input")]);
    assert_eq!((input.count, input.sum), (1, Some(12.0)));
    let output = point(&tokens, &[openai[0], openai[1], ("gen_ai.token.type", "output")]);
    assert_eq!((output.count, output.sum), (1, Some(3.0)));
    assert_eq!(text(&output.attributes, "gen_ai.operation.name").as_deref(), Some("chat"));

    let durations = points(&metrics, "gen_ai.client.operation.duration", "s");
    let chat = point(&durations, &[("gen_ai.operation.name", "chat"), openai[0]]);
    assert_eq!(chat.count, 1);
    assert!(chat.sum.unwrap() > 0.0);
    assert_eq!(chat.explicit_bounds.first(), Some(&0.01));
    let tool =
        point(&durations, &[("gen_ai.operation.name", "execute_tool"), ("gen_ai.tool.name", "get_weather")]);
    assert_eq!(tool.count, 1);

    let supersteps = points(&metrics, "weft.workflow.superstep.duration", "s");
    let metered = point(&supersteps, &[("weft.workflow.name", "metered")]);
    assert_eq!(metered.count, 2);
}

#[tokio::test]
async fn metrics_can_be_turned_off() {
    let (otlp, received, _otlp) = receiver().await;
    let telemetry = Telemetry::new(&TelemetryConfig::default().endpoint(&otlp).metrics(false)).unwrap();
    weft_core::telemetry::metrics::record(&weft_core::telemetry::metrics::TOKEN_USAGE, 1.0, &[]);
    tokio::task::spawn_blocking(move || telemetry.shutdown().unwrap()).await.unwrap();
    assert!(metrics(&received).is_empty());
}
