//! Run budgets on the replay and scripted clients: each limit, the partial response, the session
//! after, and a budget shared by several runs.

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
    AgentError, BudgetLimits, BudgetOverrun, ChatOptions, ChatResponse, FunctionCall, FunctionTool, Message,
    ModelPrice, PriceTable, ReplayClient, Role, RunBudget, ScriptedClient, Usage,
};

#[derive(Deserialize, JsonSchema)]
struct City {
    /// The city.
    city: String,
}

/// A weather tool that counts its calls and waits `delay` before answering.
fn counted_tool(calls: Arc<AtomicUsize>, delay: Duration) -> FunctionTool<City> {
    FunctionTool::new("get_weather", "Weather for a city", move |args: City| {
        let calls = calls.clone();
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            Ok::<_, String>(format!("sunny in {}", args.city))
        }
    })
}

fn calls(ids: &[&str], usage: Usage) -> ChatResponse {
    let calls = ids.iter().map(|id| FunctionCall::new(*id, "get_weather", json!({"city": "Oslo"})));
    ChatResponse { usage: Some(usage), ..ChatResponse::function_calls(calls) }
}

fn text(answer: &str, usage: Usage) -> ChatResponse {
    ChatResponse { usage: Some(usage), ..ChatResponse::text(answer) }
}

fn agent(client: Arc<ReplayClient>, tool_calls: Arc<AtomicUsize>, limits: BudgetLimits) -> ChatAgent {
    ChatAgent::builder(client)
        .name("budgeted")
        .model("m")
        .tool(counted_tool(tool_calls, Duration::ZERO))
        .budget(limits)
        .build()
}

/// Every function call in `messages` has a result after it.
fn every_call_answered(messages: &[Message]) -> bool {
    let results: Vec<String> =
        messages.iter().flat_map(Message::function_results).map(|r| r.call_id.clone()).collect();
    messages.iter().flat_map(Message::function_calls).all(|call| results.contains(&call.call_id))
}

fn overrun_and_partial(error: AgentError) -> (BudgetOverrun, weft_core::AgentResponse) {
    match error {
        AgentError::BudgetExceeded { agent, overrun, response } => {
            assert_eq!(agent, "budgeted");
            (overrun, *response)
        }
        other => panic!("expected BudgetExceeded, got {other:?}"),
    }
}

#[tokio::test]
async fn input_tokens_stop_the_run_before_its_tool_batch_with_every_call_answered() {
    let client =
        Arc::new(ReplayClient::new([calls(&["1"], Usage::new(100, 5)), text("done", Usage::new(1, 1))]));
    let tool_calls = Arc::new(AtomicUsize::new(0));
    let agent = agent(client.clone(), tool_calls.clone(), BudgetLimits::new().max_input_tokens(100));
    let mut session = AgentSession::new();
    let error = agent.run(&mut session, "weather?").await.unwrap_err();
    assert!(error.to_string().contains("input tokens: 100 used of 100"), "{error}");
    assert_eq!(error.partial_response().unwrap().usage, Usage::new(100, 5));
    let (overrun, partial) = overrun_and_partial(error);
    assert_eq!(overrun, BudgetOverrun::InputTokens { limit: 100, used: 100 });
    assert_eq!(partial.model_calls, 1);
    let roles: Vec<Role> = partial.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, vec![Role::Assistant, Role::Tool]);
    assert!(every_call_answered(&partial.messages));
    let result = partial.messages[1].function_results().next().unwrap();
    assert!(result.error.as_deref().unwrap_or_default().contains("budget"), "{result:?}");
    assert_eq!(tool_calls.load(Ordering::SeqCst), 0, "the refused batch never ran");
    assert_eq!(client.remaining(), 1, "no model call after the limit");
    assert!(session.messages.is_empty(), "the session is left as it was");
}

#[tokio::test]
async fn output_tokens_let_the_first_batch_run_and_stop_the_second() {
    let client = Arc::new(ReplayClient::new([
        calls(&["1"], Usage::new(5, 6)),
        calls(&["2"], Usage::new(5, 6)),
        text("done", Usage::new(1, 1)),
    ]));
    let tool_calls = Arc::new(AtomicUsize::new(0));
    let agent = agent(client, tool_calls.clone(), BudgetLimits::new().max_output_tokens(10));
    let error = agent.run(&mut AgentSession::new(), "weather?").await.unwrap_err();
    let (overrun, partial) = overrun_and_partial(error);
    assert_eq!(overrun, BudgetOverrun::OutputTokens { limit: 10, used: 12 });
    assert_eq!(tool_calls.load(Ordering::SeqCst), 1);
    let roles: Vec<Role> = partial.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, vec![Role::Assistant, Role::Tool, Role::Assistant, Role::Tool]);
    assert!(every_call_answered(&partial.messages));
    assert_eq!(partial.usage, Usage::new(10, 12));
}

#[tokio::test]
async fn cost_is_priced_per_model_and_limited() {
    let client = Arc::new(ReplayClient::new([
        calls(&["1"], Usage::new(1_000, 0)),
        calls(&["2"], Usage::new(1_000, 0)),
        text("done", Usage::new(1, 1)),
    ]));
    // 1,000 input tokens at 1,000 per million cost 1.
    let prices = PriceTable::new().with("m", ModelPrice::new(1_000.0, 0.0));
    let tool_calls = Arc::new(AtomicUsize::new(0));
    let agent = agent(client, tool_calls.clone(), BudgetLimits::new().max_cost(1.5, prices));
    let error = agent.run(&mut AgentSession::new(), "weather?").await.unwrap_err();
    let (overrun, partial) = overrun_and_partial(error);
    assert_eq!(overrun, BudgetOverrun::Cost { limit: 1.5, used: 2.0 });
    assert_eq!(partial.cost, Some(2.0));
    assert_eq!(tool_calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_cost_limit_without_a_price_for_the_model_is_refused() {
    let client = Arc::new(ReplayClient::new([text("done", Usage::new(1, 1))]));
    let prices = PriceTable::new().with("other", ModelPrice::new(1.0, 1.0));
    let agent = agent(client.clone(), Arc::default(), BudgetLimits::new().max_cost(1.0, prices));
    let error = agent.run(&mut AgentSession::new(), "hi").await.unwrap_err();
    assert!(
        matches!(&error, AgentError::InvalidInput { message, .. } if message.contains("'m'")),
        "{error:?}"
    );
    assert_eq!(client.remaining(), 1);
}

#[tokio::test]
async fn a_priced_run_reports_its_cost_on_the_response() {
    let client = Arc::new(ReplayClient::new([text("done", Usage::new(500, 100))]));
    let prices = PriceTable::new().with("m", ModelPrice::new(2.0, 10.0));
    let agent = agent(client, Arc::default(), BudgetLimits::new().prices(prices));
    let response = agent.run(&mut AgentSession::new(), "hi").await.unwrap();
    let expected = (500.0 * 2.0 + 100.0 * 10.0) / 1e6;
    assert!((response.cost.unwrap() - expected).abs() < 1e-12);
}

#[tokio::test]
async fn wall_time_stops_the_run_before_the_next_model_call() {
    let client =
        Arc::new(ReplayClient::new([calls(&["1"], Usage::new(1, 1)), text("done", Usage::new(1, 1))]));
    let tool_calls = Arc::new(AtomicUsize::new(0));
    // The tool takes far longer than the limit: the check after it cannot pass.
    let agent = ChatAgent::builder(client.clone())
        .name("budgeted")
        .tool(counted_tool(tool_calls.clone(), Duration::from_millis(200)))
        .budget(BudgetLimits::new().max_wall_time(Duration::from_millis(20)))
        .build();
    let error = agent.run(&mut AgentSession::new(), "weather?").await.unwrap_err();
    let (overrun, partial) = overrun_and_partial(error);
    match overrun {
        BudgetOverrun::WallTime { limit, used } => {
            assert_eq!(limit, Duration::from_millis(20));
            assert!(used >= Duration::from_millis(200));
        }
        other => panic!("expected wall time, got {other:?}"),
    }
    assert_eq!(tool_calls.load(Ordering::SeqCst), 1);
    assert_eq!(partial.model_calls, 1);
    assert!(every_call_answered(&partial.messages));
    assert_eq!(client.remaining(), 1);
}

#[tokio::test]
async fn a_tool_batch_over_the_call_limit_is_refused_whole() {
    let client = Arc::new(ReplayClient::new([
        calls(&["1", "2", "3"], Usage::new(1, 1)),
        text("done", Usage::new(1, 1)),
    ]));
    let tool_calls = Arc::new(AtomicUsize::new(0));
    let agent = agent(client, tool_calls.clone(), BudgetLimits::new().max_tool_calls(2));
    let error = agent.run(&mut AgentSession::new(), "weather?").await.unwrap_err();
    let (overrun, partial) = overrun_and_partial(error);
    assert_eq!(overrun, BudgetOverrun::ToolCalls { limit: 2, used: 3 });
    assert_eq!(tool_calls.load(Ordering::SeqCst), 0);
    assert_eq!(partial.messages[1].function_results().count(), 3);
}

#[tokio::test]
async fn within_its_limits_a_run_is_unchanged() {
    let client =
        Arc::new(ReplayClient::new([calls(&["1", "2"], Usage::new(10, 2)), text("done", Usage::new(10, 2))]));
    let tool_calls = Arc::new(AtomicUsize::new(0));
    let limits = BudgetLimits::new()
        .max_input_tokens(100)
        .max_output_tokens(100)
        .max_tool_calls(2)
        .max_wall_time(Duration::from_secs(60));
    let agent = agent(client, tool_calls.clone(), limits);
    let mut session = AgentSession::new();
    let response = agent.run(&mut session, "weather?").await.unwrap();
    assert_eq!(response.text(), "done");
    assert_eq!(response.usage, Usage::new(20, 4));
    assert_eq!(tool_calls.load(Ordering::SeqCst), 2);
    assert_eq!(session.messages.len(), 4);
}

#[tokio::test]
async fn a_shared_budget_in_the_options_caps_several_runs_together() {
    let client = Arc::new(ReplayClient::new([
        text("one", Usage::new(1, 6)),
        text("two", Usage::new(1, 6)),
        text("three", Usage::new(1, 6)),
    ]));
    let agent = agent(client.clone(), Arc::default(), BudgetLimits::new());
    let shared = RunBudget::new(BudgetLimits::new().max_output_tokens(10));
    let options = ChatOptions { budget: Some(shared.clone()), ..ChatOptions::default() };
    let mut session = AgentSession::new();
    agent.run_with(&mut session, "1", options.clone()).await.unwrap();
    // The second run starts under the limit (6 of 10) and ends over it (12).
    agent.run_with(&mut session, "2", options.clone()).await.unwrap();
    let error = agent.run_with(&mut session, "3", options).await.unwrap_err();
    let (overrun, partial) = overrun_and_partial(error);
    assert_eq!(overrun, BudgetOverrun::OutputTokens { limit: 10, used: 12 });
    assert!(partial.messages.is_empty());
    assert_eq!(shared.spent().usage, Usage::new(2, 12));
    assert_eq!(client.remaining(), 1);
    assert_eq!(session.messages.len(), 4, "the refused run left the session as it was");
    // The budget is not sent to the provider.
    assert!(client.requests().iter().all(|request| request.options.budget.is_none()));
}

#[tokio::test]
async fn the_session_with_the_partial_response_appended_goes_on_without_a_budget() {
    let client = Arc::new(ReplayClient::new([
        calls(&["1", "2"], Usage::new(1, 1)),
        text("sorry, out of budget earlier", Usage::new(1, 1)),
    ]));
    let limited = agent(client.clone(), Arc::default(), BudgetLimits::new().max_tool_calls(1));
    let mut session = AgentSession::new();
    let error = limited.run(&mut session, "weather?").await.unwrap_err();
    let partial = error.partial_response().unwrap().clone();
    session.messages.push(Message::user("weather?"));
    session.messages.extend(partial.messages);
    assert!(every_call_answered(&session.messages));
    let free = ChatAgent::builder(client.clone()).name("budgeted").build();
    let response = free.run(&mut session, "go on").await.unwrap();
    assert_eq!(response.text(), "sorry, out of budget earlier");
    let sent = &client.requests()[1].messages;
    assert!(every_call_answered(sent));
}

#[tokio::test]
async fn a_streamed_run_ends_with_the_budget_error_and_leaves_the_session() {
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new()))
        .name("budgeted")
        .tool(counted_tool(Arc::default(), Duration::ZERO))
        .budget(BudgetLimits::new().max_tool_calls(0))
        .build();
    let mut session = AgentSession::new();
    let mut stream = agent.run_stream(&mut session, "weather in Paris?");
    let mut last = None;
    let mut refusals = Vec::new();
    while let Some(item) = stream.next().await {
        if let Ok(update) = &item {
            refusals.extend(update.contents.iter().filter_map(|c| match c {
                weft_core::Content::FunctionResult(result) => Some(result.clone()),
                _ => None,
            }));
        }
        last = Some(item);
    }
    drop(stream);
    let error = last.unwrap().unwrap_err();
    let AgentError::BudgetExceeded {
        overrun: BudgetOverrun::ToolCalls { limit: 0, used: 1 }, response, ..
    } = error
    else {
        panic!("expected the tool-call budget, got {error:?}");
    };
    // The stream showed the refused call's result, as the partial response holds it.
    let kept: Vec<_> = response.messages.iter().flat_map(Message::function_results).cloned().collect();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert_eq!(refusals, kept);
    assert!(refusals[0].is_error(), "{refusals:?}");
    assert!(session.messages.is_empty());
}
