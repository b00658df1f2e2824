//! # weft-provider-conformance
//!
//! One conformance suite for every Weft chat provider (test support, not published). A provider
//! is done when its client passes it: text, streaming, a tool round trip, parallel tools,
//! structured output, usage, finish reasons, and the faults — 401, 429 (with `retry-after`
//! honoured), 5xx, a stream cut mid-way, a broken connection, malformed JSON — each ending in
//! the right [`weft_core::ChatErrorKind`].
//!
//! The cases ([`cases`]) are functions over a [`Harness`]: the provider's client over a
//! [`MockServer`] (a real HTTP server on 127.0.0.1, axum) that answers with scripted
//! [`Reply`]s, or over a real server ([`Harness::live`]) for the cases that need no scripted
//! fault. The mock knows no provider: a provider supplies a [`WireScript`], which writes a
//! reply in its wire format (whole JSON, and streamed frames) and its error body. That is all a
//! provider writes.
//!
//! ## Adopting the suite (a new provider)
//!
//! 1. Add the crate as a dev-dependency:
//!    `weft-provider-conformance = { path = "../weft-provider-conformance" }`.
//! 2. Write its [`WireScript`] in `tests/conformance.rs`, from the provider's documented bytes
//!    (its API reference's JSON and stream examples): [`WireScript::path`] (the path the
//!    client posts to), [`WireScript::whole`], [`WireScript::stream`] (one frame per text
//!    delta, the end marker last), [`WireScript::frame`], [`WireScript::error`], and
//!    [`WireScript::wants_stream`] / [`WireScript::stream_content_type`] when they differ
//!    from `"stream": true` and `text/event-stream` (a path may hold captures,
//!    `/model/{model}/{action}`, when the model and the streaming are in the URL).
//! 3. Generate the tests with [`mock_suite!`], giving a module name, the wire script and a
//!    factory that builds the client for an [`Endpoint`] (its base URL, the retries; set the
//!    initial retry delay to a few milliseconds so that the suite can see `retry-after`
//!    honoured):
//!
//! ```ignore
//! use std::sync::Arc;
//! use weft_provider_conformance::{Endpoint, mock_suite};
//!
//! fn client(endpoint: &Endpoint) -> Arc<dyn weft_core::ChatClient> {
//!     Arc::new(
//!         MyProvider::builder()
//!             .base_url(&endpoint.base_url)
//!             .api_key("conformance-key")
//!             .model("conformance-model")
//!             .max_retries(endpoint.max_retries)
//!             .initial_retry_delay(std::time::Duration::from_millis(5))
//!             .build()
//!             .unwrap()
//!             .chat(),
//!     )
//! }
//!
//! mock_suite!(my_provider, MyWire, client);
//! ```
//!
//!    That makes one `#[test]` per case ([`cases::MOCK_CASES`]), named
//!    `my_provider::text`, `my_provider::stream_cut` …, each on its own runtime and mock.
//!    A wire that documents an error inside a started stream writes it in
//!    [`WireScript::stream_error`] and adds that case:
//!    `mock_suite!(my_provider, MyWire, client, also: stream_exception);`.
//!    A provider that checks credentials or signatures on each request says how in
//!    [`WireScript::check_request`]; a request it would refuse gets its
//!    [`WireScript::unauthorized_status`], so every case fails on it.
//! 4. Where a real server speaks the API, run the live cases too: [`live_suite!`] with a
//!    function that starts the server and returns [`Harness::live`] (the server kept as its
//!    guard), an `#[ignore]` reason, and the cases it supports (a subset of
//!    [`cases::LIVE_CASES`]; a tiny model may not make parallel calls):
//!
//! ```ignore
//! live_suite!(live, "needs llama-server: scripts/test installs it", start_llama;
//!     text, streaming, tool_round_trip, usage, finish_reasons);
//! ```
//!
//! A case that fails names itself, whole or streamed, and what it expected. Fix the client
//! (with the failing case as its test), never the case, unless the provider's documentation
//! says the case is wrong.

pub mod cases;
mod harness;
mod mock;
mod script;

pub use harness::{CASE_TIMEOUT, ClientFactory, Endpoint, Harness, run};
pub use mock::{Answer, MockServer, Received};
pub use script::{Finish, Incoming, Reply, ScriptedCall, WireScript};

/// One `#[test]` per case of the suite, in a module `$name`, over the mock server speaking
/// `$wire` (a [`WireScript`] value), with the clients `$client` makes (a
/// `fn(&Endpoint) -> Arc<dyn ChatClient>`). `also: case, …` adds cases outside the default
/// list ([`cases::stream_exception`]). See the crate docs.
#[macro_export]
macro_rules! mock_suite {
    ($name:ident, $wire:expr, $client:expr) => {
        $crate::mock_suite!($name, $wire, $client, also:);
    };
    ($name:ident, $wire:expr, $client:expr, also: $($extra:ident),* $(,)?) => {
        $crate::mock_suite!(@cases $name, $wire, $client;
            text, streaming, tool_round_trip, parallel_tools, structured_output, usage, finish_reasons,
            unauthorized, rate_limited, retry_after_honoured, server_error, stream_cut, stream_broken,
            malformed_json $(, $extra)*);
    };
    (@cases $name:ident, $wire:expr, $client:expr; $($case:ident),* $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $case() {
                    $crate::run(async {
                        let factory: $crate::ClientFactory = ::std::sync::Arc::new($client);
                        let harness = $crate::Harness::mock($wire, factory).await;
                        $crate::cases::$case(&harness).await;
                    });
                }
            )*
        }
    };
}

/// One ignored `#[test]` per listed case, in a module `$name`, against a real server:
/// `$start` (a `fn() -> Harness`, see [`Harness::live`]) starts it for each case. See the
/// crate docs.
#[macro_export]
macro_rules! live_suite {
    ($name:ident, $reason:literal, $start:expr; $($case:ident),+ $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                #[ignore = $reason]
                fn $case() {
                    let harness: $crate::Harness = ($start)();
                    $crate::run(async {
                        $crate::cases::$case(&harness).await;
                    });
                }
            )+
        }
    };
}
