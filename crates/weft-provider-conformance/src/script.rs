//! What the mock server is told to answer (a [`Reply`], provider-neutral) and how a provider
//! writes it on the wire (its [`WireScript`]).

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

/// How one provider writes a [`Reply`] on the wire: the only part of the suite a provider
/// supplies. Write it from the provider's documented bytes (its API reference's examples),
/// not from what its client happens to parse.
pub trait WireScript: Send + Sync + 'static {
    /// The path the client posts to, e.g. `/v1/chat/completions` or `/api/chat`.
    fn path(&self) -> &'static str;

    /// The content type of a streamed answer (`text/event-stream`, `application/x-ndjson`).
    fn stream_content_type(&self) -> &'static str {
        "text/event-stream"
    }

    /// Whether a request body asks for a stream (default: `"stream": true`).
    fn wants_stream(&self, request: &Value) -> bool {
        request.get("stream") == Some(&Value::Bool(true))
    }

    /// The body of a whole (not streamed) answer.
    fn whole(&self, reply: &Reply) -> Value;

    /// The frames of a streamed answer, in order, each with its separators (`data: …\n\n`,
    /// `…\n`), the provider's end marker in the last one(s). Each text delta of the reply
    /// should be a frame of its own; the suite cuts streams between frames.
    fn stream(&self, reply: &Reply) -> Vec<String>;

    /// One frame around raw `data` that is not valid JSON, as the stream would frame it (for
    /// the malformed-JSON case).
    fn frame(&self, data: &str) -> String;

    /// The provider's error body for an HTTP `status` saying `message`.
    fn error(&self, status: u16, message: &str) -> Value;
}
