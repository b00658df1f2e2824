//! The Messages API's stream state machine: `message_start`, content blocks (`text_delta`,
//! `thinking_delta`, `signature_delta`, `input_json_delta`), `message_delta`, `message_stop`,
//! `ping` and `error`, as Weft updates.

use serde::Deserialize;
use serde_json::Value;
use weft_core::{ChatError, ChatResponseUpdate, Content, FinishReason, FunctionCall, Role};
use weft_provider::error::{decode_error, payload_error};
use weft_provider::sse::Event;
use weft_provider::{Step, StreamDecoder};

use crate::wire::{WireUsage, finish_reason};

/// One event's data, by its `type`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StreamEvent {
    MessageStart {
        message: StartMessage,
    },
    ContentBlockStart {
        index: u64,
        content_block: Value,
    },
    ContentBlockDelta {
        index: u64,
        delta: Delta,
    },
    ContentBlockStop {
        index: u64,
    },
    MessageDelta {
        #[serde(default)]
        delta: MessageDelta,
        #[serde(default)]
        usage: Option<WireUsage>,
    },
    MessageStop,
    Ping,
    Error,
    #[serde(other)]
    Unknown,
}

/// `message_start`'s message (its content is empty).
#[derive(Debug, Deserialize)]
struct StartMessage {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Debug, Default, Deserialize)]
struct MessageDelta {
    #[serde(default)]
    stop_reason: Option<String>,
}

/// A content block's delta.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Delta {
    #[serde(rename = "text_delta")]
    Text { text: String },
    #[serde(rename = "thinking_delta")]
    Thinking { thinking: String },
    #[serde(rename = "signature_delta")]
    Signature { signature: String },
    #[serde(rename = "input_json_delta")]
    InputJson { partial_json: String },
    #[serde(other)]
    Unknown,
}

/// A content block being streamed.
#[derive(Debug)]
enum Block {
    Text,
    Thinking { signature: String },
    ToolUse { id: String, name: String, input: String, start_input: Option<Value> },
    Other,
}

/// What a stream has said so far.
#[derive(Debug)]
pub(crate) struct MessagesStream {
    label: String,
    message_id: Option<String>,
    model: Option<String>,
    usage: Option<WireUsage>,
    stop_reason: Option<String>,
    /// Open blocks by index.
    blocks: Vec<(u64, Block)>,
    called: bool,
}

impl MessagesStream {
    pub(crate) fn new(label: &str) -> Self {
        Self {
            label: label.to_string(),
            message_id: None,
            model: None,
            usage: None,
            stop_reason: None,
            blocks: Vec::new(),
            called: false,
        }
    }

    fn update(&self, contents: Vec<Content>, finish_reason: Option<FinishReason>) -> ChatResponseUpdate {
        ChatResponseUpdate {
            role: Some(Role::Assistant),
            author_name: None,
            contents,
            message_id: self.message_id.clone(),
            response_id: self.message_id.clone(),
            model: self.model.clone(),
            finish_reason,
        }
    }

    fn emit(&self, content: Content) -> Step {
        Step::Emit(Some(self.update(vec![content], None)))
    }

    fn block_mut(&mut self, index: u64) -> Option<&mut Block> {
        self.blocks.iter_mut().find(|(at, _)| *at == index).map(|(_, block)| block)
    }

    fn on_event(&mut self, event: StreamEvent, data: &str) -> Result<Step, ChatError> {
        Ok(match event {
            StreamEvent::MessageStart { message } => {
                self.message_id = message.id.filter(|id| !id.is_empty()).or_else(|| Some(fresh_id()));
                self.model = message.model;
                self.usage = message.usage;
                Step::Emit(None)
            }
            StreamEvent::ContentBlockStart { index, content_block } => {
                let text =
                    |field: &str| content_block.get(field).and_then(Value::as_str).unwrap_or("").to_string();
                let (block, first) = match content_block.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        (Block::Text, Some(text("text")).filter(|t| !t.is_empty()).map(Content::text))
                    }
                    Some("thinking") => (
                        Block::Thinking { signature: text("signature") },
                        Some(text("thinking"))
                            .filter(|t| !t.is_empty())
                            .map(|text| Content::Reasoning { text, signature: None }),
                    ),
                    Some("tool_use") => {
                        let start_input = content_block
                            .get("input")
                            .filter(|input| input.as_object().is_some_and(|input| !input.is_empty()))
                            .cloned();
                        (
                            Block::ToolUse {
                                id: text("id"),
                                name: text("name"),
                                input: String::new(),
                                start_input,
                            },
                            None,
                        )
                    }
                    _ => (Block::Other, None),
                };
                self.blocks.push((index, block));
                match first {
                    Some(content) => self.emit(content),
                    None => Step::Emit(None),
                }
            }
            StreamEvent::ContentBlockDelta { index, delta } => match delta {
                Delta::Text { text } if !text.is_empty() => self.emit(Content::text(text)),
                Delta::Thinking { thinking } if !thinking.is_empty() => {
                    self.emit(Content::Reasoning { text: thinking, signature: None })
                }
                Delta::Signature { signature } => {
                    if let Some(Block::Thinking { signature: pending }) = self.block_mut(index) {
                        pending.push_str(&signature);
                    }
                    Step::Emit(None)
                }
                Delta::InputJson { partial_json } => {
                    if let Some(Block::ToolUse { input, .. }) = self.block_mut(index) {
                        input.push_str(&partial_json);
                    }
                    Step::Emit(None)
                }
                _ => Step::Emit(None),
            },
            StreamEvent::ContentBlockStop { index } => {
                let Some(position) = self.blocks.iter().position(|(at, _)| *at == index) else {
                    return Ok(Step::Emit(None));
                };
                match self.blocks.swap_remove(position).1 {
                    Block::Thinking { signature } if !signature.is_empty() => {
                        self.emit(Content::Reasoning { text: String::new(), signature: Some(signature) })
                    }
                    Block::ToolUse { id, name, input, start_input } => {
                        self.called = true;
                        let call = match start_input {
                            Some(arguments) if input.trim().is_empty() => {
                                FunctionCall::new(id, name, arguments)
                            }
                            _ => FunctionCall::from_raw_arguments(id, name, &input),
                        };
                        self.emit(Content::FunctionCall(call))
                    }
                    _ => Step::Emit(None),
                }
            }
            StreamEvent::MessageDelta { delta, usage } => {
                if let Some(reason) = delta.stop_reason {
                    self.stop_reason = Some(reason);
                }
                if let Some(later) = usage {
                    self.usage.get_or_insert_with(WireUsage::default).update(&later);
                }
                Step::Emit(None)
            }
            StreamEvent::MessageStop => {
                let contents =
                    self.usage.map(|usage| vec![Content::Usage(usage.to_usage())]).unwrap_or_default();
                let reason = match self.stop_reason.as_deref() {
                    Some(reason) => finish_reason(reason),
                    None if self.called => FinishReason::ToolCalls,
                    None => FinishReason::Stop,
                };
                Step::Done(Some(self.update(contents, Some(reason))))
            }
            StreamEvent::Ping | StreamEvent::Unknown => Step::Emit(None),
            StreamEvent::Error => {
                let payload: Value = serde_json::from_str(data).unwrap_or(Value::Null);
                return Err(payload_error(&self.label, &payload));
            }
        })
    }
}

impl StreamDecoder for MessagesStream {
    type Frame = Event;

    fn on_frame(&mut self, frame: Event) -> Result<Step, ChatError> {
        let data = frame.data.trim();
        if data.is_empty() {
            return Ok(Step::Emit(None));
        }
        // Decoded straight into the event type: this runs once per streamed token.
        let event: StreamEvent = serde_json::from_str(data)
            .map_err(|err| decode_error(&self.label, "a stream event", err, data.as_bytes()))?;
        self.on_event(event, data)
    }

    fn end_marker(&self) -> &'static str {
        "message_stop"
    }
}

/// An id for a message whose stream named none.
fn fresh_id() -> String {
    format!("msg_{:016x}", rand::random::<u64>())
}
