//! What the mock server is told to answer (a [`Reply`], provider-neutral) and how a provider
//! writes it on the wire (its [`WireScript`]).

use axum::http::HeaderMap;
use serde_json::Value;

/// How a scripted reply ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// A natural end.
    Stop,
    /// The token limit was reached.
    Length,
    /// The model asks for its tool calls.
    ToolCalls,
}

/// One tool call of a scripted reply.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptedCall {
    /// Its id (a wire without call ids leaves it out).
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// Its arguments, a JSON object.
    pub arguments: Value,
}

/// A model's answer, provider-neutral: the text in deltas, tool calls, how it ended and the
/// tokens it used. A [`WireScript`] writes it in its provider's format, whole or streamed.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The answer's text, in the deltas a stream sends it in (a whole answer joins them).
    pub text: Vec<String>,
    /// The tool calls, in order.
    pub calls: Vec<ScriptedCall>,
    /// How it ended.
    pub finish: Finish,
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
    /// The model that answered.
    pub model: String,
    /// The answer's id.
    pub id: String,
}

impl Reply {
    /// A text answer sent in these deltas, ending with [`Finish::Stop`].
    pub fn text<S: Into<String>>(deltas: impl IntoIterator<Item = S>) -> Self {
        Self {
            text: deltas.into_iter().map(Into::into).collect(),
            calls: Vec::new(),
            finish: Finish::Stop,
            input_tokens: 11,
            output_tokens: 7,
            model: "conformance-model".to_string(),
            id: "conformance-reply-1".to_string(),
        }
    }

    /// An answer calling these tools, ending with [`Finish::ToolCalls`].
    pub fn calls(calls: impl IntoIterator<Item = ScriptedCall>) -> Self {
        Self {
            calls: calls.into_iter().collect(),
            finish: Finish::ToolCalls,
            ..Self::text(Vec::<String>::new())
        }
    }

    /// This reply ending with `finish`.
    pub fn finish(mut self, finish: Finish) -> Self {
        self.finish = finish;
        self
    }

    /// This reply reporting these token counts.
    pub fn usage(mut self, input_tokens: u64, output_tokens: u64) -> Self {
        self.input_tokens = input_tokens;
        self.output_tokens = output_tokens;
        self
    }

    /// The whole text.
    pub fn joined_text(&self) -> String {
        self.text.concat()
    }
}

impl ScriptedCall {
    /// A call of `name` with `arguments`, its id `id`.
    pub fn new(id: impl Into<String>, name: impl Into<String>, arguments: Value) -> Self {
        Self { id: id.into(), name: name.into(), arguments }
    }
}

/// A request as it reached the mock server, for [`WireScript::check_request`].
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The path and query, as sent (percent-encoding kept).
    pub path_and_query: &'a str,
    /// The headers.
    pub headers: &'a HeaderMap,
    /// The body's bytes.
    pub body: &'a [u8],
}

/// How one provider writes a [`Reply`] on the wire: the only part of the suite a provider
/// supplies. Write it from the provider's documented bytes (its API reference's examples),
/// not from what its client happens to parse.
pub trait WireScript: Send + Sync + 'static {
    /// The route the client posts to, in axum's syntax: `/v1/chat/completions`, `/api/chat`,
    /// or with captures where the path names the model, `/model/{model}/{action}`.
    fn path(&self) -> &'static str;

    /// The content type of a streamed answer (`text/event-stream`, `application/x-ndjson`,
    /// `application/vnd.amazon.eventstream`).
    fn stream_content_type(&self) -> &'static str {
        "text/event-stream"
    }

    /// Whether a request asks for a stream, from its path and query and its body (default:
    /// `"stream": true` in the body; Gemini and Bedrock say it in the path).
    fn wants_stream(&self, _path_and_query: &str, request: &Value) -> bool {
        request.get("stream") == Some(&Value::Bool(true))
    }

    /// Whether the provider would take this request at all (its credentials, its signature,
    /// its required headers); `Err` says why not, and the mock refuses the request with the
    /// status [`unauthorized_status`](Self::unauthorized_status) and that reason. Default:
    /// every request is taken.
    fn check_request(&self, _request: Incoming<'_>) -> Result<(), String> {
        Ok(())
    }

    /// The body of a whole (not streamed) answer.
    fn whole(&self, reply: &Reply) -> Value;

    /// The frames of a streamed answer, in order, each with its separators (`data: …\n\n`,
    /// `…\n`, or a binary event-stream message), the provider's end marker in the last
    /// one(s). Each text delta of the reply should be a frame of its own; the suite cuts
    /// streams between frames.
    fn stream(&self, reply: &Reply) -> Vec<Vec<u8>>;

    /// One frame around raw `data` that is not valid JSON, as the stream would frame it (for
    /// the malformed-JSON case).
    fn frame(&self, data: &str) -> Vec<u8>;

    /// The provider's error body for an HTTP `status` saying `message`.
    fn error(&self, status: u16, message: &str) -> Value;

    /// Headers the provider sends with an error of this `status` (AWS names its exception
    /// in `x-amzn-ErrorType`). Default: none.
    fn error_headers(&self, _status: u16) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// The status the provider answers a refused credential with (default 401; AWS says 403).
    fn unauthorized_status(&self) -> u16 {
        401
    }

    /// The frame that reports an error of HTTP-like `status` inside a stream that has
    /// started (Bedrock's exception messages, Anthropic's `error` event), or `None` when the
    /// provider documents none (then leave the `stream_exception` case out).
    fn stream_error(&self, _status: u16, _message: &str) -> Option<Vec<u8>> {
        None
    }
}
