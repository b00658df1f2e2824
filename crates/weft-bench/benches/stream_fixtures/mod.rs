//! The six streamed answers the provider stream benchmarks read: 1,000 text chunks in each
//! provider's own wire format. Shared by the criterion bench (`provider_streams`) and the
//! instruction-count harness (`examples/stream_cost.rs`), so that both measure the same bytes.

#![allow(dead_code)]

/// Chunks in one streamed answer.
pub const CHUNKS: usize = 1000;

/// OpenAI Chat Completions: one `chat.completion.chunk` per text delta, then `[DONE]`.
pub fn chat_completions() -> String {
    let mut body = String::new();
    for i in 0..CHUNKS {
        body.push_str(&format!(
            "data: {{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\
             \"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"t{i} \"}},\"finish_reason\":null}}]}}\n\n"
        ));
    }
    body.push_str(
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\
         \"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    );
    body.push_str("data: [DONE]\n\n");
    body
}

/// OpenAI Responses: `response.output_text.delta` events between the item's start and the
/// response's completion.
pub fn responses() -> String {
    let mut body = String::new();
    let mut seq = 0;
    let mut event = |body: &mut String, kind: &str, data: String| {
        body.push_str(&format!("event: {kind}\ndata: {data}\n\n"));
        seq += 1;
    };
    let response = r#"{"id":"resp_1","object":"response","created_at":1,"status":"in_progress","model":"m","output":[]}"#;
    event(
        &mut body,
        "response.created",
        format!(r#"{{"type":"response.created","sequence_number":0,"response":{response}}}"#),
    );
    event(
        &mut body,
        "response.output_item.added",
        r#"{"type":"response.output_item.added","sequence_number":1,"output_index":0,"item":{"id":"msg_1","type":"message","status":"in_progress","role":"assistant","content":[]}}"#.into(),
    );
    for i in 0..CHUNKS {
        event(
            &mut body,
            "response.output_text.delta",
            format!(
                r#"{{"type":"response.output_text.delta","sequence_number":{},"item_id":"msg_1","output_index":0,"content_index":0,"delta":"t{i} "}}"#,
                i + 2
            ),
        );
    }
    let done = r#"{"id":"resp_1","object":"response","created_at":1,"status":"completed","model":"m","output":[],"usage":{"input_tokens":1,"output_tokens":1000,"total_tokens":1001}}"#;
    event(
        &mut body,
        "response.completed",
        format!(r#"{{"type":"response.completed","sequence_number":{},"response":{done}}}"#, CHUNKS + 2),
    );
    body
}

/// Anthropic Messages: `content_block_delta` text deltas inside one text block.
pub fn anthropic_messages() -> String {
    let mut body = String::new();
    let mut event = |kind: &str, data: &str| body.push_str(&format!("event: {kind}\ndata: {data}\n\n"));
    event(
        "message_start",
        r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}}"#,
    );
    event(
        "content_block_start",
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
    );
    for i in 0..CHUNKS {
        event(
            "content_block_delta",
            &format!(
                r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"t{i} "}}}}"#
            ),
        );
    }
    event("content_block_stop", r#"{"type":"content_block_stop","index":0}"#);
    event(
        "message_delta",
        r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":1000}}"#,
    );
    event("message_stop", r#"{"type":"message_stop"}"#);
    body
}

/// Gemini `streamGenerateContent?alt=sse`: one `GenerateContentResponse` per text delta (with
/// the prompt's usage, as Gemini sends it on every chunk), the last with its `finishReason`.
pub fn gemini() -> String {
    let mut body = String::new();
    for i in 0..CHUNKS {
        let (finish, usage) = if i + 1 == CHUNKS {
            (
                r#","finishReason":"STOP""#,
                r#"{"promptTokenCount":1,"candidatesTokenCount":1000,"totalTokenCount":1001}"#,
            )
        } else {
            ("", r#"{"promptTokenCount":1,"totalTokenCount":1}"#)
        };
        body.push_str(&format!(
            "data: {{\"candidates\":[{{\"content\":{{\"parts\":[{{\"text\":\"t{i} \"}}],\"role\":\"model\"}},             \"index\":0{finish}}}],\"usageMetadata\":{usage},\"modelVersion\":\"m\",\"responseId\":\"r1\"}}\r\n\r\n"
        ));
    }
    body
}

/// Ollama `/api/chat`: one NDJSON line per text delta, then the `done` line with the counts.
pub fn ollama() -> String {
    let mut body = String::new();
    for i in 0..CHUNKS {
        body.push_str(&format!(
            "{{\"model\":\"m\",\"created_at\":\"2023-08-04T08:52:19.385406455-07:00\",             \"message\":{{\"role\":\"assistant\",\"content\":\"t{i} \"}},\"done\":false}}\n"
        ));
    }
    body.push_str(
        "{\"model\":\"m\",\"created_at\":\"2023-08-04T08:52:19.385406455-07:00\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},         \"done_reason\":\"stop\",\"done\":true,\"total_duration\":1,\"prompt_eval_count\":1,\"eval_count\":1000}\n",
    );
    body
}

/// Bedrock ConverseStream: binary event-stream messages, `contentBlockDelta` text deltas
/// between `messageStart` and `messageStop` + `metadata`, each JSON with AWS's `p` padding.
pub fn bedrock() -> Vec<u8> {
    use weft_provider::eventstream::{HeaderValue, Message};
    let event = |kind: &str, payload: String| {
        Message {
            headers: vec![
                (":event-type".into(), HeaderValue::String(kind.into())),
                (":content-type".into(), HeaderValue::String("application/json".into())),
                (":message-type".into(), HeaderValue::String("event".into())),
            ],
            payload: payload.into_bytes().into(),
        }
        .encode()
    };
    let p = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";
    let mut body = event("messageStart", format!(r#"{{"p":"{p}","role":"assistant"}}"#));
    for i in 0..CHUNKS {
        body.extend(event(
            "contentBlockDelta",
            format!(r#"{{"contentBlockIndex":0,"delta":{{"text":"t{i} "}},"p":"{p}"}}"#),
        ));
    }
    body.extend(event("contentBlockStop", format!(r#"{{"contentBlockIndex":0,"p":"{p}"}}"#)));
    body.extend(event("messageStop", format!(r#"{{"p":"{p}","stopReason":"end_turn"}}"#)));
    body.extend(event(
        "metadata",
        format!(r#"{{"metrics":{{"latencyMs":1}},"p":"{p}","usage":{{"inputTokens":1,"outputTokens":1000,"totalTokens":1001}}}}"#),
    ));
    body
}
