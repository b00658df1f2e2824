//! OpenAI's tokenizer counts as OpenAI's models do; other models get the estimate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use weft_core::Message;
use weft_core::compaction::{
    CompactionContext, CompactionStrategy, EstimatedTokenCounter, TokenBudget, TokenCounter,
};
use weft_history::tiktoken::{TiktokenCounter, counter_for_model};

#[test]
fn gpt_4o_counts_with_o200k_and_other_models_are_estimated() {
    let counter = TiktokenCounter::for_model("gpt-4o-mini").unwrap();
    // o200k_base: "hello world" is two tokens; the estimate says three (11 bytes / 4).
    assert_eq!(counter.count_text("hello world"), 2);
    assert_eq!(EstimatedTokenCounter.count_text("hello world"), 3);
    assert_eq!(counter_for_model("gpt-4o").count_text("hello world"), 2);
    assert!(TiktokenCounter::for_model("llama-3.1-8b").is_none());
    assert_eq!(counter_for_model("llama-3.1-8b").count_text("hello world"), 3);
}

#[tokio::test]
async fn a_token_budget_counted_by_tiktoken_keeps_what_fits() {
    // "hello world " is 2 tokens in o200k_base; 50 of them are about 100 tokens (the estimate
    // says 150).
    let history: Vec<Message> =
        (0..6).flat_map(|_| [Message::user("hello world ".repeat(50)), Message::assistant("ok")]).collect();
    let counter = std::sync::Arc::new(TiktokenCounter::for_model("gpt-4o").unwrap());
    let per_turn = counter.count_messages(&history[..2]);
    assert!((100..=115).contains(&per_turn), "{per_turn}");
    let context =
        CompactionContext { agent_name: "a", model: Some("gpt-4o"), instructions: None, input: &[] };
    let budget = TokenBudget::new(3 * per_turn).with_counter(counter);
    assert_eq!(budget.compact(&history, context).await.unwrap().keep_from, 6, "the last 3 turns fit");
    let estimated = TokenBudget::new(3 * per_turn).compact(&history, context).await.unwrap();
    assert!(estimated.keep_from > 6, "the estimate counts more and keeps less");
}
