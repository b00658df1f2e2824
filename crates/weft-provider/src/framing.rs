//! A response body cut into frames (server-sent events, NDJSON lines), bounded in time: an idle
//! deadline between frames and the attempt's total deadline.

use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio::time::Instant;
use weft_core::{ChatError, ChatErrorKind};

use crate::deadline::Deadline;
use crate::error::{timeout_error, transport_error};
use crate::eventstream::{EventStreamError, EventStreamParser, Message};
use crate::ndjson::{NdjsonError, NdjsonParser};
use crate::sse::{Event, SseError, SseParser};

/// An incremental parser of one framing: feed it bytes, take complete frames.
pub trait Framing: Send + 'static {
    /// One frame.
    type Frame: Send + 'static;
    /// Why the bytes could not be parsed.
    type Error: std::error::Error + Send + Sync + 'static;
    /// A parser whose lines and frames may hold up to `max_frame_bytes` bytes.
    fn with_limit(max_frame_bytes: usize) -> Self;
    /// Adds bytes from the body.
    fn feed(&mut self, bytes: &[u8]);
    /// The next complete frame, if the buffered bytes hold one.
    fn next_frame(&mut self) -> Result<Option<Self::Frame>, Self::Error>;
    /// Whether an error is a size limit (reported as
    /// [`ResponseTooLarge`](ChatErrorKind::ResponseTooLarge)) rather than bad bytes.
    fn is_too_large(error: &Self::Error) -> bool;
}

impl Framing for SseParser {
    type Frame = Event;
    type Error = SseError;
    fn with_limit(max_frame_bytes: usize) -> Self {
        SseParser::with_max_event_bytes(max_frame_bytes)
    }
    fn feed(&mut self, bytes: &[u8]) {
        SseParser::feed(self, bytes);
    }
    fn next_frame(&mut self) -> Result<Option<Event>, SseError> {
        self.next_event()
    }
    fn is_too_large(error: &SseError) -> bool {
        matches!(error, SseError::TooLarge { .. })
    }
}

impl Framing for NdjsonParser {
    type Frame = String;
    type Error = NdjsonError;
    fn with_limit(max_frame_bytes: usize) -> Self {
        NdjsonParser::with_max_line_bytes(max_frame_bytes)
    }
    fn feed(&mut self, bytes: &[u8]) {
        NdjsonParser::feed(self, bytes);
    }
    fn next_frame(&mut self) -> Result<Option<String>, NdjsonError> {
        self.next_line()
    }
    fn is_too_large(error: &NdjsonError) -> bool {
        matches!(error, NdjsonError::TooLarge { .. })
    }
}

impl Framing for EventStreamParser {
    type Frame = Message;
    type Error = EventStreamError;
    fn with_limit(max_frame_bytes: usize) -> Self {
        EventStreamParser::with_max_message_bytes(max_frame_bytes)
    }
    fn feed(&mut self, bytes: &[u8]) {
        EventStreamParser::feed(self, bytes);
    }
    fn next_frame(&mut self) -> Result<Option<Message>, EventStreamError> {
        self.next_message()
    }
    fn is_too_large(error: &EventStreamError) -> bool {
        matches!(error, EventStreamError::TooLarge { .. })
    }
}

/// What bounds a stream: its idle time, its end, and the size of its frames.
#[derive(Debug, Clone, Copy)]
pub struct StreamLimits {
    /// The longest wait for the next frame; bytes that make no frame (keep-alive comments)
    /// do not count.
    pub idle: Duration,
    /// When the whole attempt must be over (its start plus the request timeout).
    pub total_at: Instant,
    /// The request timeout, for messages.
    pub total: Duration,
    /// The largest line or frame.
    pub max_frame_bytes: usize,
    /// The builder whose settings raise the limits, for messages (`OpenAIBuilder`).
    pub settings: &'static str,
}

/// The frames of `response`'s body. Yields an error and ends when the body fails, cannot be
/// parsed, has a line or frame over the size limit, makes no frame for `limits.idle`, or
/// outlives `limits.total_at`; simply ends when the body ends (the caller decides whether its
/// end marker was seen). Dropping the stream drops the response, closing the connection.
/// `deadline` (the attempt's, whose timer is reused) is moved after each batch of frames, not
/// after each read: keep-alive comments do not extend the stream's life.
pub fn frames<F: Framing>(
    response: reqwest::Response,
    mut deadline: Deadline,
    limits: StreamLimits,
    label: String,
    url: String,
) -> impl Stream<Item = Result<F::Frame, ChatError>> + Send + 'static {
    async_stream::stream! {
        let mut body = Box::pin(response.bytes_stream());
        let mut parser = F::with_limit(limits.max_frame_bytes);
        let mut idle_at = Instant::now() + limits.idle;
        let settings = limits.settings;
        deadline.reset(idle_at.min(limits.total_at));
        loop {
            let mut dispatched = false;
            loop {
                match parser.next_frame() {
                    Ok(Some(frame)) => {
                        dispatched = true;
                        yield Ok(frame);
                    }
                    Ok(None) => break,
                    Err(err) => {
                        yield Err(parse_error::<F>(&label, &url, settings, err));
                        return;
                    }
                }
            }
            if dispatched {
                idle_at = Instant::now() + limits.idle;
                deadline.reset(idle_at.min(limits.total_at));
            }
            match deadline.run(body.next()).await {
                Err(_) if idle_at < limits.total_at => {
                    yield Err(timeout_error(
                        &label,
                        format!(
                            "no stream event from {url} for {:?} (the stream idle timeout; keep-alive \
                             comments do not count; raise it with {settings}::stream_idle_timeout)",
                            limits.idle
                        ),
                    ));
                    return;
                }
                Err(_) => {
                    yield Err(timeout_error(
                        &label,
                        format!(
                            "the stream from {url} did not finish within {:?} (the request timeout, \
                             which bounds a whole stream; raise it with {settings}::timeout)",
                            limits.total
                        ),
                    ));
                    return;
                }
                Ok(None) => return,
                Ok(Some(Ok(bytes))) => parser.feed(&bytes),
                Ok(Some(Err(err))) => {
                    yield Err(transport_error(&label, &url, err));
                    return;
                }
            }
        }
    }
}

/// A parse failure as a [`ChatError`]: a size limit is
/// [`ResponseTooLarge`](ChatErrorKind::ResponseTooLarge) naming the setting, bad bytes a
/// decode error.
fn parse_error<F: Framing>(label: &str, url: &str, settings: &str, err: F::Error) -> ChatError {
    if F::is_too_large(&err) {
        ChatError::new(
            ChatErrorKind::ResponseTooLarge,
            format!("{err} (from {url}; raise it with {settings}::max_event_bytes)"),
        )
    } else {
        ChatError::new(ChatErrorKind::Decode, err.to_string()).with_source(err)
    }
    .with_provider(label)
}
