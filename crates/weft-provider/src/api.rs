//! One chat API over HTTP, as a provider describes it (its request body, its whole answer, its
//! stream's frames), and the calls the driver makes of it: [`respond`] and [`stream`].

use std::sync::Arc;

use futures::StreamExt;
use weft_core::{ChatError, ChatRequest, ChatResponse, ChatResponseUpdate, ChatStream};

use crate::driver::{Driver, Opened, Request};
use crate::error::stream_ended;
use crate::framing::Framing;

/// What one frame of a stream meant.
#[derive(Debug)]
pub enum Step {
    /// More to come; emit this update (if any) now.
    Emit(Option<ChatResponseUpdate>),
    /// More to come; emit these updates now.
    EmitAll(Vec<ChatResponseUpdate>),
    /// The stream's end marker: emit this last update (if any) and stop.
    Done(Option<ChatResponseUpdate>),
    /// The stream's end marker: emit these last updates and stop.
    DoneAll(Vec<ChatResponseUpdate>),
}

/// Turns the frames of one streamed answer into Weft updates: a provider's stream state
/// machine.
pub trait StreamDecoder: Send + 'static {
    /// The frames it reads (an SSE event, an NDJSON line).
    type Frame: Send + 'static;
    /// Takes one frame. An error (a provider's error event, a frame that does not decode)
    /// ends the stream.
    fn on_frame(&mut self, frame: Self::Frame) -> Result<Step, ChatError>;
    /// What the stream must end with, for the message when it ends without it
    /// (`data: [DONE]`, `message_stop`).
    fn end_marker(&self) -> &'static str;
}

/// A chat API over HTTP: what a provider supplies so that the driver can call it.
pub trait HttpChatApi: Send + Sync + 'static {
    /// How its streams are framed.
    type Framing: Framing;
    /// Its stream state machine.
    type Decoder: StreamDecoder<Frame = <Self::Framing as Framing>::Frame>;
    /// The content type of its streams (`text/event-stream`).
    const STREAM_CONTENT_TYPE: &'static str = "text/event-stream";
    /// The driver that sends its requests.
    fn driver(&self) -> &Driver;
    /// The HTTP request for `request`, streamed or not.
    fn prepare(&self, request: &ChatRequest, stream: bool) -> Result<Request<'_>, ChatError>;
    /// Decodes a whole answer to `request`.
    fn parse_whole(&self, label: &str, body: &[u8], request: &ChatRequest)
    -> Result<ChatResponse, ChatError>;
    /// A fresh state machine for the stream answering `request`.
    fn decoder(&self, label: &str, request: &ChatRequest) -> Self::Decoder;
}

/// Sends `request` and decodes the whole answer.
pub async fn respond<A: HttpChatApi>(api: &A, request: ChatRequest) -> Result<ChatResponse, ChatError> {
    let prepared = api.prepare(&request, false)?;
    let body = api.driver().fetch(&prepared).await?;
    api.parse_whole(prepared.label, &body, &request).map_err(|err| api.driver().redact(err))
}

/// Sends `request` streamed and yields its updates. A server that answers in one piece is
/// folded into updates; a stream that ends without its end marker fails with a
/// [`StreamEnded`](weft_core::ChatErrorKind::StreamEnded) error. Every error has the
/// driver's secrets masked. Nothing is spawned: dropping the stream closes the connection.
pub fn stream<A: HttpChatApi>(api: Arc<A>, request: ChatRequest) -> ChatStream {
    let redacting = api.driver().clone();
    async_stream::stream! {
        let prepared = match api.prepare(&request, true) {
            Ok(prepared) => prepared,
            Err(err) => {
                yield Err(err);
                return;
            }
        };
        let label = prepared.label;
        let mut frames = match api.driver().open_stream::<A::Framing>(&prepared, A::STREAM_CONTENT_TYPE).await {
            Ok(Opened::Frames(frames)) => frames,
            Ok(Opened::Whole(body)) => {
                match api.parse_whole(label, &body, &request) {
                    Ok(response) => {
                        for update in response.into_updates() {
                            yield Ok(update);
                        }
                    }
                    Err(err) => yield Err(err),
                }
                return;
            }
            Err(err) => {
                yield Err(err);
                return;
            }
        };
        let mut decoder = api.decoder(label, &request);
        while let Some(frame) = frames.next().await {
            let step = frame.and_then(|frame| decoder.on_frame(frame));
            match step {
                Ok(Step::Emit(Some(update))) => yield Ok(update),
                Ok(Step::Emit(None)) => {}
                Ok(Step::EmitAll(updates)) => {
                    for update in updates {
                        yield Ok(update);
                    }
                }
                Ok(Step::Done(update)) => {
                    if let Some(update) = update {
                        yield Ok(update);
                    }
                    return;
                }
                Ok(Step::DoneAll(updates)) => {
                    for update in updates {
                        yield Ok(update);
                    }
                    return;
                }
                Err(err) => {
                    yield Err(err);
                    return;
                }
            }
        }
        yield Err(stream_ended(label, decoder.end_marker()));
    }
    .map(move |item: Result<ChatResponseUpdate, ChatError>| item.map_err(|err| redacting.redact(err)))
    .boxed()
}
