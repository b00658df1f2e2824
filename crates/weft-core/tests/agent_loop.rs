//! The function-invocation loop on the scripted and replay clients.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use weft_core::agent::{AgentSession, ChatAgent};
use weft_core::{
    AgentError, ApprovalMode, ChatOptions, ChatResponse, Content, FunctionCall, FunctionTool, Message,
    ReplayClient, ResponseFormat, Role, ScriptedClient, Usage,
};

#[derive(Deserialize, JsonSchema)]
struct City {
    /// The city.
    city: String,
}

fn weather_tool() -> FunctionTool<City> {
    FunctionTool::new("get_weather", "Get the weather for a city", |args: City| async move {
        Ok::<_, String>(format!("weather in {}: sunny, 21C", args.city))
    })
}

fn call(id: &str, name: &str, arguments: serde_json::Value) -> FunctionCall {
    FunctionCall::new(id, name, arguments)
}

fn last_tool_results(client: &ReplayClient, request_index: usize) -> Vec<weft_core::FunctionResult> {
    let requests = client.requests();
    let tool_message = requests[request_index].messages.iter().rev().find(|m| m.role == Role::Tool).cloned();
    tool_message.map(|m| m.function_results().cloned().collect()).unwrap_or_default()
}

#[tokio::test]
async fn scripted_tool_round_trip_keeps_history() {
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new()))
        .name("weather")
        .instructions("You answer weather questions.")
        .tool(weather_tool())
        .build();
    let mut session = AgentSession::new();
    let response = agent.run(&mut session, "What's the weather in Paris?").await.unwrap();
    assert_eq!(response.text(), "get_weather returned: weather in Paris: sunny, 21C");
    assert_eq!(response.model_calls, 2);
    let roles: Vec<Role> = session.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, vec![Role::User, Role::Assistant, Role::Tool, Role::Assistant]);
    assert_eq!(session.messages[3].author_name.as_deref(), Some("weather"));
}

#[tokio::test]
async fn concurrent_tool_calls_run_at_the_same_time() {
    // Each call waits for the other at a barrier: run one after the other, they would never finish.
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let tool = {
        let barrier = barrier.clone();
        FunctionTool::new("meet", "Wait for the other call", move |args: City| {
            let barrier = barrier.clone();
            async move {
                barrier.wait().await;
                Ok::<_, String>(args.city)
            }
        })
    };
    let client = Arc::new(ReplayClient::new([
        ChatResponse::function_calls([
            call("a", "meet", json!({"city": "A"})),
            call("b", "meet", json!({"city": "B"})),
        ]),
        ChatResponse::text("done"),
    ]));
    let agent = ChatAgent::builder(client.clone()).tool(tool).build();
    let mut session = AgentSession::new();
    let response = tokio::time::timeout(Duration::from_secs(5), agent.run(&mut session, "go"))
        .await
        .expect("calls ran one by one");
    assert_eq!(response.unwrap().text(), "done");
    let results = last_tool_results(&client, 1);
    assert_eq!(results.iter().map(|r| r.result.clone()).collect::<Vec<_>>(), vec![json!("A"), json!("B")]);
}

#[tokio::test]
async fn tool_errors_invalid_arguments_and_unknown_tools_go_back_to_the_model() {
    let failing = FunctionTool::new("explode", "Always fails", |_: City| async move {
        Err::<String, _>("the reactor is offline")
    });
    let client = Arc::new(ReplayClient::new([
        ChatResponse::function_calls([
            call("1", "explode", json!({"city": "x"})),
            call("2", "get_weather", json!({"city": 5})),
            call("3", "teleport", json!({})),
            call("4", "get_weather", json!("not json {")),
        ]),
        ChatResponse::text("sorry"),
    ]));
    let agent = ChatAgent::builder(client.clone()).tool(failing).tool(weather_tool()).build();
    let response = agent.run(&mut AgentSession::new(), "go").await.unwrap();
    assert_eq!(response.text(), "sorry");
    let results = last_tool_results(&client, 1);
    assert_eq!(results.len(), 4);
    assert_eq!(results[0].error.as_deref(), Some("the reactor is offline"));
    let invalid = results[1].error.as_deref().unwrap();
    assert!(invalid.contains("invalid arguments") && invalid.contains("/city"), "{invalid}");
    let unknown = results[2].error.as_deref().unwrap();
    assert!(unknown.contains("no tool named 'teleport'") && unknown.contains("get_weather"), "{unknown}");
    assert!(results[3].error.as_deref().unwrap().contains("not a JSON object"));
    // The model sees the errors as text.
    assert_eq!(results[0].to_model_text(), "Error: the reactor is offline");
}

#[tokio::test]
async fn max_iterations_is_a_clear_error_and_leaves_the_session_alone() {
    let looping = (0..10).map(|i| {
        ChatResponse::function_calls([call(&i.to_string(), "get_weather", json!({"city": "Rome"}))])
    });
    let client = Arc::new(ReplayClient::new(looping));
    let agent =
        ChatAgent::builder(client.clone()).name("looper").tool(weather_tool()).max_iterations(3).build();
    let mut session = AgentSession::new();
    let error = agent.run(&mut session, "loop").await.unwrap_err();
    assert!(matches!(error, AgentError::MaxIterations { limit: 3, .. }), "{error:?}");
    assert!(error.to_string().contains("after 3 model calls"), "{error}");
    assert_eq!(client.requests().len(), 3);
    assert!(session.messages.is_empty());
}

#[tokio::test]
async fn approval_request_ends_the_run_and_the_answer_resumes_it_after_a_reload() {
    let runs = Arc::new(AtomicUsize::new(0));
    let tool = {
        let runs = runs.clone();
        FunctionTool::new("delete_city", "Deletes a city", move |args: City| {
            runs.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, String>(format!("deleted {}", args.city)) }
        })
        .with_approval(ApprovalMode::Always)
    };
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new())).tool(tool).build();
    let mut session = AgentSession::new();
    let first = agent.run(&mut session, "delete Paris").await.unwrap();
    let requests = first.approval_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].call.arguments, json!({"city": "Paris"}));
    assert_eq!(runs.load(Ordering::SeqCst), 0, "the tool must not run before approval");

    // The caller answers later, from a saved session.
    let mut session = AgentSession::from_json(&session.to_json().unwrap()).unwrap();
    assert_eq!(session.pending_approvals().len(), 1);
    let second = agent.run(&mut session, requests[0].approve()).await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(second.text(), "delete_city returned: deleted Paris");
    // History: every call has its result.
    let calls: Vec<_> =
        session.messages.iter().flat_map(Message::function_calls).map(|c| c.call_id.clone()).collect();
    let results: Vec<_> =
        session.messages.iter().flat_map(Message::function_results).map(|r| r.call_id.clone()).collect();
    assert_eq!(calls, results);
}

#[tokio::test]
async fn a_rejected_call_reports_not_approved_and_does_not_run() {
    let runs = Arc::new(AtomicUsize::new(0));
    let tool = {
        let runs = runs.clone();
        FunctionTool::new("delete_city", "Deletes a city", move |_: City| {
            runs.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, String>("deleted".to_string()) }
        })
        .with_approval(ApprovalMode::when(|call| call.arguments["city"] == "Paris"))
    };
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new())).tool(tool).build();
    let mut session = AgentSession::new();
    let first = agent.run(&mut session, "delete Paris").await.unwrap();
    let request = first.approval_requests().pop().unwrap();
    let second = agent.run(&mut session, request.reject()).await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    assert!(second.text().contains("did not approve"), "{}", second.text());
    // A predicate that says no lets the call run without asking.
    let third = agent.run(&mut session, "delete Rome").await.unwrap();
    assert!(third.approval_requests().is_empty());
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_answer_to_an_unknown_approval_is_invalid_input() {
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new())).build();
    let bogus = weft_core::ApprovalRequest { id: "nope".into(), call: call("x", "y", json!({})) };
    let error = agent.run(&mut AgentSession::new(), bogus.approve()).await.unwrap_err();
    assert!(matches!(error, AgentError::InvalidInput { .. }), "{error}");
}

#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
struct Forecast {
    city: String,
    temperature_c: i32,
    sunny: bool,
}

#[tokio::test]
async fn structured_output_asks_for_a_strict_schema_and_parses() {
    let typed = ChatAgent::builder(Arc::new(ScriptedClient::new())).build();
    let forecast = typed
        .run_typed::<Forecast>(&mut AgentSession::new(), "Forecast for Oslo: 12 degrees, sunny")
        .await
        .unwrap();
    assert_eq!(forecast.value, Forecast { city: "Oslo".into(), temperature_c: 12, sunny: true });

    let client = Arc::new(ReplayClient::new([ChatResponse::text(
        "```json\n{\"city\":\"Lima\",\"temperature_c\":20,\"sunny\":false}\n```",
    )]));
    let agent = ChatAgent::builder(client.clone()).build();
    let forecast = agent.run_typed::<Forecast>(&mut AgentSession::new(), "Lima?").await.unwrap();
    assert_eq!(forecast.value.city, "Lima");
    let format = client.requests()[0].options.response_format.clone().unwrap();
    let ResponseFormat::JsonSchema { name, schema, strict } = format else { panic!("not a json schema") };
    assert_eq!(name, "Forecast");
    assert!(strict);
    assert_eq!(schema["additionalProperties"], json!(false));

    let bad = ChatAgent::builder(Arc::new(ReplayClient::new([ChatResponse::text("not json")]))).build();
    let error = bad.run_typed::<Forecast>(&mut AgentSession::new(), "?").await.unwrap_err();
    assert!(matches!(error, AgentError::StructuredOutput { .. }), "{error}");
}

#[tokio::test]
async fn sessions_round_trip_through_json_and_resume() {
    let client = Arc::new(ReplayClient::new([ChatResponse::text("first"), ChatResponse::text("second")]));
    let agent = ChatAgent::builder(client.clone()).instructions("be brief").build();
    let mut session = AgentSession::new();
    agent.run(&mut session, "one").await.unwrap();
    let json = session.to_json().unwrap();
    let mut resumed = AgentSession::from_json(&json).unwrap();
    assert_eq!(resumed, session);
    agent.run(&mut resumed, "two").await.unwrap();
    let sent: Vec<(Role, String)> =
        client.requests()[1].messages.iter().map(|m| (m.role, m.text())).collect();
    assert_eq!(
        sent,
        vec![
            (Role::System, "be brief".into()),
            (Role::User, "one".into()),
            (Role::Assistant, "first".into()),
            (Role::User, "two".into()),
        ]
    );
    let future_version = json.replace("\"format_version\": 1", "\"format_version\": 99");
    assert!(AgentSession::from_json(&future_version).unwrap_err().to_string().contains("99"));
}

#[tokio::test]
async fn usage_is_summed_over_every_model_call() {
    let with_usage = |response: ChatResponse, usage| ChatResponse { usage: Some(usage), ..response };
    let client = Arc::new(ReplayClient::new([
        with_usage(
            ChatResponse::function_calls([call("1", "get_weather", json!({"city": "Oslo"}))]),
            Usage::new(10, 2),
        ),
        with_usage(ChatResponse::text("ok"), Usage::new(20, 3)),
    ]));
    let agent = ChatAgent::builder(client).tool(weather_tool()).build();
    let response = agent.run(&mut AgentSession::new(), "go").await.unwrap();
    assert_eq!(response.usage, Usage::new(30, 5));
}

#[tokio::test]
async fn streaming_yields_deltas_calls_and_results_then_updates_the_session() {
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new())).tool(weather_tool()).build();
    let mut session = AgentSession::new();
    let updates: Vec<_> = agent.run_stream(&mut session, "weather in Paris please").collect().await;
    let updates: Vec<_> = updates.into_iter().map(Result::unwrap).collect();
    let calls =
        updates.iter().flat_map(|u| &u.contents).filter(|c| matches!(c, Content::FunctionCall(_))).count();
    let results =
        updates.iter().flat_map(|u| &u.contents).filter(|c| matches!(c, Content::FunctionResult(_))).count();
    let text_updates =
        updates.iter().filter(|u| u.role == Some(Role::Assistant) && !u.text_content().is_empty()).count();
    let text: String =
        updates.iter().filter(|u| u.role == Some(Role::Assistant)).map(|u| u.text_content()).collect();
    assert_eq!((calls, results), (1, 1));
    assert!(text_updates > 3, "text should arrive in deltas, got {text_updates}");
    assert_eq!(text, "get_weather returned: weather in Paris: sunny, 21C");
    assert_eq!(session.messages.len(), 4);
    assert_eq!(session.messages[3].text(), text);
}

#[tokio::test]
async fn streamed_errors_end_the_stream_with_a_typed_error() {
    let client = Arc::new(ReplayClient::with_results([Err(weft_core::ChatError::new(
        weft_core::ChatErrorKind::RateLimit,
        "slow down",
    ))]));
    let agent = ChatAgent::builder(client).build();
    let mut session = AgentSession::new();
    let updates: Vec<_> = agent.run_stream(&mut session, "hi").collect().await;
    let error = updates.into_iter().find_map(Result::err).unwrap();
    assert!(error.as_chat_error().unwrap().is_rate_limit());
    assert!(session.messages.is_empty());
}

struct DropFlag(Arc<AtomicUsize>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn dropping_a_stream_midway_cancels_the_tool_and_leaves_no_task() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(tokio::sync::Notify::new());
    let tool = {
        let dropped = dropped.clone();
        let started = started.clone();
        FunctionTool::new("get_weather", "Get the weather, slowly", move |_: City| {
            let guard = DropFlag(dropped.clone());
            let started = started.clone();
            async move {
                let _guard = guard;
                started.notify_one();
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok::<_, String>("never".to_string())
            }
        })
    };
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new())).tool(tool).build();
    let mut session = AgentSession::new();
    {
        let mut stream = agent.run_stream(&mut session, "weather in Paris");
        // Drive the stream until the tool runs, then drop it.
        let poll_until_started = async {
            loop {
                tokio::select! {
                    _ = started.notified() => break,
                    item = stream.next() => { if item.is_none() { panic!("stream ended early"); } }
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(5), poll_until_started).await.unwrap();
    }
    assert_eq!(dropped.load(Ordering::SeqCst), 1, "the tool's future must be dropped with the stream");
    assert_eq!(tokio::runtime::Handle::current().metrics().num_alive_tasks(), 0);
    assert!(session.messages.is_empty(), "a cancelled run leaves the session as it was");
}

#[tokio::test]
async fn run_options_layer_over_agent_defaults() {
    let client = Arc::new(ReplayClient::new([ChatResponse::text("ok")]));
    let agent = ChatAgent::builder(client.clone())
        .options(ChatOptions {
            temperature: Some(0.5),
            max_tokens: Some(100),
            ..ChatOptions::with_model("m1")
        })
        .tool(weather_tool())
        .build();
    let run_options = ChatOptions { temperature: Some(0.1), seed: Some(7), ..Default::default() };
    agent.run_with(&mut AgentSession::new(), "hi", run_options).await.unwrap();
    let options = &client.requests()[0].options;
    assert_eq!(options.model.as_deref(), Some("m1"));
    assert_eq!(options.temperature, Some(0.1));
    assert_eq!(options.max_tokens, Some(100));
    assert_eq!(options.seed, Some(7));
    assert_eq!(options.tools.len(), 1);
    assert_eq!(options.tools[0].name, "get_weather");
    assert_eq!(options.tools[0].parameters["required"], json!(["city"]));
}

#[tokio::test]
async fn a_call_to_a_declared_only_tool_ends_the_run_with_the_call() {
    let client = Arc::new(ReplayClient::new([
        ChatResponse::function_calls([call("h1", "transfer_to_billing", json!({}))]),
        ChatResponse::text("never asked"),
    ]));
    let agent = ChatAgent::builder(client.clone()).tool(weather_tool()).build();
    let declared = weft_core::ToolDefinition::new(
        "transfer_to_billing",
        "Hand over to billing",
        json!({"type": "object", "properties": {}}),
    );
    let options = weft_core::ChatOptions { tools: vec![declared], ..Default::default() };
    let mut session = AgentSession::new();
    let response = agent.run_with(&mut session, "I was charged twice", options).await.unwrap();
    assert_eq!(response.model_calls, 1, "the loop stops at the declared call");
    assert_eq!(client.remaining(), 1);
    let calls: Vec<&str> =
        response.messages.iter().flat_map(|m| m.function_calls()).map(|c| c.name.as_str()).collect();
    assert_eq!(calls, vec!["transfer_to_billing"]);
    assert!(response.messages.iter().all(|m| m.function_results().next().is_none()), "nothing was invoked");
    // Both the agent's tool and the declaration were offered.
    let offered: Vec<String> = client.requests()[0].options.tools.iter().map(|t| t.name.clone()).collect();
    assert!(
        offered.contains(&"transfer_to_billing".to_string()) && offered.contains(&"get_weather".to_string()),
        "{offered:?}"
    );
}

/// Every function call in `messages` has a result, and every result a call, each once.
fn assert_no_orphans(messages: &[Message]) {
    let mut calls: Vec<String> =
        messages.iter().flat_map(Message::function_calls).map(|c| c.call_id.clone()).collect();
    let mut results: Vec<String> =
        messages.iter().flat_map(Message::function_results).map(|r| r.call_id.clone()).collect();
    calls.sort();
    results.sort();
    assert_eq!(calls, results, "calls and results do not match in {messages:#?}");
}

fn billing_options() -> ChatOptions {
    let declared = weft_core::ToolDefinition::new(
        "transfer_to_billing",
        "Hand over to billing",
        json!({"type": "object", "properties": {}}),
    );
    ChatOptions { tools: vec![declared], ..Default::default() }
}

#[tokio::test]
async fn a_turn_mixing_declared_and_real_tools_runs_the_real_ones_and_leaves_the_declared_to_the_caller() {
    for streaming in [false, true] {
        let client = Arc::new(ReplayClient::new([
            ChatResponse::function_calls([
                call("w1", "get_weather", json!({"city": "Paris"})),
                call("h1", "transfer_to_billing", json!({})),
                call("w2", "get_weather", json!({"city": "Rome"})),
            ]),
            ChatResponse::text("billing says hi"),
        ]));
        let agent = ChatAgent::builder(client.clone()).tool(weather_tool()).build();
        let mut session = AgentSession::new();
        let response = if streaming {
            let mut stream = agent.run_stream_with(&mut session, "charged twice", billing_options());
            let mut tool_updates = 0;
            while let Some(update) = stream.next().await {
                tool_updates += usize::from(update.unwrap().role == Some(Role::Tool));
            }
            drop(stream);
            assert_eq!(tool_updates, 1, "the real tools' results are streamed");
            None
        } else {
            Some(agent.run_with(&mut session, "charged twice", billing_options()).await.unwrap())
        };
        assert_eq!(client.requests().len(), 1, "the run ends after the turn");
        if let Some(response) = &response {
            assert_eq!(response.model_calls, 1);
            assert_eq!(response.messages.len(), 2, "{:?}", response.messages);
        }
        // The agent's calls have their results, in order; the declared one is the caller's.
        let roles: Vec<Role> = session.messages.iter().map(|m| m.role).collect();
        assert_eq!(roles, [Role::User, Role::Assistant, Role::Tool]);
        let results: Vec<(String, String)> = session.messages[2]
            .function_results()
            .map(|r| (r.call_id.clone(), r.result.as_str().unwrap_or_default().to_string()))
            .collect();
        assert_eq!(
            results,
            [
                ("w1".to_string(), "weather in Paris: sunny, 21C".to_string()),
                ("w2".to_string(), "weather in Rome: sunny, 21C".to_string())
            ]
        );

        // The caller answers its call; the next request has no call without a result.
        let answer = Message::new(
            Role::Tool,
            vec![Content::FunctionResult(weft_core::FunctionResult::ok("h1", json!("billing took over")))],
        );
        let next = agent.run_with(&mut session, answer, billing_options()).await.unwrap();
        assert_eq!(next.text(), "billing says hi");
        assert_no_orphans(&client.requests()[1].messages);
        assert_no_orphans(&session.messages);
    }
}

#[tokio::test]
async fn a_held_turn_with_a_declared_call_resumes_the_approved_tools_then_waits_for_the_caller() {
    let runs = Arc::new(AtomicUsize::new(0));
    let tool = {
        let runs = runs.clone();
        FunctionTool::new("delete_city", "Deletes a city", move |args: City| {
            runs.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, String>(format!("deleted {}", args.city)) }
        })
        .with_approval(ApprovalMode::Always)
    };
    let client = Arc::new(ReplayClient::new([
        ChatResponse::function_calls([
            call("d1", "delete_city", json!({"city": "Paris"})),
            call("h1", "transfer_to_billing", json!({})),
        ]),
        ChatResponse::text("done"),
    ]));
    let agent = ChatAgent::builder(client.clone()).tool(tool).build();
    let mut session = AgentSession::new();
    let first = agent.run_with(&mut session, "delete Paris", billing_options()).await.unwrap();
    let request = first.approval_requests().pop().expect("an approval request");
    assert_eq!(runs.load(Ordering::SeqCst), 0);

    // Approved: the tool runs; the declared call is still the caller's, so the model is not asked.
    let second = agent.run_with(&mut session, request.approve(), billing_options()).await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(second.model_calls, 0);
    assert_eq!(client.requests().len(), 1);
    let results: Vec<&str> =
        second.messages.iter().flat_map(Message::function_results).map(|r| r.call_id.as_str()).collect();
    assert_eq!(results, ["d1"]);

    let answer = Message::new(
        Role::Tool,
        vec![Content::FunctionResult(weft_core::FunctionResult::ok("h1", json!("ok")))],
    );
    let third = agent.run_with(&mut session, answer, billing_options()).await.unwrap();
    assert_eq!(third.text(), "done");
    assert_no_orphans(&client.requests()[1].messages);
}

#[tokio::test]
async fn approval_answers_and_the_callers_results_can_come_in_one_run() {
    let tool = FunctionTool::new("delete_city", "Deletes a city", |args: City| async move {
        Ok::<_, String>(format!("deleted {}", args.city))
    })
    .with_approval(ApprovalMode::Always);
    let client = Arc::new(ReplayClient::new([
        ChatResponse::function_calls([
            call("d1", "delete_city", json!({"city": "Paris"})),
            call("h1", "transfer_to_billing", json!({})),
        ]),
        ChatResponse::text("done"),
    ]));
    let agent = ChatAgent::builder(client.clone()).tool(tool).build();
    let mut session = AgentSession::new();
    let first = agent.run_with(&mut session, "delete Paris", billing_options()).await.unwrap();
    let request = first.approval_requests().pop().unwrap();
    let mut input = vec![Message::new(
        Role::Tool,
        vec![Content::FunctionResult(weft_core::FunctionResult::ok("h1", json!("ok")))],
    )];
    input.push(request.reject());
    let second = agent.run_with(&mut session, input, billing_options()).await.unwrap();
    assert_eq!(second.text(), "done");
    let sent = &client.requests()[1].messages;
    assert_no_orphans(sent);
    let rejected = sent.iter().flat_map(Message::function_results).find(|r| r.call_id == "d1").unwrap();
    assert!(rejected.error.as_deref().unwrap_or_default().contains("did not approve"), "{rejected:?}");
}

#[tokio::test]
async fn max_iterations_carries_what_the_run_did() {
    let looping = (0..10).map(|i| {
        let mut response =
            ChatResponse::function_calls([call(&format!("c{i}"), "get_weather", json!({"city": "Rome"}))]);
        response.usage = Some(Usage::new(10, 2));
        response
    });
    let client = Arc::new(ReplayClient::new(looping));
    let agent = ChatAgent::builder(client.clone()).tool(weather_tool()).max_iterations(3).build();
    let mut session = AgentSession::new();
    let error = agent.run(&mut session, "loop").await.unwrap_err();
    let partial = error.partial_response().expect("the partial response");
    assert!(matches!(&error, AgentError::MaxIterations { response, .. } if **response == *partial));
    assert_eq!(partial.model_calls, 3);
    assert_eq!(partial.usage, Usage::new(30, 6));
    let roles: Vec<Role> = partial.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [Role::Assistant, Role::Tool, Role::Assistant, Role::Tool, Role::Assistant, Role::Tool]
    );
    assert_no_orphans(&partial.messages);
    assert!(session.messages.is_empty(), "the session is left as it was");
}

#[tokio::test]
async fn the_scripted_model_refuses_a_hosted_tool_naming_it() {
    use weft_core::{
        ChatClient, ChatOptions, ChatRequest, HostedTool, Message, hosted::UNSUPPORTED_HOSTED_TOOL,
    };
    let options = ChatOptions {
        hosted_tools: vec![HostedTool::CodeInterpreter { file_ids: vec![] }],
        ..ChatOptions::default()
    };
    let request = ChatRequest::new(vec![Message::user("hi")], options.clone());
    let client = ScriptedClient::new();
    let error = client.get_response(request.clone()).await.unwrap_err();
    assert_eq!(error.code(), Some(UNSUPPORTED_HOSTED_TOOL));
    assert!(error.message().contains("`code_interpreter`") && error.message().contains("`scripted`"));
    let streamed: Vec<_> = client.get_streaming_response(request).collect().await;
    assert!(matches!(&streamed[..], [Err(e)] if e.code() == Some(UNSUPPORTED_HOSTED_TOOL)));
    // Without it, the same request is answered.
    assert!(
        client
            .get_response(ChatRequest::new(vec![Message::user("hi")], ChatOptions::default()))
            .await
            .is_ok()
    );
}

#[test]
fn an_agent_lists_the_tools_it_offers_by_name() {
    let failing =
        FunctionTool::new("explode", "Always fails", |_: City| async move { Err::<String, _>("boom") });
    let agent = ChatAgent::builder(Arc::new(ReplayClient::new([])))
        .name("helper")
        .tool(weather_tool())
        .tool(failing)
        .build();
    let tools = weft_core::Agent::tool_definitions(&agent);
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["explode", "get_weather"]);
    assert_eq!(tools[1].description, "Get the weather for a city");
    assert_eq!(tools[1].parameters["properties"]["city"]["type"], "string", "{}", tools[1].parameters);
}

#[tokio::test]
async fn tools_are_offered_in_the_order_they_were_given_on_every_request() {
    let names = ["zeta", "alpha", "mid", "beta", "omega", "gamma", "delta", "kappa"];
    let responses = (0..3).map(|i| ChatResponse::text(format!("answer {i}")));
    let client = Arc::new(ReplayClient::new(responses));
    let mut builder = ChatAgent::builder(client.clone());
    for name in names {
        builder = builder
            .tool(FunctionTool::new(name, "A tool", |args: City| async move { Ok::<_, String>(args.city) }));
    }
    // A later tool of an earlier name replaces it in its place.
    builder = builder.tool(FunctionTool::new("mid", "The replacement", |args: City| async move {
        Ok::<_, String>(args.city)
    }));
    let agent = builder.build();
    for _ in 0..3 {
        agent.run(&mut AgentSession::new(), "hi").await.unwrap();
    }
    for request in client.requests() {
        let offered: Vec<&str> = request.options.tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(offered, names, "the same order on every request");
        assert_eq!(request.options.tools[2].description, "The replacement");
    }
}
