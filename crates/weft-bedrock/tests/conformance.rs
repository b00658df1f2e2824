//! The shared provider conformance suite against the Bedrock Converse client, on a mock
//! runtime that speaks Converse and ConverseStream as AWS documents them: every request's
//! SigV4 signature checked (recomputed with `aws-sigv4` from what arrived), answers in the
//! binary event-stream encoding (built here from the format's description, not with the
//! client's own encoder), errors as HTTP statuses with `x-amzn-ErrorType` and
//! `{"message": …}`, and exception messages inside a stream that has started.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, Uri};
use serde_json::{Value, json};
use support::{ACCESS_KEY, REGION, SECRET_KEY, SESSION_TOKEN, check_signature};
use weft_bedrock::{Bedrock, Credentials};
use weft_core::ChatClient;
use weft_provider_conformance::{
    Endpoint, Finish, Harness, Incoming, Reply, WireScript, cases, mock_suite, run,
};

/// The model the clients ask for (its `:` percent-encoded in the path).
const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const MODEL_IN_PATH: &str = "anthropic.claude-3-haiku-20240307-v1%3A0";

/// The padding AWS adds to each event's JSON (`p`), so that event sizes do not tell the text.
const PADDING: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";

/// CRC-32 (IEEE 802.3, reflected, as the event-stream prelude and message checksums use).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// One message of the event-stream encoding: total length and headers length (big-endian
/// u32), the prelude's CRC, the headers (name length u8, name, type 7 = string, value length
/// u16, value), the payload, the message's CRC.
fn message(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut encoded_headers = Vec::new();
    for (name, value) in headers {
        encoded_headers.push(u8::try_from(name.len()).unwrap());
        encoded_headers.extend_from_slice(name.as_bytes());
        encoded_headers.push(7);
        encoded_headers.extend_from_slice(&u16::try_from(value.len()).unwrap().to_be_bytes());
        encoded_headers.extend_from_slice(value.as_bytes());
    }
    let total = 12 + encoded_headers.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&u32::try_from(total).unwrap().to_be_bytes());
    out.extend_from_slice(&u32::try_from(encoded_headers.len()).unwrap().to_be_bytes());
    let prelude_crc = crc32(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&encoded_headers);
    out.extend_from_slice(payload);
    let message_crc = crc32(&out);
    out.extend_from_slice(&message_crc.to_be_bytes());
    out
}

/// A ConverseStream event: `:event-type`, `:content-type`, `:message-type: event`, and its
/// JSON with the padding.
fn event(kind: &str, mut payload: Value) -> Vec<u8> {
    payload["p"] = json!(PADDING);
    raw_event(kind, &payload.to_string())
}

fn raw_event(kind: &str, payload: &str) -> Vec<u8> {
    message(
        &[(":event-type", kind), (":content-type", "application/json"), (":message-type", "event")],
        payload.as_bytes(),
    )
}

fn stop_reason(finish: Finish) -> &'static str {
    match finish {
        Finish::Stop => "end_turn",
        Finish::Length => "max_tokens",
        Finish::ToolCalls => "tool_use",
    }
}

/// The exception AWS names for an HTTP status (Bedrock runtime's error list).
fn exception(status: u16) -> &'static str {
    match status {
        400 => "ValidationException",
        403 => "UnrecognizedClientException",
        404 => "ResourceNotFoundException",
        408 => "ModelTimeoutException",
        424 => "ModelErrorException",
        429 => "ThrottlingException",
        503 => "ServiceUnavailableException",
        _ => "InternalServerException",
    }
}

fn usage(reply: &Reply) -> Value {
    json!({"inputTokens": reply.input_tokens, "outputTokens": reply.output_tokens,
        "totalTokens": reply.input_tokens + reply.output_tokens})
}

/// Converse and ConverseStream's bytes.
struct Converse;

impl WireScript for Converse {
    fn path(&self) -> &'static str {
        "/model/{model}/{action}"
    }

    fn stream_content_type(&self) -> &'static str {
        "application/vnd.amazon.eventstream"
    }

    fn wants_stream(&self, path_and_query: &str, _request: &Value) -> bool {
        path_and_query.ends_with("/converse-stream")
    }

    /// The path names the model and the action; the SigV4 signature must be right for the
    /// test credentials, the region and the `bedrock` service.
    fn check_request(&self, request: Incoming<'_>) -> Result<(), String> {
        let action = request
            .path_and_query
            .strip_prefix(&format!("/model/{MODEL_IN_PATH}/"))
            .ok_or_else(|| format!("not this model's path: {}", request.path_and_query))?;
        if !matches!(action, "converse" | "converse-stream") {
            return Err(format!("not a Converse action: {action}"));
        }
        let method = Method::from_bytes(request.method.as_bytes()).map_err(|err| err.to_string())?;
        let uri: Uri =
            request.path_and_query.parse().map_err(|err: axum::http::uri::InvalidUri| err.to_string())?;
        check_signature(&method, &uri, request.headers, request.body)
            .map_err(|problem| format!("InvalidSignatureException: {problem}"))
    }

    fn whole(&self, reply: &Reply) -> Value {
        let mut content = Vec::new();
        if !reply.text.is_empty() {
            content.push(json!({"text": reply.joined_text()}));
        }
        for call in &reply.calls {
            content
                .push(json!({"toolUse": {"toolUseId": call.id, "name": call.name, "input": call.arguments}}));
        }
        json!({
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop_reason(reply.finish),
            "usage": usage(reply),
            "metrics": {"latencyMs": 412}
        })
    }

    /// `messageStart`; the text's `contentBlockDelta`s (a text block has no
    /// `contentBlockStart`) and its `contentBlockStop`; per tool use a `contentBlockStart`
    /// naming it, its input JSON in two deltas, a stop; `messageStop`; `metadata` with the
    /// usage.
    fn stream(&self, reply: &Reply) -> Vec<Vec<u8>> {
        let mut frames = vec![event("messageStart", json!({"role": "assistant"}))];
        let mut index = 0;
        if !reply.text.is_empty() {
            for delta in &reply.text {
                frames.push(event(
                    "contentBlockDelta",
                    json!({"contentBlockIndex": index, "delta": {"text": delta}}),
                ));
            }
            frames.push(event("contentBlockStop", json!({"contentBlockIndex": index})));
            index += 1;
        }
        for call in &reply.calls {
            frames.push(event(
                "contentBlockStart",
                json!({"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": call.id, "name": call.name}}}),
            ));
            let input = call.arguments.to_string();
            let (head, tail) = input.split_at(input.len() / 2);
            for part in [head, tail] {
                frames.push(event(
                    "contentBlockDelta",
                    json!({"contentBlockIndex": index, "delta": {"toolUse": {"input": part}}}),
                ));
            }
            frames.push(event("contentBlockStop", json!({"contentBlockIndex": index})));
            index += 1;
        }
        frames.push(event("messageStop", json!({"stopReason": stop_reason(reply.finish)})));
        frames.push(event("metadata", json!({"usage": usage(reply), "metrics": {"latencyMs": 412}})));
        frames
    }

    fn frame(&self, data: &str) -> Vec<u8> {
        raw_event("contentBlockDelta", data)
    }

    fn error(&self, _status: u16, message: &str) -> Value {
        json!({"message": message})
    }

    fn error_headers(&self, status: u16) -> Vec<(&'static str, String)> {
        vec![
            (
                "x-amzn-ErrorType",
                format!("{}:http://internal.amazon.com/coral/com.amazon.bedrock/", exception(status)),
            ),
            ("x-amzn-RequestId", "d6e9b0c1-0000-4000-8000-000000000000".to_string()),
        ]
    }

    /// AWS refuses a credential with 403 (`UnrecognizedClientException`,
    /// `InvalidSignatureException`), never 401.
    fn unauthorized_status(&self) -> u16 {
        403
    }

    /// An exception message: `:exception-type` (the exception's name, first letter lower
    /// case, as in ConverseStream's output members), `:message-type: exception`, the message.
    fn stream_error(&self, status: u16, message: &str) -> Option<Vec<u8>> {
        let name = exception(status);
        let member = format!("{}{}", name[..1].to_ascii_lowercase(), &name[1..]);
        let payload = json!({"message": message}).to_string();
        Some(self::message(
            &[
                (":exception-type", &member),
                (":content-type", "application/json"),
                (":message-type", "exception"),
            ],
            payload.as_bytes(),
        ))
    }
}

fn client(endpoint: &Endpoint) -> Arc<dyn ChatClient> {
    Arc::new(
        Bedrock::builder()
            .credentials(Credentials::new(ACCESS_KEY, SECRET_KEY, Some(SESSION_TOKEN.to_string())))
            .region(REGION)
            .endpoint_url(&endpoint.base_url)
            .model(MODEL)
            .max_retries(endpoint.max_retries)
            .initial_retry_delay(Duration::from_millis(5))
            .build()
            .unwrap()
            .converse(),
    )
}

mock_suite!(mock, Converse, client, also: stream_exception);

/// The encoder here agrees with the one AWS documents: the checksums of a known message.
#[test]
fn the_encoding_matches_the_documented_checksum() {
    // CRC-32 check value of the standard ("123456789" → 0xCBF43926).
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    let frame = message(&[(":message-type", "event")], b"{}");
    assert_eq!(frame.len(), 12 + (1 + 13 + 1 + 2 + 5) + 2 + 4);
    assert_eq!(u32::from_be_bytes(frame[0..4].try_into().unwrap()) as usize, frame.len());
}

/// The mock checks signatures: a client signing with another secret fails the suite (the
/// request is refused with 403, as AWS refuses it).
#[test]
fn a_wrong_signature_fails_the_suite() {
    fn wrong_secret(endpoint: &Endpoint) -> Arc<dyn ChatClient> {
        Arc::new(
            Bedrock::builder()
                .credentials(Credentials::new(ACCESS_KEY, "not-the-secret", Some(SESSION_TOKEN.to_string())))
                .region(REGION)
                .endpoint_url(&endpoint.base_url)
                .model(MODEL)
                .max_retries(endpoint.max_retries)
                .build()
                .unwrap()
                .converse(),
        )
    }
    let failed = std::panic::catch_unwind(|| {
        run(async {
            let harness = Harness::mock(Converse, Arc::new(wrong_secret)).await;
            cases::text(&harness).await;
        })
    });
    assert!(failed.is_err(), "a request signed with the wrong secret passed");
}
