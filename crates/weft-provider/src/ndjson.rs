//! Newline-delimited JSON (one JSON value a line, as Ollama's `/api/chat` streams), bounded:
//! a size limit on lines. Blank lines are skipped; a final line without its `\n` is not
//! dispatched (the caller sees the stream end early).

use bytes::BytesMut;
use weft_core::size::human_size;

/// Why an NDJSON body could not be parsed. After an error the parser should be dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NdjsonError {
    /// A line is not valid UTF-8.
    #[error("invalid NDJSON stream: {0}")]
    Utf8(#[from] std::str::Utf8Error),
    /// A line is larger than the parser's limit.
    #[error("an NDJSON line exceeded the {} limit", human_size(*.limit))]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

/// Incremental NDJSON line splitter: feed bytes, take complete lines (without their line end).
///
/// ```
/// let mut parser = weft_provider::ndjson::NdjsonParser::with_max_line_bytes(1024);
/// parser.feed(b"{\"a\":1}\r\n\n{\"b\"");
/// assert_eq!(parser.next_line().unwrap().as_deref(), Some("{\"a\":1}"));
/// assert_eq!(parser.next_line().unwrap(), None);
/// ```
#[derive(Debug)]
pub struct NdjsonParser {
    buffer: BytesMut,
    /// How many bytes at the start of `buffer` are known to hold no `\n`.
    scanned: usize,
    max_line_bytes: usize,
}

impl NdjsonParser {
    /// A parser that accepts lines of up to `limit` bytes.
    pub fn with_max_line_bytes(limit: usize) -> Self {
        Self { buffer: BytesMut::new(), scanned: 0, max_line_bytes: limit }
    }

    /// Adds bytes from the body.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete, non-blank line, if the buffered bytes hold one.
    pub fn next_line(&mut self) -> Result<Option<String>, NdjsonError> {
        loop {
            let Some(end) = memchr::memchr(b'\n', &self.buffer[self.scanned..]) else {
                self.scanned = self.buffer.len();
                if self.scanned > self.max_line_bytes {
                    return Err(NdjsonError::TooLarge { limit: self.max_line_bytes });
                }
                return Ok(None);
            };
            let end = self.scanned + end;
            self.scanned = 0;
            if end > self.max_line_bytes {
                return Err(NdjsonError::TooLarge { limit: self.max_line_bytes });
            }
            let line = self.buffer.split_to(end + 1);
            let text = std::str::from_utf8(&line[..end])?.trim();
            if !text.is_empty() {
                return Ok(Some(text.to_string()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_at_any_byte() {
        let input = "{\"a\":1}\n\n{\"b\":2}\r\n{\"c\":3}\n{\"unfinished\"";
        for piece in 1..input.len() {
            let mut parser = NdjsonParser::with_max_line_bytes(64);
            let mut lines = Vec::new();
            for chunk in input.as_bytes().chunks(piece) {
                parser.feed(chunk);
                while let Some(line) = parser.next_line().unwrap() {
                    lines.push(line);
                }
            }
            assert_eq!(lines, ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"], "pieces of {piece}");
        }
    }

    #[test]
    fn a_line_over_the_limit_is_an_error() {
        let mut parser = NdjsonParser::with_max_line_bytes(8);
        parser.feed(b"0123456789");
        assert_eq!(parser.next_line(), Err(NdjsonError::TooLarge { limit: 8 }));
        let mut parser = NdjsonParser::with_max_line_bytes(8);
        parser.feed(b"01234567\n");
        assert_eq!(parser.next_line().unwrap().as_deref(), Some("01234567"));
        let mut parser = NdjsonParser::with_max_line_bytes(8);
        parser.feed(b"\xff\n");
        assert!(matches!(parser.next_line(), Err(NdjsonError::Utf8(_))));
    }
}
