//! The answer to a `tools/call` POST, decoded as what it answers.
//!
//! rmcp decodes every message a server sends as a `ServerJsonRpcMessage`, whose result is an
//! untagged enum of twenty kinds: the answer to a `tools/call` is tried as fifteen other kinds
//! of result first, and each failed try builds a `serde_json` error (about 15.6k instructions a
//! call, BENCHMARKS.md "W6"). The client knows what it asked, so the answer to its own
//! `tools/call` is decoded here straight as a `CallToolResult`.
//!
//! And when the POST's SSE stream opens with that answer, the POST is answered with it as one
//! message, as if the server had answered with JSON: rmcp then hands it to the session at once
//! instead of starting a task to read the stream and pass its events over a channel (events
//! without data before the answer, priming events for resumption, are passed over). Anything
//! else (a notification or a server request before the answer, a JSON-RPC error, a result of
//! another kind, a broken stream) reaches rmcp unchanged: the events read are put back in front
//! of the stream. Waiting for the first event happens inside rmcp's
//! POST future, which rmcp drops when the call is cancelled, so cancelling stays prompt.

use futures::StreamExt as _;
use futures::stream::BoxStream;
use rmcp::model::{
    CallToolResult, ClientJsonRpcMessage, ClientRequest, JsonRpcVersion2_0, RequestId, ServerJsonRpcMessage,
    ServerResult,
};
use rmcp::transport::streamable_http_client::{SseError, StreamableHttpPostResponse};
use serde::Deserialize;
use sse_stream::Sse;

/// The stream of a POST's SSE answer.
pub(crate) type SseStream = BoxStream<'static, Result<Sse, SseError>>;

/// The id of `message` when it is a `tools/call` request.
pub(crate) fn tool_call_id(message: &ClientJsonRpcMessage) -> Option<RequestId> {
    match message {
        ClientJsonRpcMessage::Request(request)
            if matches!(request.request, ClientRequest::CallToolRequest(_)) =>
        {
            Some(request.id.clone())
        }
        _ => None,
    }
}

/// A JSON-RPC answer carrying a tool's result (unknown fields ignored, as rmcp does).
#[derive(Deserialize)]
struct ToolCallAnswer {
    #[expect(dead_code, reason = "checked while decoding: only \"2.0\" is accepted")]
    jsonrpc: JsonRpcVersion2_0,
    id: RequestId,
    result: CallToolResult,
}

/// `data` as the answer to the `tools/call` request `id`, when it is exactly that: a result
/// (complete, per `CallToolResult`'s own rules) for the same id. `None` leaves it to rmcp.
pub(crate) fn decode_tool_call_answer(data: &str, id: &RequestId) -> Option<ServerJsonRpcMessage> {
    let answer: ToolCallAnswer = serde_json::from_str(data).ok()?;
    (answer.id == *id)
        .then(|| ServerJsonRpcMessage::response(ServerResult::CallToolResult(answer.result), answer.id))
}

/// How many events without data (priming events that only carry an event id) may come before
/// the answer for it to be taken from the stream; after them the stream goes to rmcp.
const PRIMING_EVENTS: usize = 4;

/// The POST's answer to the `tools/call` request `id`: the message itself when the stream opens
/// with it (after at most [`PRIMING_EVENTS`] events without data), else the stream with the
/// events read so far put back in front.
pub(crate) async fn answer_or_stream(
    mut stream: SseStream,
    session_id: Option<String>,
    id: &RequestId,
) -> StreamableHttpPostResponse {
    let mut read = Vec::new();
    while let Some(item) = stream.next().await {
        let Ok(event) = &item else {
            read.push(item);
            break;
        };
        match event.data.as_deref() {
            None | Some("") if read.len() < PRIMING_EVENTS => read.push(item),
            Some(data) => {
                if let Some(message) = decode_tool_call_answer(data, id) {
                    // Dropping the stream reads the rest of the body (`http::DrainOnDrop`),
                    // so the connection goes back to the pool.
                    return StreamableHttpPostResponse::Json(message, session_id);
                }
                read.push(item);
                break;
            }
            None => {
                read.push(item);
                break;
            }
        }
    }
    StreamableHttpPostResponse::Sse(Box::pin(futures::stream::iter(read).chain(stream)), session_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> RequestId {
        RequestId::Number(7)
    }

    #[test]
    fn a_tool_result_for_the_same_id_is_decoded_as_a_tool_result() {
        let data =
            r#"{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"hi"}],"isError":false}}"#;
        let message = decode_tool_call_answer(data, &id()).expect("decoded");
        let ServerJsonRpcMessage::Response(response) = message else { panic!("not a response") };
        assert_eq!(response.id, id());
        let ServerResult::CallToolResult(result) = response.result else { panic!("not a tool result") };
        assert_eq!(result.is_error, Some(false));
        assert_eq!(result.content.len(), 1);
        // The same as rmcp's own decoding of the message.
        let theirs: ServerJsonRpcMessage = serde_json::from_str(data).expect("rmcp decodes it");
        assert_eq!(
            serde_json::to_value(&theirs).ok(),
            serde_json::to_value(ServerJsonRpcMessage::response(ServerResult::CallToolResult(result), id()))
                .ok()
        );
    }

    #[test]
    fn everything_else_is_left_to_rmcp() {
        let others = [
            // another request's answer
            r#"{"jsonrpc":"2.0","id":8,"result":{"content":[]}}"#,
            // an error
            r#"{"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"no such tool"}}"#,
            // a notification before the answer
            r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}"#,
            // a server request (sampling) before the answer
            r#"{"jsonrpc":"2.0","id":1,"method":"sampling/createMessage","params":{"messages":[],"maxTokens":1}}"#,
            // a result that is not complete (multi-round-trip input)
            r#"{"jsonrpc":"2.0","id":7,"result":{"resultType":"input_required","inputRequests":{}}}"#,
            // a result with none of a tool result's fields
            r#"{"jsonrpc":"2.0","id":7,"result":{}}"#,
            // not JSON-RPC 2.0
            r#"{"jsonrpc":"1.0","id":7,"result":{"content":[]}}"#,
            // an empty priming event, and garbage
            "",
            "{",
        ];
        for data in others {
            assert!(decode_tool_call_answer(data, &id()).is_none(), "{data}");
        }
    }

    fn event(data: &str) -> Result<Sse, SseError> {
        Ok(Sse { event: None, data: Some(data.to_string()), id: None, retry: None })
    }

    #[tokio::test]
    async fn a_stream_opening_with_the_answer_becomes_that_answer() {
        let answer = r#"{"jsonrpc":"2.0","id":7,"result":{"content":[]}}"#;
        let stream: SseStream = Box::pin(futures::stream::iter(vec![event(answer)]));
        let response = answer_or_stream(stream, Some("s".into()), &id()).await;
        assert!(
            matches!(response, StreamableHttpPostResponse::Json(_, Some(ref s)) if s == "s"),
            "{response:?}"
        );

        // after a priming event (an event id, no data)
        let priming =
            || Ok(Sse { event: None, data: Some(String::new()), id: Some("1".into()), retry: None });
        let stream: SseStream = Box::pin(futures::stream::iter(vec![priming(), event(answer)]));
        let response = answer_or_stream(stream, None, &id()).await;
        assert!(matches!(response, StreamableHttpPostResponse::Json(..)), "{response:?}");
    }

    #[tokio::test]
    async fn a_stream_opening_with_anything_else_is_kept_whole() {
        let progress = r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}"#;
        let answer = r#"{"jsonrpc":"2.0","id":7,"result":{"content":[]}}"#;
        let stream: SseStream = Box::pin(futures::stream::iter(vec![event(progress), event(answer)]));
        let StreamableHttpPostResponse::Sse(stream, _) = answer_or_stream(stream, None, &id()).await else {
            panic!("not a stream")
        };
        let data: Vec<_> = stream.map(|item| item.ok().and_then(|sse| sse.data)).collect().await;
        assert_eq!(data, vec![Some(progress.to_string()), Some(answer.to_string())]);

        let empty: SseStream = Box::pin(futures::stream::iter(Vec::new()));
        let StreamableHttpPostResponse::Sse(stream, _) = answer_or_stream(empty, None, &id()).await else {
            panic!("not a stream")
        };
        assert_eq!(stream.count().await, 0);
    }
}
