//! The suite can fail: a client that never talks to the mock (Weft's scripted model) fails
//! the cases that check the scripted answer and the faults.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use serde_json::{Value, json};
use weft_core::{ChatClient, ScriptedClient};
use weft_provider_conformance::{Endpoint, Harness, Reply, WireScript, cases, run};

/// A wire nobody reads.
struct Unused;

impl WireScript for Unused {
    fn path(&self) -> &'static str {
        "/unused"
    }
    fn whole(&self, reply: &Reply) -> Value {
        json!({"text": reply.joined_text()})
    }
    fn stream(&self, reply: &Reply) -> Vec<Vec<u8>> {
        reply.text.iter().map(|delta| format!("data: {delta}\n\n").into_bytes()).collect()
    }
    fn frame(&self, data: &str) -> Vec<u8> {
        format!("data: {data}\n\n").into_bytes()
    }
    fn error(&self, _status: u16, message: &str) -> Value {
        json!({"error": message})
    }
}

fn scripted(_: &Endpoint) -> Arc<dyn ChatClient> {
    Arc::new(ScriptedClient::new())
}

/// Whether the case panics against the scripted model.
fn fails(case: fn(&Harness) -> futures::future::BoxFuture<'_, ()>) -> bool {
    std::panic::catch_unwind(|| {
        run(async {
            let harness = Harness::mock(Unused, Arc::new(scripted)).await;
            case(&harness).await;
        })
    })
    .is_err()
}

#[test]
fn a_client_that_ignores_the_server_fails_the_suite() {
    assert!(fails(|harness| Box::pin(cases::text(harness))), "text");
    assert!(fails(|harness| Box::pin(cases::streaming(harness))), "streaming");
    assert!(fails(|harness| Box::pin(cases::usage(harness))), "usage");
    assert!(fails(|harness| Box::pin(cases::unauthorized(harness))), "unauthorized");
    assert!(fails(|harness| Box::pin(cases::stream_cut(harness))), "stream_cut");
    assert!(fails(|harness| Box::pin(cases::malformed_json(harness))), "malformed_json");
}

#[test]
fn fault_cases_refuse_to_run_live() {
    let harness = Harness::live(Arc::new(ScriptedClient::new()), ());
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run(async { cases::rate_limited(&harness).await })
    }));
    assert!(outcome.is_err(), "a fault case ran against a real server");
}
