//! Server-sent events, bounded: a size limit on lines and on events (the deadlines are
//! [`crate::framing::frames`]'s).
//!
//! The framing is parsed here rather than with `eventsource-stream`: its nom-based parser cost
//! about 5,700 instructions per event (15% of a streamed run's client CPU in benchmark W4, a
//! 5,000-token stream), while SSE framing is a few lines: split on line ends, collect `event:`
//! and `data:` fields, dispatch on a blank line (<https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation>).

use bytes::{Buf, BytesMut};

/// One server-sent event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    /// The `event:` field (empty when absent).
    pub event: String,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// The default size limit of one line and of one event's data ([`SseParser::with_max_event_bytes`]).
pub const DEFAULT_MAX_EVENT_BYTES: usize = 8 * 1024 * 1024;

/// Why an event stream could not be parsed. After an error the parser should be dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SseError {
    /// A line is not valid UTF-8.
    #[error("invalid event stream: {0}")]
    Utf8(#[from] std::str::Utf8Error),
    /// A line, or the data of one event, is larger than the parser's limit.
    #[error("an SSE {what} exceeded the {} limit", human_size(*.limit))]
    TooLarge {
        /// `line` or `event`.
        what: &'static str,
        /// The limit, in bytes.
        limit: usize,
    },
}

use weft_core::size::human_size;

/// Incremental SSE parser: feed bytes, take complete events.
///
/// A line, or an event's data, larger than the limit ([`DEFAULT_MAX_EVENT_BYTES`] unless set
/// with [`with_max_event_bytes`](Self::with_max_event_bytes)) is an error, so a body that never
/// ends a line cannot grow the buffer without bound.
///
/// ```
/// let mut parser = weft_provider::sse::SseParser::default();
/// parser.feed(b"data: {\"a\":1}\n\ndata: [DO");
/// assert_eq!(parser.next_event().unwrap().unwrap().data, "{\"a\":1}");
/// assert!(parser.next_event().unwrap().is_none());
/// ```
#[derive(Debug)]
pub struct SseParser {
    buffer: BytesMut,
    /// How many bytes at the start of `buffer` are known to hold no line end (so a long line
    /// arriving in many pieces is scanned once, not once per piece).
    scanned: usize,
    event: String,
    data: String,
    has_data: bool,
    /// A `\r` ended the last line: a `\n` right after it belongs to the same line end.
    after_cr: bool,
    max_event_bytes: usize,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::with_max_event_bytes(DEFAULT_MAX_EVENT_BYTES)
    }
}

impl SseParser {
    /// A parser that accepts lines and events of up to `limit` bytes.
    pub fn with_max_event_bytes(limit: usize) -> Self {
        Self {
            buffer: BytesMut::new(),
            scanned: 0,
            event: String::new(),
            data: String::new(),
            has_data: false,
            after_cr: false,
            max_event_bytes: limit,
        }
    }

    /// Adds bytes from the body.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete event, if the buffered bytes hold one. Invalid UTF-8 and a line or
    /// event over the limit are errors.
    pub fn next_event(&mut self) -> Result<Option<Event>, SseError> {
        loop {
            if self.after_cr {
                // The `\n` of a `\r\n` may arrive in the next piece: decide when it is here.
                match self.buffer.first() {
                    None => return Ok(None),
                    Some(b'\n') => self.buffer.advance(1),
                    Some(_) => {}
                }
                self.after_cr = false;
            }
            let Some(end) = memchr::memchr2(b'\n', b'\r', &self.buffer[self.scanned..]) else {
                self.scanned = self.buffer.len();
                if self.scanned > self.max_event_bytes {
                    return Err(self.too_large("line"));
                }
                return Ok(None);
            };
            let end = self.scanned + end;
            self.scanned = 0;
            if end > self.max_event_bytes {
                return Err(self.too_large("line"));
            }
            self.after_cr = self.buffer[end] == b'\r';
            let line = self.buffer.split_to(end + 1);
            let line = std::str::from_utf8(&line[..end])?;
            if line.is_empty() {
                if self.has_data {
                    self.has_data = false;
                    let event = Event {
                        event: std::mem::take(&mut self.event),
                        data: std::mem::take(&mut self.data),
                    };
                    return Ok(Some(event));
                }
                self.event.clear();
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
                None => (line, ""),
            };
            match field {
                "data" => {
                    if self.data.len() + value.len() + 1 > self.max_event_bytes {
                        return Err(self.too_large("event"));
                    }
                    if self.has_data {
                        self.data.push('\n');
                    }
                    self.data.push_str(value);
                    self.has_data = true;
                }
                "event" => {
                    self.event.clear();
                    self.event.push_str(value);
                }
                // `id` and `retry` matter only to reconnecting browsers; unknown fields are ignored.
                _ => {}
            }
        }
    }

    fn too_large(&self, what: &'static str) -> SseError {
        SseError::TooLarge { what, limit: self.max_event_bytes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_pieces(input: &str, piece: usize) -> Vec<Event> {
        let mut parser = SseParser::default();
        let mut events = Vec::new();
        for chunk in input.as_bytes().chunks(piece) {
            parser.feed(chunk);
            while let Some(event) = parser.next_event().unwrap() {
                events.push(event);
            }
        }
        events
    }

    fn event(name: &str, data: &str) -> Event {
        Event { event: name.into(), data: data.into() }
    }

    #[test]
    fn parses_events_split_at_any_byte() {
        let input = "event: response.created\ndata: {\"a\":1}\n\n: keep-alive comment\n\ndata: x\ndata:y\n\ndata: [DONE]\n\n";
        let expected = vec![event("response.created", "{\"a\":1}"), event("", "x\ny"), event("", "[DONE]")];
        for piece in 1..input.len() {
            assert_eq!(parse_in_pieces(input, piece), expected, "pieces of {piece}");
        }
    }

    #[test]
    fn accepts_crlf_and_cr_line_ends() {
        for input in ["data: a\r\n\r\ndata: b\r\n\r\n", "data: a\r\rdata: b\r\r"] {
            for piece in 1..input.len() {
                assert_eq!(parse_in_pieces(input, piece), vec![event("", "a"), event("", "b")]);
            }
        }
    }

    #[test]
    fn an_unfinished_event_is_not_dispatched() {
        assert!(parse_in_pieces("data: {\"half\":", 4).is_empty());
        assert!(parse_in_pieces("data: whole line but no blank\n", 4).is_empty());
    }

    #[test]
    fn event_name_does_not_leak_into_the_next_event() {
        let events = parse_in_pieces("event: error\n\ndata: ok\n\n", 3);
        assert_eq!(events, vec![event("", "ok")]);
    }

    #[test]
    fn a_crlf_split_between_its_two_bytes_keeps_a_multi_line_event_whole() {
        let input = "data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n";
        for piece in 1..input.len() {
            assert_eq!(
                parse_in_pieces(input, piece),
                vec![event("", "a\nb"), event("", "c")],
                "pieces of {piece}"
            );
        }
    }

    #[test]
    fn lines_and_events_over_the_limit_are_errors() {
        let too_large = |what| Err(SseError::TooLarge { what, limit: 16 });
        // A line that never ends, fed in pieces.
        let mut parser = SseParser::with_max_event_bytes(16);
        parser.feed(b"data: 0123456789");
        assert_eq!(parser.next_event(), Ok(None));
        parser.feed(b"abcdef");
        assert_eq!(parser.next_event(), too_large("line"));
        // A whole line over the limit in one piece.
        let mut parser = SseParser::with_max_event_bytes(16);
        parser.feed(b"data: 0123456789abcdef\n\n");
        assert_eq!(parser.next_event(), too_large("line"));
        // Short lines adding up to an event over the limit.
        let mut parser = SseParser::with_max_event_bytes(16);
        parser.feed(b"data: 01234\ndata: 56789\ndata: abcde\n");
        assert_eq!(parser.next_event(), too_large("event"));
        // At the limit is fine: an event's data of 16 bytes.
        let mut parser = SseParser::with_max_event_bytes(16);
        parser.feed(b"data:0123456\ndata:01234567\n\n");
        assert_eq!(parser.next_event().unwrap().unwrap().data.len(), 16);
        assert_eq!(
            SseError::TooLarge { what: "line", limit: DEFAULT_MAX_EVENT_BYTES }.to_string(),
            "an SSE line exceeded the 8 MiB limit"
        );
        assert_eq!(human_size(64 * 1024), "64 KiB");
        assert_eq!(human_size(1000), "1000 bytes");
    }
}
