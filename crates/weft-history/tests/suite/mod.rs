//! The shared test suite of history stores: every check runs against every store (memory,
//! SQLite, Postgres, Redis) through an [`Opener`], which opens a new handle on the same
//! backing store each time (as a restarted process would).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;
use weft_core::history::{HistoryError, HistoryLimits, HistoryStore, HistoryWindow};
use weft_core::{Content, FunctionCall, FunctionResult, Message, Role};

/// Opens handles on one backing store.
#[async_trait]
pub trait Opener: Send + Sync {
    /// A new handle with `limits`.
    async fn open(&self, limits: HistoryLimits) -> Arc<dyn HistoryStore>;
}

fn numbered(from: usize, to: usize) -> Vec<Message> {
    (from..to).map(|i| Message::user(format!("m{i}"))).collect()
}

fn texts(messages: &[Message]) -> Vec<String> {
    messages.iter().map(Message::text).collect()
}

fn names(from: usize, to: usize) -> Vec<String> {
    (from..to).map(|i| format!("m{i}")).collect()
}

/// Appends keep their order, across calls and within one; `append` returns the new length.
pub async fn order(opener: &dyn Opener) {
    let store = opener.open(HistoryLimits::default()).await;
    assert_eq!(store.append("order", &numbered(0, 3)).await.unwrap(), 3);
    assert_eq!(store.append("order", &numbered(3, 5)).await.unwrap(), 5);
    assert_eq!(store.append("order", &[]).await.unwrap(), 5, "an empty append changes nothing");
    assert_eq!(texts(&store.load("order", HistoryWindow::All).await.unwrap()), names(0, 5));
    assert_eq!(store.len("order").await.unwrap(), 5);
    assert!(!store.is_empty("order").await.unwrap());
    // Every kind of content comes back as it went in.
    let mut call = Message::new(
        Role::Assistant,
        vec![Content::FunctionCall(FunctionCall::new("c1", "get_weather", json!({"city": "Paris"})))],
    );
    call.author_name = Some("agent".into());
    let result = Message::new(
        Role::Tool,
        vec![Content::FunctionResult(FunctionResult::ok("c1", json!({"sky": "sunny", "c": 21})))],
    );
    store.append("contents", &[call.clone(), result.clone()]).await.unwrap();
    assert_eq!(store.load("contents", HistoryWindow::All).await.unwrap(), vec![call, result]);
}

/// Windows load only what they cover.
pub async fn windows(opener: &dyn Opener) {
    let store = opener.open(HistoryLimits::default()).await;
    store.append("w", &numbered(0, 10)).await.unwrap();
    let load = |window| {
        let store = store.clone();
        async move { texts(&store.load("w", window).await.unwrap()) }
    };
    assert_eq!(load(HistoryWindow::Last(3)).await, names(7, 10));
    assert_eq!(load(HistoryWindow::Last(0)).await, Vec::<String>::new());
    assert_eq!(load(HistoryWindow::Last(100)).await, names(0, 10));
    assert_eq!(load(HistoryWindow::Range { start: 2, end: 5 }).await, names(2, 5));
    assert_eq!(load(HistoryWindow::from_position(8)).await, names(8, 10));
    assert_eq!(load(HistoryWindow::Range { start: 5, end: 2 }).await, Vec::<String>::new());
    assert_eq!(load(HistoryWindow::Range { start: 10, end: 20 }).await, Vec::<String>::new());
    assert!(store.load("unknown", HistoryWindow::All).await.unwrap().is_empty());
    assert_eq!(store.len("unknown").await.unwrap(), 0);
    assert!(store.is_empty("unknown").await.unwrap());
}

/// 20 writers × 50 appends to one session, over 4 handles (as 4 processes would): all 1,000
/// messages are there, each writer's in its order; and batches land whole.
pub async fn concurrent_writers(opener: &dyn Opener) {
    let mut handles = Vec::new();
    for _ in 0..4 {
        handles.push(opener.open(HistoryLimits::default()).await);
    }
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..20 {
        let store = handles[writer % handles.len()].clone();
        writers.spawn(async move {
            for i in 0..50 {
                store.append("shared", &[Message::user(format!("{writer}:{i}"))]).await.unwrap();
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }
    let messages = store_texts(&handles[0], "shared").await;
    assert_eq!(messages.len(), 1_000, "no message lost");
    assert_eq!(handles[1].len("shared").await.unwrap(), 1_000);
    let mut next: HashMap<usize, usize> = HashMap::new();
    for text in &messages {
        let (writer, i) = text.split_once(':').unwrap();
        let (writer, i): (usize, usize) = (writer.parse().unwrap(), i.parse().unwrap());
        let expected = next.entry(writer).or_default();
        assert_eq!(i, *expected, "writer {writer}'s messages are in its order");
        *expected += 1;
    }
    assert!(next.values().all(|&count| count == 50));

    // Batches of 3 from 10 writers: each batch is contiguous.
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..10 {
        let store = handles[writer % handles.len()].clone();
        writers.spawn(async move {
            for batch in 0..10 {
                let messages: Vec<Message> =
                    (0..3).map(|part| Message::user(format!("{writer}:{batch}:{part}"))).collect();
                store.append("batches", &messages).await.unwrap();
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }
    let messages = store_texts(&handles[0], "batches").await;
    assert_eq!(messages.len(), 300);
    for chunk in messages.chunks(3) {
        let prefix = chunk[0].rsplit_once(':').unwrap().0;
        let expected: Vec<String> = (0..3).map(|part| format!("{prefix}:{part}")).collect();
        assert_eq!(chunk, expected.as_slice(), "a batch lands whole");
    }
}

async fn store_texts(store: &Arc<dyn HistoryStore>, session: &str) -> Vec<String> {
    texts(&store.load(session, HistoryWindow::All).await.unwrap())
}

/// A message over the size limit, or an append past the session limit, is refused and
/// writes nothing.
pub async fn sizes(opener: &dyn Opener) {
    let limits = HistoryLimits { max_message_bytes: 1_000, max_session_messages: 5 };
    let store = opener.open(limits).await;
    assert_eq!(store.limits(), limits);
    let big = Message::user("x".repeat(2_000));
    let error = store.append("s", &[Message::user("small"), big]).await.unwrap_err();
    assert!(matches!(error, HistoryError::MessageTooLarge { index: 1, limit: 1_000, .. }), "{error}");
    assert!(error.to_string().contains("max_message_bytes"), "{error}");
    assert_eq!(store.len("s").await.unwrap(), 0, "nothing of a refused append is written");

    store.append("s", &numbered(0, 4)).await.unwrap();
    let error = store.append("s", &numbered(4, 6)).await.unwrap_err();
    assert!(matches!(error, HistoryError::SessionFull { len: 4, adding: 2, limit: 5, .. }), "{error}");
    assert_eq!(store.len("s").await.unwrap(), 4);
    assert_eq!(store.append("s", &numbered(4, 5)).await.unwrap(), 5);
    assert!(matches!(store.append("s", &numbered(5, 6)).await, Err(HistoryError::SessionFull { .. })));
    assert_eq!(store_texts(&store, "s").await, names(0, 5));
}

/// Clearing empties one session, leaves the others, and the session starts again at 0.
pub async fn clear(opener: &dyn Opener) {
    let store = opener.open(HistoryLimits::default()).await;
    store.append("a", &numbered(0, 3)).await.unwrap();
    store.append("b", &numbered(0, 2)).await.unwrap();
    store.clear("a").await.unwrap();
    assert_eq!(store.len("a").await.unwrap(), 0);
    assert!(store.load("a", HistoryWindow::All).await.unwrap().is_empty());
    assert_eq!(store.len("b").await.unwrap(), 2, "another session is untouched");
    store.clear("never-written").await.unwrap();
    assert_eq!(store.append("a", &numbered(7, 8)).await.unwrap(), 1);
    assert_eq!(
        texts(&store.load("a", HistoryWindow::Range { start: 0, end: 1 }).await.unwrap()),
        names(7, 8)
    );
}

/// What one handle wrote, a new handle reads.
pub async fn reopen(opener: &dyn Opener) {
    let store = opener.open(HistoryLimits::default()).await;
    store.append("kept", &numbered(0, 3)).await.unwrap();
    drop(store);
    let store = opener.open(HistoryLimits::default()).await;
    assert_eq!(store_texts(&store, "kept").await, names(0, 3));
    assert_eq!(store.append("kept", &numbered(3, 4)).await.unwrap(), 4);
}

/// One test per check for a store: `store_suite!(module, opener_fn, #[ignore = …])`, where
/// `opener_fn(test_name)` makes the [`Opener`] (and whatever server it needs, kept alive for the
/// test).
#[macro_export]
macro_rules! store_suite {
    ($name:ident, $opener:ident $(, #[$attr:meta])*) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$attr])*
            async fn order() {
                suite::order(&$opener("order").await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$attr])*
            async fn windows() {
                suite::windows(&$opener("windows").await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$attr])*
            async fn concurrent_writers() {
                suite::concurrent_writers(&$opener("concurrent_writers").await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$attr])*
            async fn sizes() {
                suite::sizes(&$opener("sizes").await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$attr])*
            async fn clear() {
                suite::clear(&$opener("clear").await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$attr])*
            async fn reopen() {
                suite::reopen(&$opener("reopen").await).await;
            }
        }
    };
}
