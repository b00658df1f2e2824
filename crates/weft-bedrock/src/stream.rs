//! ConverseStream's state machine: `messageStart`, `contentBlockStart/Delta/Stop` (text, tool
//! use input, reasoning), `messageStop`, `metadata`, and exception messages, as Weft updates.

use serde::Deserialize;
use serde_json::Value;
use weft_core::{ChatError, ChatResponseUpdate, Content, FinishReason, FunctionCall, Role};
use weft_provider::error::decode_error;
use weft_provider::eventstream::Message;
use weft_provider::{Step, StreamDecoder};

use crate::wire::{WireUsage, exception_error, finish_reason};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockStart {
    #[serde(default)]
    content_block_index: u64,
    #[serde(default)]
    start: Value,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockDelta {
    #[serde(default)]
    content_block_index: u64,
    #[serde(default)]
    delta: Delta,
}

/// A block's delta: one of `text`, `toolUse.input`, `reasoningContent.{text, signature}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Delta {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    tool_use: Option<ToolUseDelta>,
    #[serde(default)]
    reasoning_content: Option<ReasoningDelta>,
}

#[derive(Debug, Deserialize)]
struct ToolUseDelta {
    #[serde(default)]
    input: String,
}

#[derive(Debug, Deserialize)]
struct ReasoningDelta {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    signature: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockStop {
    #[serde(default)]
    content_block_index: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageStop {
    #[serde(default)]
    stop_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    #[serde(default)]
    usage: Option<WireUsage>,
}

/// A content block being streamed.
#[derive(Debug)]
enum Block {
    Reasoning { signature: String },
    ToolUse { id: String, name: String, input: String },
}

/// What a stream has said so far.
#[derive(Debug)]
pub(crate) struct ConverseStream {
    label: String,
    message_id: String,
    model: String,
    /// Open tool-use and reasoning blocks, by index.
    blocks: Vec<(u64, Block)>,
    stop_reason: Option<String>,
    stopped: bool,
    usage: Option<WireUsage>,
    called: bool,
}

impl ConverseStream {
    pub(crate) fn new(label: &str, model: &str) -> Self {
        Self {
            label: label.to_string(),
            message_id: format!("msg_{:016x}", rand::random::<u64>()),
            model: model.to_string(),
            blocks: Vec::new(),
            stop_reason: None,
            stopped: false,
            usage: None,
            called: false,
        }
    }

    fn update(&self, contents: Vec<Content>, finish_reason: Option<FinishReason>) -> ChatResponseUpdate {
        ChatResponseUpdate {
            role: Some(Role::Assistant),
            author_name: None,
            contents,
            message_id: Some(self.message_id.clone()),
            response_id: Some(self.message_id.clone()),
            model: Some(self.model.clone()),
            finish_reason,
        }
    }

    fn emit(&self, content: Content) -> Step {
        Step::Emit(Some(self.update(vec![content], None)))
    }

    fn block_mut(&mut self, index: u64) -> Option<&mut Block> {
        self.blocks.iter_mut().find(|(at, _)| *at == index).map(|(_, block)| block)
    }

    fn parse<T: serde::de::DeserializeOwned>(&self, message: &Message) -> Result<T, ChatError> {
        serde_json::from_slice(&message.payload)
            .map_err(|err| decode_error(&self.label, "a stream event", err, &message.payload))
    }

    /// The last update (usage and finish reason), once both `messageStop` and `metadata` came.
    fn finish(&self) -> Step {
        if !self.stopped || self.usage.is_none() {
            return Step::Emit(None);
        }
        let contents = self.usage.map(|usage| vec![Content::Usage(usage.to_usage())]).unwrap_or_default();
        let reason = match self.stop_reason.as_deref() {
            Some(reason) => finish_reason(reason),
            None if self.called => FinishReason::ToolCalls,
            None => FinishReason::Stop,
        };
        Step::Done(Some(self.update(contents, Some(reason))))
    }

    fn on_event(&mut self, event: &str, message: &Message) -> Result<Step, ChatError> {
        Ok(match event {
            "contentBlockStart" => {
                let start: BlockStart = self.parse(message)?;
                if let Some(tool) = start.start.get("toolUse") {
                    let text =
                        |field: &str| tool.get(field).and_then(Value::as_str).unwrap_or("").to_string();
                    let block =
                        Block::ToolUse { id: text("toolUseId"), name: text("name"), input: String::new() };
                    self.blocks.push((start.content_block_index, block));
                }
                Step::Emit(None)
            }
            "contentBlockDelta" => {
                let BlockDelta { content_block_index: index, delta } = self.parse(message)?;
                if let Some(text) = delta.text.filter(|text| !text.is_empty()) {
                    return Ok(self.emit(Content::text(text)));
                }
                if let Some(ToolUseDelta { input: partial }) = delta.tool_use {
                    if let Some(Block::ToolUse { input, .. }) = self.block_mut(index) {
                        input.push_str(&partial);
                    }
                    return Ok(Step::Emit(None));
                }
                let Some(reasoning) = delta.reasoning_content else { return Ok(Step::Emit(None)) };
                if self.block_mut(index).is_none() {
                    self.blocks.push((index, Block::Reasoning { signature: String::new() }));
                }
                if let Some(signature) = reasoning.signature
                    && let Some(Block::Reasoning { signature: pending }) = self.block_mut(index)
                {
                    pending.push_str(&signature);
                }
                match reasoning.text.filter(|text| !text.is_empty()) {
                    Some(text) => self.emit(Content::Reasoning { text, signature: None }),
                    None => Step::Emit(None),
                }
            }
            "contentBlockStop" => {
                let stop: BlockStop = self.parse(message)?;
                let Some(position) = self.blocks.iter().position(|(at, _)| *at == stop.content_block_index)
                else {
                    return Ok(Step::Emit(None));
                };
                match self.blocks.swap_remove(position).1 {
                    Block::Reasoning { signature } if !signature.is_empty() => {
                        self.emit(Content::Reasoning { text: String::new(), signature: Some(signature) })
                    }
                    Block::Reasoning { .. } => Step::Emit(None),
                    Block::ToolUse { id, name, input } => {
                        self.called = true;
                        let input = if input.trim().is_empty() { "{}" } else { input.as_str() };
                        self.emit(Content::FunctionCall(FunctionCall::from_raw_arguments(id, name, input)))
                    }
                }
            }
            "messageStop" => {
                let stop: MessageStop = self.parse(message)?;
                self.stop_reason = stop.stop_reason;
                self.stopped = true;
                self.finish()
            }
            "metadata" => {
                let metadata: Metadata = self.parse(message)?;
                self.usage = Some(metadata.usage.unwrap_or_default());
                self.finish()
            }
            // `messageStart` (its role is always the assistant's) and events Weft does not use.
            _ => Step::Emit(None),
        })
    }
}

impl StreamDecoder for ConverseStream {
    type Frame = Message;

    fn on_frame(&mut self, message: Message) -> Result<Step, ChatError> {
        match message.header_str(":message-type").unwrap_or("event") {
            "exception" => {
                let exception = message.header_str(":exception-type").unwrap_or("InternalServerException");
                let payload: Value = serde_json::from_slice(&message.payload).unwrap_or(Value::Null);
                let text = payload
                    .get("message")
                    .or_else(|| payload.get("Message"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                Err(exception_error(&self.label, exception, text))
            }
            "error" => {
                let code = message.header_str(":error-code").unwrap_or("InternalServerException");
                let text = message.header_str(":error-message").map(str::to_string);
                Err(exception_error(&self.label, code, text))
            }
            _ => {
                let event = message.header_str(":event-type").unwrap_or("").to_string();
                self.on_event(&event, &message)
            }
        }
    }

    fn end_marker(&self) -> &'static str {
        "messageStop and metadata"
    }
}
