//! Agent, chat and function middleware: order, changing calls, short-circuits, streaming.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use weft_core::agent::{AgentResponse, AgentSession, ChatAgent};
use weft_core::middleware::{FunctionInvocation, Next, from_fn};
use weft_core::{
    AgentRunContext, ChatClient, ChatRequest, ChatResponse, FunctionCall, FunctionTool, Message,
    MiddlewareChatClient, ReplayClient, Role, ScriptedClient, ToolOutput,
};

#[derive(Deserialize, JsonSchema)]
struct City {
    city: String,
}

fn weather_tool() -> FunctionTool<City> {
    FunctionTool::new("get_weather", "Get the weather for a city", |args: City| async move {
        Ok::<_, String>(format!("weather in {}: sunny, 21C", args.city))
    })
}

type Log = Arc<Mutex<Vec<String>>>;

fn recorder(log: &Log, name: &'static str) -> impl weft_core::Middleware<AgentRunContext> {
    let log = log.clone();
    from_fn(move |context: AgentRunContext, next: Next<AgentRunContext>| {
        let log = log.clone();
        async move {
            log.lock().unwrap().push(format!("{name} before"));
            let result = next.run(context).await;
            log.lock().unwrap().push(format!("{name} after"));
            result
        }
    })
}

#[tokio::test]
async fn agent_middleware_runs_first_added_outermost_and_can_change_input() {
    let log: Log = Arc::default();
    let client = Arc::new(ReplayClient::new([ChatResponse::text("ok")]));
    let agent = ChatAgent::builder(client.clone())
        .middleware(recorder(&log, "outer"))
        .middleware(recorder(&log, "inner"))
        .middleware(from_fn(|mut context: AgentRunContext, next: Next<AgentRunContext>| async move {
            context.messages = vec![Message::user("[redacted]")];
            next.run(context).await
        }))
        .build();
    let mut session = AgentSession::new();
    agent.run(&mut session, "my password is hunter2").await.unwrap();
    assert_eq!(*log.lock().unwrap(), vec!["outer before", "inner before", "inner after", "outer after"]);
    assert_eq!(client.requests()[0].messages[0].text(), "[redacted]");
    assert_eq!(session.messages[0].text(), "[redacted]", "the session keeps what the model saw");
}

#[tokio::test]
async fn agent_middleware_can_short_circuit_streamed_or_not() {
    let client = Arc::new(ReplayClient::new([]));
    let agent = ChatAgent::builder(client.clone())
        .middleware(from_fn(|_context: AgentRunContext, _next: Next<AgentRunContext>| async move {
            Ok(AgentResponse { messages: vec![Message::assistant("cached answer")], ..Default::default() })
        }))
        .build();
    let mut session = AgentSession::new();
    assert_eq!(agent.run(&mut session, "q").await.unwrap().text(), "cached answer");
    let streamed: Vec<_> = agent.run_stream(&mut session, "q").collect().await;
    let text: String = streamed.into_iter().map(|u| u.unwrap().text_content()).collect();
    assert_eq!(text, "cached answer");
    assert!(client.requests().is_empty(), "the model must not be called");
    assert_eq!(session.messages.len(), 4);
}

#[tokio::test]
async fn function_middleware_can_change_arguments_and_results() {
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new()))
        .tool(weather_tool())
        .function_middleware(from_fn(
            |mut invocation: FunctionInvocation, next: Next<FunctionInvocation>| async move {
                invocation.call.arguments = json!({"city": "Berlin"});
                let output = next.run(invocation).await?;
                Ok(ToolOutput::value(format!("{} (checked)", output.value.as_str().unwrap_or_default())))
            },
        ))
        .build();
    let response = agent.run(&mut AgentSession::new(), "weather in Paris").await.unwrap();
    assert_eq!(response.text(), "get_weather returned: weather in Berlin: sunny, 21C (checked)");
}

#[tokio::test]
async fn function_middleware_can_refuse_a_call() {
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new()))
        .tool(weather_tool())
        .function_middleware(from_fn(
            |invocation: FunctionInvocation, _next: Next<FunctionInvocation>| async move {
                Err(weft_core::ToolError::failed(format!("policy forbids {}", invocation.call.name)))
            },
        ))
        .build();
    let response = agent.run(&mut AgentSession::new(), "weather in Paris").await.unwrap();
    assert_eq!(response.text(), "get_weather failed: policy forbids get_weather");
}

#[tokio::test]
async fn chat_middleware_sees_every_model_call_streamed_or_not() {
    let seen: Arc<Mutex<Vec<(usize, String)>>> = Arc::default();
    let middleware = {
        let seen = seen.clone();
        from_fn(move |request: ChatRequest, next: Next<ChatRequest>| {
            let seen = seen.clone();
            async move {
                let count = request.messages.len();
                let response = next.run(request).await?;
                seen.lock().unwrap().push((count, response.text_content()));
                Ok(response)
            }
        })
    };
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new()))
        .tool(weather_tool())
        .chat_middleware(middleware)
        .build();
    agent.run(&mut AgentSession::new(), "weather in Oslo").await.unwrap();
    let mut session = AgentSession::new();
    let updates: Vec<_> = agent.run_stream(&mut session, "weather in Oslo").collect().await;
    assert!(updates.iter().all(Result::is_ok));
    let seen = seen.lock().unwrap().clone();
    let expected_answer = "get_weather returned: weather in Oslo: sunny, 21C".to_string();
    assert_eq!(
        seen,
        vec![(1, String::new()), (3, expected_answer.clone()), (1, String::new()), (3, expected_answer)]
    );
}

#[tokio::test]
async fn a_middleware_client_is_a_chat_client_layer() {
    let client =
        MiddlewareChatClient::new(Arc::new(ScriptedClient::new()), Vec::new()).with(from_fn(
            |_request: ChatRequest, _next: Next<ChatRequest>| async move {
                Ok(ChatResponse::text("short circuit"))
            },
        ));
    let response =
        client.get_response(ChatRequest::new(vec![Message::user("x")], Default::default())).await.unwrap();
    assert_eq!(response.text_content(), "short circuit");
    let streamed = weft_core::collect_stream(
        client.get_streaming_response(ChatRequest::new(vec![Message::user("x")], Default::default())),
    )
    .await
    .unwrap();
    assert_eq!(streamed.text_content(), "short circuit");
    assert_eq!(streamed.messages[0].role, Role::Assistant);
    let _ = FunctionCall::new("a", "b", json!({}));
}
