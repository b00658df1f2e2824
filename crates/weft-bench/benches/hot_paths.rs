//! Criterion micro-benchmarks of Weft's hot paths: SSE parsing and stream folding, the
//! function-invocation loop on the replay client, message (de)serialization, and superstep
//! dispatch. `cargo bench -p weft-bench`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use weft_core::{
    AgentSession, ChatAgent, ChatResponse, ChatResponseUpdate, Content, FunctionCall, FunctionResult,
    FunctionTool, Message, ReplayClient, ResponseFolder, Role,
};
use weft_openai::sse::SseParser;

/// 1,000 Chat Completions chunks, as the mock streams them.
fn sse_body() -> Vec<u8> {
    let mut body = String::new();
    for i in 0..1000 {
        body.push_str(&format!(
            "data: {{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\
             \"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"t{i} \"}},\"finish_reason\":null}}]}}\n\n"
        ));
    }
    body.push_str("data: [DONE]\n\n");
    body.into_bytes()
}

fn sse_and_fold(c: &mut Criterion) {
    let body = sse_body();
    c.bench_function("sse_parse_1000_events_in_1400_byte_reads", |b| {
        b.iter(|| {
            let mut parser = SseParser::default();
            let mut events = 0;
            for chunk in body.chunks(1400) {
                parser.feed(chunk);
                while let Some(event) = parser.next_event().unwrap() {
                    events += black_box(event.data.len()).min(1);
                }
            }
            assert_eq!(events, 1001);
        })
    });
    let updates: Vec<ChatResponseUpdate> = (0..1000)
        .map(|i| ChatResponseUpdate {
            message_id: Some("m1".into()),
            ..ChatResponseUpdate::text(format!("t{i} "))
        })
        .collect();
    c.bench_function("fold_1000_text_updates", |b| {
        b.iter(|| {
            let mut folder = ResponseFolder::new();
            for update in &updates {
                folder.push_ref(update);
            }
            black_box(folder.finish())
        })
    });
}

#[derive(Deserialize, JsonSchema)]
struct City {
    city: String,
}

fn function_loop(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let tool = Arc::new(FunctionTool::new("get_weather", "Weather", |a: City| async move {
        Ok::<_, std::convert::Infallible>(format!("weather in {}: sunny, 21C", a.city))
    }));
    c.bench_function("agent_run_one_tool_round_on_replay", |b| {
        b.to_async(&runtime).iter_batched(
            || {
                let client = Arc::new(ReplayClient::new([
                    ChatResponse::function_calls([FunctionCall::new(
                        "c1",
                        "get_weather",
                        json!({"city": "Oslo"}),
                    )]),
                    ChatResponse::text("sunny"),
                ]));
                ChatAgent::builder(client).instructions("be brief").shared_tool(tool.clone()).build()
            },
            |agent| async move {
                let response = agent.run(&mut AgentSession::new(), "weather in Oslo?").await.unwrap();
                black_box(response)
            },
            BatchSize::SmallInput,
        )
    });
}

fn conversation() -> Vec<Message> {
    let mut messages = vec![Message::system("You are a helpful assistant.")];
    for i in 0..10 {
        messages.push(Message::user(format!("question {i}: what is the weather in city {i}?")));
        messages.push(Message::new(
            Role::Assistant,
            vec![Content::FunctionCall(FunctionCall::new(
                format!("c{i}"),
                "get_weather",
                json!({"city": i}),
            ))],
        ));
        messages.push(Message::new(
            Role::Tool,
            vec![Content::FunctionResult(FunctionResult::ok(format!("c{i}"), json!("sunny, 21C")))],
        ));
        messages.push(Message::assistant(format!("It is sunny in city {i}.")));
    }
    messages
}

fn serialization(c: &mut Criterion) {
    let messages = conversation();
    let json = serde_json::to_string(&messages).unwrap();
    c.bench_function("serialize_41_messages", |b| {
        b.iter(|| black_box(serde_json::to_string(&messages).unwrap()))
    });
    c.bench_function("deserialize_41_messages", |b| {
        b.iter(|| black_box(serde_json::from_str::<Vec<Message>>(&json).unwrap()))
    });
}

fn supersteps(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let workflow = weft_bench::w5::chain().unwrap();
    c.bench_function("workflow_chain_of_10_supersteps", |b| {
        b.to_async(&runtime).iter(|| async { black_box(workflow.run(1_i64).await.unwrap()) })
    });
}

criterion_group!(benches, sse_and_fold, function_loop, serialization, supersteps);
criterion_main!(benches);
