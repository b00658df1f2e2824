//! Turning HTTP answers, transport failures and provider error payloads into [`ChatError`]s.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use weft_core::{ChatError, ChatErrorKind};

/// The most characters of a body quoted in an error message.
const SNIPPET_CHARS: usize = 300;

/// The start of `body` as text, for error messages.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let mut out: String = text.chars().take(SNIPPET_CHARS).collect();
    if text.chars().count() > SNIPPET_CHARS {
        out.push('…');
    }
    out
}

/// How long the server asked to wait: `retry-after-ms` (milliseconds), else `Retry-After` as
/// seconds or as an HTTP date (relative to `now`).
pub fn parse_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).map(str::trim);
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Some(Duration::from_secs_f64(ms / 1000.0));
        }
    }
    let value = header("retry-after")?;
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The provider's message and code from an OpenAI- or Anthropic-shaped error payload
/// (`{"error": {"message", "type", "code"}}`, `{"type": "error", "error": {"type", "message"}}`), or from the looser shapes other servers use
/// (`{"error": "text"}`, `{"message": …}`, `{"detail": …}`), or Google's
/// (`{"error": {"code": 429, "message", "status": "RESOURCE_EXHAUSTED"}}`, whose `status` is the
/// code).
///
/// The code is `code` when it is a name; a numeric `code` (llama.cpp and vLLM repeat the HTTP
/// status there, e.g. `{"code": 400, "type": "exceed_context_size_error"}`) yields to `type`,
/// which then names the error.
pub fn provider_message(payload: &Value) -> (Option<String>, Option<String>) {
    let error = payload.get("error").unwrap_or(payload);
    let text = |value: Option<&Value>| match value {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let name = |value: Option<&Value>| match value {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    let message = match error {
        Value::String(s) => Some(s.clone()),
        // AWS services write `Message` as often as `message`.
        _ => text(error.get("message"))
            .or_else(|| text(error.get("Message")))
            .or_else(|| text(error.get("detail"))),
    };
    // Google's error object (`{"error": {"code": 429, "message", "status": "RESOURCE_EXHAUSTED"}}`)
    // names the error in `status`.
    let code = name(error.get("code"))
        .or_else(|| name(error.get("type")))
        .or_else(|| name(error.get("status")))
        .or_else(|| text(error.get("code")));
    (message, code)
}

/// The category for a provider's error code, when it names one we know.
fn kind_for_code(code: &str) -> Option<ChatErrorKind> {
    Some(match code {
        "rate_limit_exceeded" | "rate_limit_error" | "insufficient_quota" | "too_many_requests"
        | "RESOURCE_EXHAUSTED" => {
            ChatErrorKind::RateLimit
        }
        "invalid_api_key"
        | "authentication_error"
        | "unauthorized"
        | "permission_denied"
        | "permission_error"
        // Google's statuses.
        | "UNAUTHENTICATED"
        | "PERMISSION_DENIED" => ChatErrorKind::Authentication,
        "server_error"
        | "internal_error"
        | "internal_server_error"
        | "server_is_overloaded"
        | "overloaded"
        // Anthropic's types.
        | "overloaded_error"
        | "api_error"
        | "unavailable_error"
        | "INTERNAL"
        | "UNAVAILABLE" => ChatErrorKind::Server,
        // llama.cpp's types: `exceed_context_size_error`, `not_supported_error`.
        "invalid_request_error"
        | "invalid_prompt"
        | "context_length_exceeded"
        | "exceed_context_size_error"
        | "not_supported_error"
        | "invalid_value"
        | "model_not_found"
        | "not_found_error"
        | "content_filter"
        | "unsupported_parameter"
        | "invalid_request"
        | "request_too_large"
        | "bad_request"
        | "INVALID_ARGUMENT"
        | "FAILED_PRECONDITION"
        | "NOT_FOUND" => ChatErrorKind::BadRequest,
        _ => return None,
    })
}

/// A non-success HTTP answer as an error.
pub fn status_error(label: &str, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ChatError {
    let payload: Option<Value> = serde_json::from_slice(body).ok();
    let kind = match status.as_u16() {
        // Google answers a key it does not know with 400 `INVALID_ARGUMENT`, reason
        // `API_KEY_INVALID`: what the user must fix is the key.
        400 if payload.as_ref().and_then(|payload| google_detail(payload, "ErrorInfo", "reason"))
            == Some("API_KEY_INVALID") =>
        {
            ChatErrorKind::Authentication
        }
        401 | 403 => ChatErrorKind::Authentication,
        429 => ChatErrorKind::RateLimit,
        408 => ChatErrorKind::Timeout,
        500..=599 => ChatErrorKind::Server,
        400..=499 => ChatErrorKind::BadRequest,
        _ => ChatErrorKind::Other,
    };
    let (message, code) = payload.as_ref().map(provider_message).unwrap_or((None, None));
    let message = message.unwrap_or_else(|| {
        let text = snippet(body);
        if text.is_empty() { status.canonical_reason().unwrap_or("no message").to_string() } else { text }
    });
    let retry_after =
        if matches!(kind, ChatErrorKind::RateLimit | ChatErrorKind::Server | ChatErrorKind::Timeout) {
            parse_retry_after(headers, SystemTime::now())
                .or_else(|| payload.as_ref().and_then(google_retry_delay))
        } else {
            None
        };
    let code = code.or_else(|| aws_error_type(headers));
    let error = ChatError::new(kind, message)
        .with_status(status.as_u16())
        .with_code(code)
        .with_retry_after(retry_after)
        .with_provider(label);
    // 529 is no standard status: Anthropic's "overloaded" (`overloaded_error`), transient like
    // a 503, which the core's rule does not know.
    if status.as_u16() == OVERLOADED { error.with_retryable(true) } else { error }
}

/// The exception an AWS service names in `x-amzn-ErrorType`
/// (`ThrottlingException:http://internal.amazon.com/coral/…` → `ThrottlingException`).
fn aws_error_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("x-amzn-errortype")?.to_str().ok()?;
    let name = value.split(':').next().unwrap_or("").trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// A field of one of the `details` of Google's error object, found by the detail's type
/// (`{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}`).
fn google_detail<'a>(payload: &'a Value, kind: &str, field: &str) -> Option<&'a str> {
    let suffix = format!("google.rpc.{kind}");
    payload.get("error")?.get("details")?.as_array()?.iter().find_map(|detail| {
        let kind = detail.get("@type")?.as_str()?;
        if kind.ends_with(&suffix) { detail.get(field)?.as_str() } else { None }
    })
}

/// The wait Google's error object asks for when it sends no `Retry-After`: its `RetryInfo`
/// detail's `retryDelay`, a protobuf duration such as `"37s"` or `"0.5s"`.
fn google_retry_delay(payload: &Value) -> Option<Duration> {
    let delay = google_detail(payload, "RetryInfo", "retryDelay")?;
    let seconds: f64 = delay.trim().strip_suffix('s')?.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// The status of an overloaded server (Anthropic's `overloaded_error`).
const OVERLOADED: u16 = 529;

/// An error reported inside a 200 answer: an SSE `error` event, `response.failed`, or an
/// `error` field in a chunk. Its code decides the category; unknown codes count as server errors.
pub fn payload_error(label: &str, payload: &Value) -> ChatError {
    let (message, code) = provider_message(payload);
    let kind = code.as_deref().and_then(kind_for_code).unwrap_or(ChatErrorKind::Server);
    ChatError::new(kind, message.unwrap_or_else(|| format!("the server reported an error: {payload}")))
        .with_code(code)
        .with_provider(label)
}

/// A JSON body that could not be decoded.
pub fn decode_error(label: &str, what: &str, err: serde_json::Error, body: &[u8]) -> ChatError {
    ChatError::new(ChatErrorKind::Decode, format!("{what} is not valid JSON ({err}): {}", snippet(body)))
        .with_source(err)
        .with_provider(label)
}

/// A request body that could not be encoded.
pub fn encode_error(label: &str, err: serde_json::Error) -> ChatError {
    ChatError::new(ChatErrorKind::Other, format!("could not encode the request: {err}"))
        .with_provider(label)
        .with_source(err)
}

/// What the operating system said, when an I/O error is somewhere in the chain.
fn io_cause(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current = Some(err);
    while let Some(cause) = current {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind;
            let what = match io.kind() {
                ErrorKind::ConnectionRefused => "connection refused",
                ErrorKind::ConnectionReset => "connection reset by the server",
                ErrorKind::ConnectionAborted => "connection aborted",
                ErrorKind::NotConnected => "not connected",
                ErrorKind::TimedOut => "timed out",
                ErrorKind::UnexpectedEof => "connection closed early",
                ErrorKind::BrokenPipe => "broken pipe",
                ErrorKind::AddrNotAvailable => "address not available",
                _ => return None,
            };
            return Some(match io.raw_os_error() {
                Some(code) => format!("{what} (os error {code})"),
                None => what.to_string(),
            });
        }
        current = cause.source();
    }
    None
}

/// The innermost message of an error chain (usually the most specific one).
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// A failure of the HTTP transport: connecting, sending, or reading the body.
pub fn transport_error(label: &str, url: &str, err: reqwest::Error) -> ChatError {
    let root = root_cause(&err);
    let cause = io_cause(&err);
    let detail = cause.unwrap_or(root);
    let (kind, message) = if err.is_connect() {
        let what = if err.is_timeout() { "connection timed out" } else { "could not connect" };
        (ChatErrorKind::Network, format!("{what} to {url}: {detail}"))
    } else if err.is_timeout() {
        (ChatErrorKind::Timeout, format!("request to {url} timed out: {detail}"))
    } else if err.is_body() || err.is_decode() {
        (ChatErrorKind::Network, format!("connection lost while reading the answer from {url}: {detail}"))
    } else {
        (ChatErrorKind::Network, format!("request to {url} failed: {detail}"))
    };
    ChatError::new(kind, message).with_source(err.without_url()).with_provider(label)
}

/// Our own deadline passed.
pub fn timeout_error(label: &str, message: String) -> ChatError {
    ChatError::new(ChatErrorKind::Timeout, message).with_provider(label)
}

/// A stream ended without its end marker.
pub fn stream_ended(label: &str, marker: &str) -> ChatError {
    ChatError::new(
        ChatErrorKind::StreamEnded,
        format!("the stream ended before {marker}; the answer is incomplete"),
    )
    .with_provider(label)
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn retry_after_in_seconds_ms_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after(&headers(&[("retry-after", "1")]), now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(&headers(&[("retry-after", "0.5")]), now),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            parse_retry_after(&headers(&[("retry-after", "1"), ("retry-after-ms", "250")]), now),
            Some(Duration::from_millis(250))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&headers(&[("retry-after", &date)]), now),
            Some(Duration::from_secs(30))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&headers(&[("retry-after", &past)]), now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(parse_retry_after(&headers(&[]), now), None);
    }

    #[test]
    fn statuses_map_to_kinds_with_the_provider_message() {
        let body = br#"{"error":{"message":"Invalid 'messages'","type":"invalid_request_error","param":null,"code":"bad_msgs"}}"#;
        let err = status_error("p", StatusCode::BAD_REQUEST, &HeaderMap::new(), body);
        assert_eq!(err.kind(), ChatErrorKind::BadRequest);
        assert_eq!(err.message(), "Invalid 'messages'");
        assert_eq!(err.code(), Some("bad_msgs"));
        assert_eq!(err.to_string(), "p: bad request (HTTP 400): Invalid 'messages'");
        let err = status_error("p", StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"<html>oops</html>");
        assert_eq!(err.kind(), ChatErrorKind::Server);
        assert_eq!(err.message(), "<html>oops</html>");
        let err = status_error("p", StatusCode::FORBIDDEN, &HeaderMap::new(), br#"{"error":"nope"}"#);
        assert_eq!((err.kind(), err.message()), (ChatErrorKind::Authentication, "nope"));
        let err = status_error("p", StatusCode::NOT_FOUND, &HeaderMap::new(), b"");
        assert_eq!((err.kind(), err.message()), (ChatErrorKind::BadRequest, "Not Found"));
    }

    #[test]
    fn an_aws_error_type_header_is_the_code() {
        let headers = headers(&[(
            "x-amzn-ErrorType",
            "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
        )]);
        let err = status_error(
            "p",
            StatusCode::TOO_MANY_REQUESTS,
            &headers,
            br#"{"Message":"Too many requests, please wait before trying again."}"#,
        );
        assert_eq!((err.kind(), err.code()), (ChatErrorKind::RateLimit, Some("ThrottlingException")));
        assert_eq!(err.message(), "Too many requests, please wait before trying again.");
        assert!(err.is_retryable());
    }

    #[test]
    fn an_overload_529_is_a_retryable_server_error_keeping_its_status() {
        let err = status_error("p", StatusCode::from_u16(529).unwrap(), &HeaderMap::new(), b"");
        assert_eq!((err.kind(), err.status()), (ChatErrorKind::Server, Some(529)));
        assert!(err.is_retryable());
        let err = status_error("p", StatusCode::from_u16(501).unwrap(), &HeaderMap::new(), b"");
        assert!(!err.is_retryable());
    }

    #[test]
    fn a_numeric_code_yields_to_the_type() {
        // llama.cpp's answer to a prompt longer than the context.
        let body = br#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":2003,"n_ctx":512}}"#;
        let err = status_error("p", StatusCode::BAD_REQUEST, &HeaderMap::new(), body);
        assert_eq!(err.kind(), ChatErrorKind::BadRequest);
        assert_eq!(err.code(), Some("exceed_context_size_error"));
        assert!(err.message().contains("exceeds the available context size"), "{err}");
        let err = payload_error(
            "p",
            &serde_json::json!({"error": {"code": 400, "type": "exceed_context_size_error", "message": "m"}}),
        );
        assert_eq!((err.kind(), err.code()), (ChatErrorKind::BadRequest, Some("exceed_context_size_error")));
        let err = payload_error(
            "p",
            &serde_json::json!({"error": {"code": 503, "type": "unavailable_error", "message": "loading"}}),
        );
        assert_eq!(err.kind(), ChatErrorKind::Server);
        // A number alone is still reported.
        let err = payload_error("p", &serde_json::json!({"error": {"code": 500, "message": "m"}}));
        assert_eq!(err.code(), Some("500"));
    }

    #[test]
    fn google_error_objects_name_their_status_retry_delay_and_invalid_keys() {
        // The error objects of Google's API design guide (AIP-193), as the Gemini API sends them.
        let body = br#"{
  "error": {
    "code": 429,
    "message": "You exceeded your current quota, please check your plan and billing details.",
    "status": "RESOURCE_EXHAUSTED",
    "details": [
      {
        "@type": "type.googleapis.com/google.rpc.RetryInfo",
        "retryDelay": "37s"
      }
    ]
  }
}"#;
        let err = status_error("p", StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new(), body);
        assert_eq!((err.kind(), err.code()), (ChatErrorKind::RateLimit, Some("RESOURCE_EXHAUSTED")));
        assert_eq!(err.retry_after(), Some(Duration::from_secs(37)));
        // A `Retry-After` header wins over the body.
        let err = status_error("p", StatusCode::TOO_MANY_REQUESTS, &headers(&[("retry-after", "2")]), body);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
        let body = br#"{
  "error": {
    "code": 400,
    "message": "API key not valid. Please pass a valid API key.",
    "status": "INVALID_ARGUMENT",
    "details": [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID",
        "domain": "googleapis.com",
        "metadata": {
          "service": "generativelanguage.googleapis.com"
        }
      }
    ]
  }
}"#;
        let err = status_error("p", StatusCode::BAD_REQUEST, &HeaderMap::new(), body);
        assert_eq!((err.kind(), err.code()), (ChatErrorKind::Authentication, Some("INVALID_ARGUMENT")));
        assert_eq!(err.message(), "API key not valid. Please pass a valid API key.");
        let err = status_error(
            "p",
            StatusCode::BAD_REQUEST,
            &HeaderMap::new(),
            br#"{"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}}"#,
        );
        assert_eq!(err.kind(), ChatErrorKind::BadRequest);
        let err = payload_error(
            "p",
            &serde_json::json!({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}),
        );
        assert_eq!((err.kind(), err.code()), (ChatErrorKind::Server, Some("UNAVAILABLE")));
    }

    #[test]
    fn payload_errors_follow_their_code() {
        let err = payload_error("p", &serde_json::json!({"code": "rate_limit_exceeded", "message": "slow"}));
        assert_eq!(err.kind(), ChatErrorKind::RateLimit);
        let err =
            payload_error("p", &serde_json::json!({"error": {"code": "invalid_prompt", "message": "m"}}));
        assert_eq!((err.kind(), err.message()), (ChatErrorKind::BadRequest, "m"));
        let err = payload_error("p", &serde_json::json!({"message": "boom"}));
        assert_eq!(err.kind(), ChatErrorKind::Server);
    }
}
