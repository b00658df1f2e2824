//! Compaction: where a history may be cut, the strategies, and a 1,000-turn conversation whose
//! requests stay bounded and flat.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common_history;

use std::sync::Arc;

use async_trait::async_trait;
use common_history::Recording;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use weft_core::agent::ChatAgent;
use weft_core::compaction::{
    Compacted, CompactionContext, CompactionError, CompactionStrategy, KeepLastTurns, SUMMARY_PREFIX,
    Summarize, TokenBudget, turn_starts,
};
use weft_core::history::{HistoryStore, HistoryWindow, MemoryHistoryStore};
use weft_core::{
    AgentError, ApprovalMode, ApprovalRequest, Content, FunctionCall, FunctionResult, FunctionTool, Message,
    Role, ScriptedClient,
};

fn call(id: &str) -> Message {
    Message::new(Role::Assistant, vec![Content::FunctionCall(FunctionCall::new(id, "f", json!({})))])
}

fn result(id: &str) -> Message {
    Message::new(Role::Tool, vec![Content::FunctionResult(FunctionResult::ok(id, json!("ok")))])
}

fn context(input: &[Message]) -> CompactionContext<'_> {
    CompactionContext { agent_name: "a", model: None, instructions: None, input }
}

#[test]
fn a_history_is_cut_only_at_a_user_message_that_no_call_or_approval_spans() {
    let request = ApprovalRequest { id: "r1".into(), call: FunctionCall::new("c9", "f", json!({})) };
    let history = vec![
        Message::user("one"),             // 0: a turn
        call("c1"),                       // 1
        Message::user("an interjection"), // 2: inside c1's span, not a cut
        result("c1"),                     // 3
        Message::assistant("done"),       // 4
        Message::user("two"),             // 5: a turn
        Message::new(Role::Assistant, vec![Content::ApprovalRequest(request.clone())]), // 6
        request.approve(),                // 7: only answers an approval: not a turn
        Message::user("three"),           // 8: a turn
    ];
    assert_eq!(turn_starts(&history), vec![0, 5, 8]);
    // A window that begins inside c1's span: the interjection is no turn, its result has no call.
    assert_eq!(turn_starts(&history[2..]), vec![3, 6]);
}

#[tokio::test]
async fn keep_last_turns_keeps_whole_turns() {
    let mut history = Vec::new();
    for turn in 0..5 {
        history.push(Message::user(format!("q{turn}")));
        history.push(call(&format!("c{turn}")));
        history.push(result(&format!("c{turn}")));
        history.push(Message::assistant(format!("a{turn}")));
    }
    let compacted = KeepLastTurns::new(2).compact(&history, context(&[])).await.unwrap();
    assert_eq!(compacted, Compacted { summary: None, keep_from: 12 });
    let kept = compacted.apply(history.clone());
    assert_eq!(kept[0].text(), "q3");
    assert_eq!(kept.len(), 8);
    let unchanged = KeepLastTurns::new(5).compact(&history, context(&[])).await.unwrap();
    assert!(unchanged.is_unchanged());
}

#[tokio::test]
async fn a_token_budget_keeps_the_newest_turns_that_fit_and_always_the_last_one() {
    // Each turn: a 400-byte question (100 tokens + 4) and a short answer (1 token + 4).
    let history: Vec<Message> = (0..10)
        .flat_map(|turn| [Message::user(format!("{turn}").repeat(400)), Message::assistant("ok")])
        .collect();
    let per_turn = 104 + 5;
    let input = [Message::user("next")]; // 1 + 4 tokens
    let budget = TokenBudget::new(3 * per_turn + 5);
    let compacted = budget.compact(&history, context(&input)).await.unwrap();
    assert_eq!(compacted.keep_from, 14, "the last 3 turns fit");
    let tight = TokenBudget::new(10).compact(&history, context(&input)).await.unwrap();
    assert_eq!(tight.keep_from, 18, "the newest turn stays even when over");
    let roomy = TokenBudget::new(100_000).compact(&history, context(&input)).await.unwrap();
    assert!(roomy.is_unchanged());
}

/// A summarizing model that answers with a fixed summary and counts its calls.
fn summarizer(text: &str) -> Arc<Recording> {
    Recording::over(Arc::new(weft_core::replay::ReplayClient::new(
        (0..100).map(|_| weft_core::ChatResponse::text(text)),
    )))
}

#[tokio::test]
async fn summarize_replaces_older_turns_by_one_capped_summary_only_past_its_threshold() {
    let model = summarizer(&"s".repeat(500));
    let strategy = Summarize::new(model.clone()).keep_last_turns(2).max_turns(4).max_summary_chars(100);
    let turns = |n: usize| -> Vec<Message> {
        (0..n).flat_map(|t| [Message::user(format!("q{t}")), Message::assistant(format!("a{t}"))]).collect()
    };
    assert!(strategy.compact(&turns(4), context(&[])).await.unwrap().is_unchanged());
    assert_eq!(model.calls(), 0, "no model call under the threshold");

    let history = turns(5);
    let compacted = strategy.compact(&history, context(&[])).await.unwrap();
    assert_eq!(model.calls(), 1);
    assert_eq!(compacted.keep_from, 6);
    let summary = compacted.summary.clone().unwrap();
    assert_eq!(summary.role, Role::System);
    assert_eq!(summary.text(), format!("{SUMMARY_PREFIX}{}", "s".repeat(100)), "capped");
    let sent = model.last_request();
    assert!(sent[1].text().contains("user: q0") && sent[1].text().contains("assistant: a2"), "{sent:#?}");
    assert!(!sent[1].text().contains("q3"), "the kept turns are not summarized");

    // The next summary covers the previous one.
    let mut next = compacted.apply(history);
    next.extend(turns(8)[6..].iter().cloned());
    next.extend([Message::user("q8"), Message::assistant("a8")]);
    strategy.compact(&next, context(&[])).await.unwrap();
    assert!(model.last_request()[1].text().contains(SUMMARY_PREFIX));
}

struct BadCut;

#[async_trait]
impl CompactionStrategy for BadCut {
    async fn compact(&self, _: &[Message], _: CompactionContext<'_>) -> Result<Compacted, CompactionError> {
        Ok(Compacted { summary: None, keep_from: 1 })
    }
}

#[tokio::test]
async fn a_cut_inside_a_turn_is_refused_and_the_session_is_kept() {
    let agent = ChatAgent::builder(Recording::scripted()).compaction(BadCut).build();
    let mut session = agent.new_session();
    session.messages = vec![Message::user("q"), Message::assistant("a")];
    let error = agent.run(&mut session, "next").await.unwrap_err();
    assert!(
        matches!(error, AgentError::Compaction { source: CompactionError::InvalidCut { keep_from: 1 }, .. }),
        "{error}"
    );
    assert_eq!(session.messages.len(), 2);
}

#[derive(Deserialize, JsonSchema)]
struct City {
    /// The city.
    city: String,
}

fn weather() -> FunctionTool<City> {
    FunctionTool::new("get_weather", "Get the weather for a city", |args: City| async move {
        Ok::<_, String>(format!("weather in {}: sunny, 21C", args.city))
    })
}

#[tokio::test]
async fn a_pending_approval_survives_compaction_and_resumes() {
    let agent = ChatAgent::builder(Recording::scripted())
        .tool(weather().with_approval(ApprovalMode::Always))
        .compaction(KeepLastTurns::new(1))
        .build();
    let mut session = agent.new_session();
    for turn in 0..5 {
        agent.run(&mut session, format!("note {turn}")).await.unwrap();
    }
    let response = agent.run(&mut session, "What's the weather in Paris?").await.unwrap();
    let requests = response.approval_requests();
    assert_eq!(requests.len(), 1);
    let response = agent.run(&mut session, requests[0].approve()).await.unwrap();
    assert!(response.text().contains("sunny"), "{}", response.text());
    assert_eq!(session.messages[0].text(), "What's the weather in Paris?", "{:#?}", session.messages);
}

/// Drives 1,000 turns (a tool call every third turn) and returns the size of each request.
async fn thousand_turns(
    agent: &ChatAgent,
    client: &Recording,
    session: &mut weft_core::AgentSession,
) -> Vec<usize> {
    for turn in 0..1_000 {
        let prompt = match turn % 3 {
            0 => format!("What's the weather in City{turn}?"),
            1 => format!("My name is Ada{turn}."),
            _ => format!("Note {turn}: the quick brown fox jumps over the lazy dog."),
        };
        agent.run(session, prompt).await.unwrap();
    }
    client.sizes()
}

/// Bounded (every request under `bound` bytes) and flat (the second half is no larger than
/// the first's largest).
fn assert_bounded_and_flat(sizes: &[usize], bound: usize) {
    assert!(sizes.len() >= 1_000);
    let max = sizes.iter().copied().max().unwrap();
    assert!(max <= bound, "the largest request is {max} bytes, over {bound}");
    let half = sizes.len() / 2;
    let first = sizes[100..half].iter().copied().max().unwrap();
    let second = sizes[half..].iter().copied().max().unwrap();
    eprintln!("request bytes: turn 1 {}, largest of turns 100-500 {first}, of 500-1000 {second}", sizes[0]);
    assert!(second <= first + first / 10, "requests grow: {first} then {second} bytes");
    // Without compaction the thousandth request would hold ~2,700 messages (over 300 kB).
}

#[tokio::test]
async fn without_compaction_the_requests_of_a_long_conversation_grow() {
    let client = Recording::scripted();
    let agent = ChatAgent::builder(client.clone()).tool(weather()).build();
    let mut session = agent.new_session();
    for turn in 0..60 {
        agent.run(&mut session, format!("Note {turn}: the quick brown fox.")).await.unwrap();
    }
    let sizes = client.sizes();
    assert!(sizes[59] > 5 * sizes[10], "{} then {}", sizes[10], sizes[59]);
}

#[tokio::test]
async fn a_thousand_turns_with_keep_last_turns_send_bounded_flat_requests() {
    let client = Recording::scripted();
    let agent = ChatAgent::builder(client.clone()).tool(weather()).compaction(KeepLastTurns::new(6)).build();
    let mut session = agent.new_session();
    let sizes = thousand_turns(&agent, &client, &mut session).await;
    assert_bounded_and_flat(&sizes, 6_000);
    assert!(session.messages.len() < 30, "the session is compacted too");
}

#[tokio::test]
async fn a_thousand_turns_with_a_token_budget_send_bounded_flat_requests() {
    let client = Recording::scripted();
    let agent = ChatAgent::builder(client.clone())
        .instructions("You are helpful.")
        .tool(weather())
        .compaction(TokenBudget::new(400))
        .build();
    let mut session = agent.new_session();
    let sizes = thousand_turns(&agent, &client, &mut session).await;
    // 400 tokens at ~4 bytes each, plus the JSON around the messages.
    assert_bounded_and_flat(&sizes, 4_000);
}

#[tokio::test]
async fn a_thousand_turns_summarized_in_a_stored_session_send_bounded_flat_requests() {
    let client = Recording::scripted();
    let summaries = Recording::over(Arc::new(ScriptedClient::new()));
    let store = MemoryHistoryStore::new();
    let agent = ChatAgent::builder(client.clone())
        .tool(weather())
        .history_store(Arc::new(store.clone()))
        .compaction(Summarize::new(summaries.clone()).keep_last_turns(4).max_turns(10).max_summary_chars(600))
        .build();
    let mut session = agent.new_session();
    let sizes = thousand_turns(&agent, &client, &mut session).await;
    assert_bounded_and_flat(&sizes, 6_000);
    // Every message is kept in the store; the session holds the summary and a position.
    assert_eq!(store.len(&session.id).await.unwrap(), 1_000 * 2 + 334 * 2);
    let reference = session.history.as_ref().unwrap();
    assert_eq!(reference.summary.len(), 1);
    assert!(reference.compacted_through > 2_600, "{}", reference.compacted_through);
    // The model is asked for a summary once per 7 turns or so, not every turn.
    assert!((100..=200).contains(&summaries.calls()), "{} summaries", summaries.calls());
    let last = client.last_request();
    assert!(last[0].text().starts_with(SUMMARY_PREFIX), "{:#?}", last[0]);
    let stored_tail = store.load(&session.id, HistoryWindow::Last(6)).await.unwrap();
    assert_eq!(stored_tail[0].text(), "Note 998: the quick brown fox jumps over the lazy dog.");
}
