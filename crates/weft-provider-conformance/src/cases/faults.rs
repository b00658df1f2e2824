//! The fault cases (mock only): each failure ends in the right [`ChatErrorKind`].

use std::time::Duration;

use weft_core::{ChatError, ChatErrorKind};

use super::{ask, call, how, options, stream_items};
use crate::harness::Harness;
use crate::mock::Answer;
use crate::script::Reply;

/// The scripted answer that follows a fault.
fn recovered() -> Reply {
    Reply::text(["Recovered", " answer."])
}

fn error(status: u16, message: &str) -> Answer {
    Answer::Error { status, headers: Vec::new(), message: message.to_string() }
}

/// The error of a call that must fail, whole or streamed.
async fn failure(harness: &Harness, max_retries: u32, stream: bool, what: &str) -> ChatError {
    match call(harness.client_with_retries(max_retries).as_ref(), ask("Say hello.", options()), stream).await
    {
        Ok(response) => panic!("{what}: the call succeeded: {response:?}"),
        Err(err) => err,
    }
}

/// HTTP 401 (or the provider's own status for a refused credential, AWS's 403) is an
/// [`Authentication`](ChatErrorKind::Authentication) error carrying the provider's message,
/// never retried.
pub async fn unauthorized(harness: &Harness) {
    let status = harness.require_mock("unauthorized").wire().unauthorized_status();
    for stream in [false, true] {
        let what = format!("unauthorized ({})", how(stream));
        harness.script(vec![error(status, "conformance: invalid api key"), Answer::Reply(recovered())]);
        let err = failure(harness, 2, stream, &what).await;
        assert_eq!(err.kind(), ChatErrorKind::Authentication, "{what}: {err}");
        assert_eq!(err.status(), Some(status), "{what}: {err}");
        assert!(
            err.to_string().contains("conformance: invalid api key"),
            "{what}: the provider's message: {err}"
        );
        assert_eq!(harness.received().len(), 1, "{what}: a refused key is not retried");
    }
}

/// HTTP 429 is a [`RateLimit`](ChatErrorKind::RateLimit) error whose `retry_after` is the
/// server's `retry-after`.
pub async fn rate_limited(harness: &Harness) {
    harness.require_mock("rate_limited");
    for stream in [false, true] {
        let what = format!("rate_limited ({})", how(stream));
        harness.script(vec![Answer::Error {
            status: 429,
            headers: vec![("retry-after", "7".to_string())],
            message: "conformance: slow down".to_string(),
        }]);
        let err = failure(harness, 0, stream, &what).await;
        assert_eq!(err.kind(), ChatErrorKind::RateLimit, "{what}: {err}");
        assert_eq!(err.retry_after(), Some(Duration::from_secs(7)), "{what}: {err}");
        assert!(err.is_retryable(), "{what}: a rate limit is retryable");
    }
}

/// A 429 asking to wait one second is retried after that second (not the client's own, much
/// shorter, delay), then the answer comes.
pub async fn retry_after_honoured(harness: &Harness) {
    harness.require_mock("retry_after_honoured");
    for stream in [false, true] {
        let what = format!("retry_after_honoured ({})", how(stream));
        harness.script(vec![
            Answer::Error {
                status: 429,
                headers: vec![("retry-after", "1".to_string())],
                message: "conformance: slow down".to_string(),
            },
            Answer::Reply(recovered()),
        ]);
        let response = call(harness.client_with_retries(1).as_ref(), ask("Say hello.", options()), stream)
            .await
            .unwrap_or_else(|err| panic!("{what}: not retried: {err}"));
        assert_eq!(response.text_content(), recovered().joined_text(), "{what}");
        let received = harness.received();
        assert_eq!(received.len(), 2, "{what}: one retry");
        let waited = received[1].at.duration_since(received[0].at);
        // A lower bound only (a loaded machine may wait longer), just under the second asked.
        assert!(
            waited >= Duration::from_millis(950),
            "{what}: retried after {waited:?}, not after retry-after: 1"
        );
    }
}

/// HTTP 5xx is a [`Server`](ChatErrorKind::Server) error; it is retried, and a retry that
/// succeeds gives the answer.
pub async fn server_error(harness: &Harness) {
    harness.require_mock("server_error");
    for stream in [false, true] {
        let what = format!("server_error ({})", how(stream));
        harness.script(vec![error(500, "conformance: the model crashed")]);
        let err = failure(harness, 0, stream, &what).await;
        assert_eq!(err.kind(), ChatErrorKind::Server, "{what}: {err}");
        assert_eq!(err.status(), Some(500), "{what}: {err}");
        assert!(err.is_retryable(), "{what}: {err}");
        assert!(
            err.to_string().contains("conformance: the model crashed"),
            "{what}: the provider's message: {err}"
        );
        harness.script(vec![error(503, "conformance: overloaded"), Answer::Reply(recovered())]);
        let response = call(harness.client_with_retries(1).as_ref(), ask("Say hello.", options()), stream)
            .await
            .unwrap_or_else(|err| panic!("{what}: a 503 was not retried: {err}"));
        assert_eq!(response.text_content(), recovered().joined_text(), "{what}");
        assert_eq!(harness.received().len(), 2, "{what}: one retry");
    }
}

/// A stream whose body ends before the provider's end marker: what came is delivered, then a
/// [`StreamEnded`](ChatErrorKind::StreamEnded) error (never a silently short answer).
pub async fn stream_cut(harness: &Harness) {
    harness.require_mock("stream_cut");
    harness.script(vec![Answer::Cut(Reply::text(["One", " two", " three", " four", " five", " six"]))]);
    let client = harness.client_with_retries(2);
    let (updates, error) = stream_items(client.as_ref(), ask("Count.", options())).await;
    let err =
        error.unwrap_or_else(|| panic!("stream_cut: the cut stream ended without an error: {updates:?}"));
    assert_eq!(err.kind(), ChatErrorKind::StreamEnded, "stream_cut: {err}");
    assert!(
        updates.iter().all(|update| update.finish_reason.is_none()),
        "stream_cut: a finish reason: {updates:?}"
    );
    let text: String = updates.iter().map(|update| update.text_content()).collect();
    assert!(
        text.starts_with("One") && !text.contains("six"),
        "stream_cut: the text before the cut: {text:?}"
    );
    assert_eq!(harness.received().len(), 1, "stream_cut: a stream handed out is not retried");
}

/// A stream whose connection breaks mid-way: what came is delivered, then a retryable
/// [`Network`](ChatErrorKind::Network) (or [`StreamEnded`](ChatErrorKind::StreamEnded)) error.
pub async fn stream_broken(harness: &Harness) {
    harness.require_mock("stream_broken");
    harness.script(vec![Answer::Broken(Reply::text(["One", " two", " three", " four", " five", " six"]))]);
    let client = harness.client_with_retries(2);
    let (updates, error) = stream_items(client.as_ref(), ask("Count.", options())).await;
    let err = error
        .unwrap_or_else(|| panic!("stream_broken: the broken stream ended without an error: {updates:?}"));
    assert!(
        matches!(err.kind(), ChatErrorKind::Network | ChatErrorKind::StreamEnded),
        "stream_broken: {:?}: {err}",
        err.kind()
    );
    assert!(err.is_retryable(), "stream_broken: {err}");
    assert!(updates.iter().all(|update| update.finish_reason.is_none()), "stream_broken: {updates:?}");
}

/// JSON that breaks off, as a whole answer or as a stream's frame, is a
/// [`Decode`](ChatErrorKind::Decode) error.
pub async fn malformed_json(harness: &Harness) {
    harness.require_mock("malformed_json");
    for stream in [false, true] {
        let what = format!("malformed_json ({})", how(stream));
        harness.script(vec![Answer::Malformed(Reply::text(["Never", " parsed", " whole."]))]);
        let err = failure(harness, 2, stream, &what).await;
        assert_eq!(err.kind(), ChatErrorKind::Decode, "{what}: {err}");
        assert!(!err.is_retryable(), "{what}: {err}");
    }
}

/// An error reported inside a stream that has started (Bedrock's exception messages,
/// Anthropic's `error` event): the text before it is delivered, then the error of the kind its
/// status stands for (a throttle is a [`RateLimit`](ChatErrorKind::RateLimit), an internal
/// error [`Server`](ChatErrorKind::Server), both retryable), never a finish reason; a stream
/// handed out is not retried. Not in the default list: a provider whose wire documents such
/// an error adds it (see [`WireScript::stream_error`](crate::WireScript::stream_error)).
pub async fn stream_exception(harness: &Harness) {
    harness.require_mock("stream_exception");
    for (status, kind) in [(429, ChatErrorKind::RateLimit), (500, ChatErrorKind::Server)] {
        let what = format!("stream_exception ({status})");
        harness.script(vec![Answer::StreamError {
            reply: Reply::text(["One", " two", " three", " four"]),
            status,
            message: format!("conformance: failed mid-stream with {status}"),
        }]);
        let client = harness.client_with_retries(2);
        let (updates, error) = stream_items(client.as_ref(), ask("Count.", options())).await;
        let err = error.unwrap_or_else(|| panic!("{what}: the stream ended without an error: {updates:?}"));
        assert_eq!(err.kind(), kind, "{what}: {err}");
        assert!(err.is_retryable(), "{what}: {err}");
        assert!(
            err.to_string().contains(&format!("failed mid-stream with {status}")),
            "{what}: the provider's message: {err}"
        );
        let text: String = updates.iter().map(|update| update.text_content()).collect();
        assert!(
            text.starts_with("One") && !text.contains("four"),
            "{what}: the text before the error: {text:?}"
        );
        assert!(updates.iter().all(|update| update.finish_reason.is_none()), "{what}: {updates:?}");
        assert_eq!(harness.received().len(), 1, "{what}: a stream handed out is not retried");
    }
}
