//! Spans for agent runs, model calls and tool calls carry the GenAI semantic-convention names.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use schemars::JsonSchema;
use serde::Deserialize;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use weft_core::agent::{AgentSession, ChatAgent};
use weft_core::{FunctionTool, ScriptedClient};

type SpanLog = Arc<Mutex<Vec<(String, HashMap<String, String>)>>>;

#[derive(Default, Clone)]
struct Spans(SpanLog);

struct Fields<'a>(&'a mut HashMap<String, String>);
impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_string(), format!("{value:?}").trim_matches('"').to_string());
    }
}

impl<S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>> Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _ctx: Context<'_, S>) {
        let mut fields = HashMap::new();
        fields.insert("__id".into(), id.into_u64().to_string());
        attrs.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push((attrs.metadata().name().to_string(), fields));
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut spans = self.0.lock().unwrap();
        if let Some((_, fields)) = spans.iter_mut().find(|(_, f)| f["__id"] == id.into_u64().to_string()) {
            values.record(&mut Fields(fields));
        }
    }
}

#[derive(Deserialize, JsonSchema)]
struct City {
    city: String,
}

#[tokio::test]
async fn agent_chat_and_tool_spans_use_genai_names() {
    let spans = Spans::default();
    let subscriber = tracing_subscriber::registry().with(spans.clone());
    let _guard = tracing::subscriber::set_default(subscriber);
    let tool = FunctionTool::new("get_weather", "Weather", |a: City| async move { Ok::<_, String>(a.city) });
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new())).name("forecaster").tool(tool).build();
    agent.run(&mut AgentSession::new(), "weather in Paris").await.unwrap();

    let spans = spans.0.lock().unwrap().clone();
    let names: Vec<&str> = spans.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, vec!["invoke_agent", "chat", "execute_tool", "chat"]);
    let agent_span = &spans[0].1;
    assert_eq!(agent_span["gen_ai.operation.name"], "invoke_agent");
    assert_eq!(agent_span["gen_ai.agent.name"], "forecaster");
    let chat = &spans[1].1;
    assert_eq!(chat["gen_ai.operation.name"], "chat");
    assert_eq!(chat["gen_ai.provider.name"], "scripted");
    assert_eq!(chat["gen_ai.request.model"], "scripted");
    // A string array, recorded as its JSON text (weft-telemetry exports it as an array).
    assert_eq!(chat["gen_ai.response.finish_reasons"], r#"["tool_calls"]"#);
    assert!(chat["gen_ai.usage.input_tokens"].parse::<u64>().unwrap() > 0);
    let tool = &spans[2].1;
    assert_eq!(tool["gen_ai.tool.name"], "get_weather");
    assert_eq!(tool["gen_ai.operation.name"], "execute_tool");
    // The run's usage is the sum over both model calls.
    let total: u64 = [&spans[1].1, &spans[3].1]
        .iter()
        .map(|s| s["gen_ai.usage.input_tokens"].parse::<u64>().unwrap())
        .sum();
    assert_eq!(agent_span["gen_ai.usage.input_tokens"].parse::<u64>().unwrap(), total);
}

#[tokio::test]
async fn chat_spans_carry_the_request_parameters_and_agent_spans_the_agent_id() {
    let spans = Spans::default();
    let subscriber = tracing_subscriber::registry().with(spans.clone());
    let _guard = tracing::subscriber::set_default(subscriber);
    let options = weft_core::ChatOptions {
        temperature: Some(0.5),
        top_p: Some(0.25),
        max_tokens: Some(64),
        seed: Some(7),
        stop: vec!["END".into(), "STOP".into()],
        ..Default::default()
    };
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new()))
        .name("forecaster")
        .id("asst_42")
        .options(options)
        .build();
    assert_eq!(agent.id(), Some("asst_42"));
    agent.run(&mut AgentSession::new(), "hello").await.unwrap();

    let spans = spans.0.lock().unwrap().clone();
    let agent_span = &spans.iter().find(|(name, _)| name == "invoke_agent").unwrap().1;
    assert_eq!(agent_span["gen_ai.agent.id"], "asst_42");
    let chat = &spans.iter().find(|(name, _)| name == "chat").unwrap().1;
    assert_eq!(chat["gen_ai.request.temperature"], "0.5");
    assert_eq!(chat["gen_ai.request.top_p"], "0.25");
    assert_eq!(chat["gen_ai.request.max_tokens"], "64");
    assert_eq!(chat["gen_ai.request.seed"], "7");
    // A string array, recorded as its JSON text (weft-telemetry exports it as an array).
    assert_eq!(chat["gen_ai.request.stop_sequences"], r#"["END","STOP"]"#);
}

#[tokio::test]
async fn an_agent_without_an_id_records_none() {
    let spans = Spans::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(spans.clone()));
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new())).build();
    assert_eq!(agent.id(), None);
    agent.run(&mut AgentSession::new(), "hello").await.unwrap();
    let spans = spans.0.lock().unwrap().clone();
    let agent_span = &spans.iter().find(|(name, _)| name == "invoke_agent").unwrap().1;
    assert!(!agent_span.contains_key("gen_ai.agent.id"), "{agent_span:?}");
    let chat = &spans.iter().find(|(name, _)| name == "chat").unwrap().1;
    assert!(!chat.contains_key("gen_ai.request.stop_sequences"), "{chat:?}");
}

#[tokio::test]
async fn a_run_over_its_budget_records_the_limit_and_its_partial_usage() {
    let spans = Spans::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(spans.clone()));
    let tool = FunctionTool::new("get_weather", "Weather", |a: City| async move { Ok::<_, String>(a.city) });
    let prices = weft_core::PriceTable::new().with("scripted", weft_core::ModelPrice::new(1.0, 1.0));
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new()))
        .name("thrifty")
        .tool(tool)
        .budget(weft_core::BudgetLimits::new().max_tool_calls(0).prices(prices))
        .build();
    let error = agent.run(&mut AgentSession::new(), "weather in Paris").await.unwrap_err();
    let partial = error.partial_response().unwrap().clone();

    let spans = spans.0.lock().unwrap().clone();
    let agent_span = &spans.iter().find(|(name, _)| name == "invoke_agent").unwrap().1;
    assert_eq!(agent_span["weft.budget.exceeded"], "tool_calls");
    assert_eq!(agent_span["error.type"], "budget_exceeded");
    assert_eq!(agent_span["gen_ai.usage.input_tokens"], partial.usage.input_tokens.to_string());
    assert_eq!(agent_span["weft.usage.cost"].parse::<f64>().unwrap(), partial.cost.unwrap());
}
