//! The hook between a [`Driver`](crate::Driver) and the network: a [`Transport`] sends each
//! attempt, so that it can observe the exchange (the cassette [`Recorder`](crate::cassette::Recorder))
//! or answer it without any network (the cassette [`Replayer`](crate::cassette::Replayer)).

use std::future::Future;
use std::pin::Pin;

use weft_core::ChatError;

use crate::error::transport_error;

/// What a transport knows of the call an attempt belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// Names the endpoint on errors: `openai chat http://127.0.0.1:8080/v1`.
    pub label: &'a str,
    /// The request's URL, credentials masked, for messages.
    pub shown_url: &'a str,
    /// What the provider masks in every error (its API keys): a recorder masks them too.
    pub secrets: &'a [String],
}

/// The future of one sent attempt.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<reqwest::Response, ChatError>> + Send + 'a>>;

/// Sends one attempt of a request (already signed, with every header and its body) and returns
/// the answer's head with its body still to read. The driver keeps its deadlines, retries and
/// error mapping around it; a non-success status is returned as a response, not an error.
pub trait Transport: Send + Sync + std::fmt::Debug + 'static {
    /// Sends `request` with `http` (or answers it some other way).
    fn send<'a>(
        &'a self,
        http: &'a reqwest::Client,
        request: reqwest::Request,
        exchange: Exchange<'a>,
    ) -> SendFuture<'a>;
}

/// Sends `request` over the network with `http`, a transport failure as a [`ChatError`]: what
/// the driver does when no transport is set.
///
/// Not an `async fn`: the request moves into reqwest's pending future before this returns, so
/// that a call in flight holds it once (an `async fn` keeps its arguments apart from what they
/// are moved into: at 10,000 runs in flight each copy of a request is about 10 MiB).
pub fn send_over_network<'a>(
    http: &reqwest::Client,
    request: reqwest::Request,
    exchange: Exchange<'a>,
) -> impl Future<Output = Result<reqwest::Response, ChatError>> + Send + use<'a> {
    let pending = http.execute(request);
    async move { pending.await.map_err(|err| transport_error(exchange.label, exchange.shown_url, err)) }
}
