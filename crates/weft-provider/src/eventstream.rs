//! The AWS event-stream binary framing (`application/vnd.amazon.eventstream`, Bedrock's
//! ConverseStream and InvokeModelWithResponseStream), bounded: a size limit on messages.
//!
//! One message is a 12-byte prelude (total length, headers length, both big-endian `u32`, and
//! the CRC-32 of those 8 bytes), the headers, the payload, and the CRC-32 of everything before
//! it (<https://docs.aws.amazon.com/transcribe/latest/dg/streaming-setting-up.html#streaming-event-stream>).
//!
//! Parsed here rather than with `aws-smithy-eventstream`: that crate brings the smithy runtime
//! types (`aws-smithy-types`) into this shared driver, which every provider (and every user of
//! the OpenAI client) builds, for what is 100 lines of length prefixes and two checksums.

use bytes::{Buf, Bytes, BytesMut};
use weft_core::size::human_size;

/// The prelude: total length, headers length, prelude CRC.
const PRELUDE_BYTES: usize = 12;
/// The prelude and the message CRC: the size of a message with no headers and no payload.
const MIN_MESSAGE_BYTES: usize = PRELUDE_BYTES + 4;

/// Why an event stream could not be parsed. After an error the parser should be dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventStreamError {
    /// A message is larger than the parser's limit.
    #[error("an event-stream message of {} exceeded the {} limit", human_size(*.size), human_size(*.limit))]
    TooLarge {
        /// The size the message announced, in bytes.
        size: usize,
        /// The limit, in bytes.
        limit: usize,
    },
    /// A checksum does not match the bytes: the prelude's or the whole message's.
    #[error("invalid event stream: the {what} CRC is {actual:#010x}, the bytes say {expected:#010x}")]
    Checksum {
        /// `prelude` or `message`.
        what: &'static str,
        /// The checksum the message carries.
        actual: u32,
        /// The checksum of its bytes.
        expected: u32,
    },
    /// The lengths, a header or its value do not hold together.
    #[error("invalid event stream: {0}")]
    Malformed(String),
}

/// A header's value, by its wire type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue {
    /// Types 0 and 1.
    Bool(bool),
    /// Type 2.
    Byte(i8),
    /// Type 3.
    Int16(i16),
    /// Type 4.
    Int32(i32),
    /// Type 5.
    Int64(i64),
    /// Type 6.
    Bytes(Bytes),
    /// Type 7.
    String(String),
    /// Type 8: milliseconds since the Unix epoch.
    Timestamp(i64),
    /// Type 9.
    Uuid([u8; 16]),
}

/// One event-stream message: its headers (`:message-type`, `:event-type`, `:exception-type`,
/// `:content-type` …) and its payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// The headers, in their order.
    pub headers: Vec<(String, HeaderValue)>,
    /// The payload (JSON for Bedrock).
    pub payload: Bytes,
}

impl Message {
    /// The value of the string header `name`, if there is one.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|(key, value)| match value {
            HeaderValue::String(text) if key == name => Some(text.as_str()),
            _ => None,
        })
    }

    /// This message as bytes on the wire, CRCs included (for tests and mocks).
    pub fn encode(&self) -> Vec<u8> {
        let mut headers = Vec::new();
        for (name, value) in &self.headers {
            headers.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
            headers.extend_from_slice(name.as_bytes());
            match value {
                HeaderValue::Bool(true) => headers.push(0),
                HeaderValue::Bool(false) => headers.push(1),
                HeaderValue::Byte(byte) => {
                    headers.push(2);
                    headers.extend_from_slice(&byte.to_be_bytes());
                }
                HeaderValue::Int16(value) => {
                    headers.push(3);
                    headers.extend_from_slice(&value.to_be_bytes());
                }
                HeaderValue::Int32(value) => {
                    headers.push(4);
                    headers.extend_from_slice(&value.to_be_bytes());
                }
                HeaderValue::Int64(value) => {
                    headers.push(5);
                    headers.extend_from_slice(&value.to_be_bytes());
                }
                HeaderValue::Bytes(bytes) => {
                    headers.push(6);
                    headers.extend_from_slice(&u16::try_from(bytes.len()).unwrap_or(u16::MAX).to_be_bytes());
                    headers.extend_from_slice(bytes);
                }
                HeaderValue::String(text) => {
                    headers.push(7);
                    headers.extend_from_slice(&u16::try_from(text.len()).unwrap_or(u16::MAX).to_be_bytes());
                    headers.extend_from_slice(text.as_bytes());
                }
                HeaderValue::Timestamp(millis) => {
                    headers.push(8);
                    headers.extend_from_slice(&millis.to_be_bytes());
                }
                HeaderValue::Uuid(uuid) => {
                    headers.push(9);
                    headers.extend_from_slice(uuid);
                }
            }
        }
        let total = MIN_MESSAGE_BYTES + headers.len() + self.payload.len();
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&u32::try_from(total).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(&u32::try_from(headers.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(&crc32fast::hash(&out).to_be_bytes());
        out.extend_from_slice(&headers);
        out.extend_from_slice(&self.payload);
        out.extend_from_slice(&crc32fast::hash(&out).to_be_bytes());
        out
    }
}

/// Incremental event-stream parser: feed bytes, take complete messages, each checked against
/// its two CRCs.
///
/// A message announcing more than the limit is an error as soon as its prelude arrives (it is
/// never buffered); a prelude whose CRC does not match is an error before its lengths are
/// trusted.
///
/// ```
/// use weft_provider::eventstream::{EventStreamParser, HeaderValue, Message};
/// let message = Message {
///     headers: vec![(":event-type".into(), HeaderValue::String("messageStop".into()))],
///     payload: br#"{"stopReason":"end_turn"}"#.to_vec().into(),
/// };
/// let bytes = message.encode();
/// let mut parser = EventStreamParser::with_max_message_bytes(1024);
/// parser.feed(&bytes[..10]);
/// assert_eq!(parser.next_message().unwrap(), None);
/// parser.feed(&bytes[10..]);
/// assert_eq!(parser.next_message().unwrap(), Some(message));
/// ```
#[derive(Debug)]
pub struct EventStreamParser {
    buffer: BytesMut,
    max_message_bytes: usize,
}

impl EventStreamParser {
    /// A parser that accepts messages of up to `limit` bytes.
    pub fn with_max_message_bytes(limit: usize) -> Self {
        Self { buffer: BytesMut::new(), max_message_bytes: limit }
    }

    /// Adds bytes from the body.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Whether bytes of an unfinished message are buffered (a body that ends now was cut).
    pub fn has_partial_message(&self) -> bool {
        !self.buffer.is_empty()
    }

    /// The next complete message, if the buffered bytes hold one.
    pub fn next_message(&mut self) -> Result<Option<Message>, EventStreamError> {
        if self.buffer.len() < PRELUDE_BYTES {
            return Ok(None);
        }
        let total = be_u32(&self.buffer[0..4]) as usize;
        let headers_len = be_u32(&self.buffer[4..8]) as usize;
        let prelude_crc = be_u32(&self.buffer[8..12]);
        let expected = crc32fast::hash(&self.buffer[..8]);
        if prelude_crc != expected {
            return Err(EventStreamError::Checksum { what: "prelude", actual: prelude_crc, expected });
        }
        if total > self.max_message_bytes {
            return Err(EventStreamError::TooLarge { size: total, limit: self.max_message_bytes });
        }
        if total < MIN_MESSAGE_BYTES || headers_len > total - MIN_MESSAGE_BYTES {
            return Err(EventStreamError::Malformed(format!(
                "a message of {total} bytes cannot hold {headers_len} bytes of headers"
            )));
        }
        if self.buffer.len() < total {
            return Ok(None);
        }
        let mut message = self.buffer.split_to(total).freeze();
        let message_crc = be_u32(&message[total - 4..]);
        let expected = crc32fast::hash(&message[..total - 4]);
        if message_crc != expected {
            return Err(EventStreamError::Checksum { what: "message", actual: message_crc, expected });
        }
        message.advance(PRELUDE_BYTES);
        let headers = parse_headers(message.split_to(headers_len))?;
        message.truncate(message.len() - 4);
        Ok(Some(Message { headers, payload: message }))
    }
}

fn be_u32(bytes: &[u8]) -> u32 {
    let mut word = [0; 4];
    word.copy_from_slice(&bytes[..4]);
    u32::from_be_bytes(word)
}

/// Takes `n` bytes off the front of `bytes`, or says what was cut.
fn take(bytes: &mut Bytes, n: usize, what: &str) -> Result<Bytes, EventStreamError> {
    if bytes.len() < n {
        return Err(EventStreamError::Malformed(format!("the headers end inside {what}")));
    }
    Ok(bytes.split_to(n))
}

fn take_array<const N: usize>(bytes: &mut Bytes, what: &str) -> Result<[u8; N], EventStreamError> {
    let taken = take(bytes, N, what)?;
    let mut array = [0; N];
    array.copy_from_slice(&taken);
    Ok(array)
}

fn utf8(bytes: Bytes, what: &str) -> Result<String, EventStreamError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| EventStreamError::Malformed(format!("{what} is not valid UTF-8")))
}

fn parse_headers(mut bytes: Bytes) -> Result<Vec<(String, HeaderValue)>, EventStreamError> {
    let mut headers = Vec::new();
    while !bytes.is_empty() {
        let [name_len] = take_array::<1>(&mut bytes, "a header name's length")?;
        let name = utf8(take(&mut bytes, usize::from(name_len), "a header name")?, "a header name")?;
        let [kind] = take_array::<1>(&mut bytes, "a header's type")?;
        let value = match kind {
            0 => HeaderValue::Bool(true),
            1 => HeaderValue::Bool(false),
            2 => HeaderValue::Byte(i8::from_be_bytes(take_array(&mut bytes, "a byte header")?)),
            3 => HeaderValue::Int16(i16::from_be_bytes(take_array(&mut bytes, "a short header")?)),
            4 => HeaderValue::Int32(i32::from_be_bytes(take_array(&mut bytes, "an integer header")?)),
            5 => HeaderValue::Int64(i64::from_be_bytes(take_array(&mut bytes, "a long header")?)),
            6 | 7 => {
                let len = u16::from_be_bytes(take_array(&mut bytes, "a header value's length")?);
                let value = take(&mut bytes, usize::from(len), "a header value")?;
                if kind == 6 { HeaderValue::Bytes(value) } else { HeaderValue::String(utf8(value, &name)?) }
            }
            8 => HeaderValue::Timestamp(i64::from_be_bytes(take_array(&mut bytes, "a timestamp header")?)),
            9 => HeaderValue::Uuid(take_array(&mut bytes, "a UUID header")?),
            other => {
                return Err(EventStreamError::Malformed(format!("header {name:?} has unknown type {other}")));
            }
        };
        headers.push((name, value));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, payload: &str) -> Message {
        Message {
            headers: vec![
                (":event-type".into(), HeaderValue::String(kind.into())),
                (":content-type".into(), HeaderValue::String("application/json".into())),
                (":message-type".into(), HeaderValue::String("event".into())),
            ],
            payload: Bytes::copy_from_slice(payload.as_bytes()),
        }
    }

    /// The example of AWS's event-stream documentation (Amazon Transcribe streaming): a
    /// message with no headers and no payload, and one with `content-type: application/json`
    /// and `{'foo':'bar'}`, byte for byte, as the reference implementations test them.
    #[test]
    fn the_reference_vectors() {
        let empty =
            [0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x05, 0xc2, 0x48, 0xeb, 0x7d, 0x98, 0xc8, 0xff];
        let mut parser = EventStreamParser::with_max_message_bytes(1024);
        parser.feed(&empty);
        assert_eq!(parser.next_message().unwrap(), Some(Message::default()));
        assert_eq!(Message::default().encode(), empty);
        let message = Message {
            headers: vec![("content-type".into(), HeaderValue::String("application/json".into()))],
            payload: Bytes::from_static(b"{'foo':'bar'}"),
        };
        let bytes = message.encode();
        assert_eq!(&bytes[..12], &[0x00, 0x00, 0x00, 0x3D, 0x00, 0x00, 0x00, 0x20, 0x07, 0xFD, 0x83, 0x96]);
        assert_eq!(&bytes[bytes.len() - 4..], &[0x8D, 0x9C, 0x08, 0xB1]);
        parser.feed(&bytes);
        assert_eq!(parser.next_message().unwrap(), Some(message));
        assert!(!parser.has_partial_message());
        // Every header type, from the test data of awslabs/aws-c-event-stream.
        let all = include_bytes!("testdata/eventstream_all_headers.bin");
        parser.feed(all);
        let message = parser.next_message().unwrap().unwrap();
        assert_eq!(message.header_str("str"), Some("some str"));
        assert_eq!(&message.payload[..], b"some payload");
        assert_eq!(message.headers.len(), 10, "{:?}", message.headers);
        assert_eq!(message.encode(), all);
    }

    #[test]
    fn messages_split_at_any_byte_and_every_header_type() {
        let mut all = event("contentBlockDelta", r#"{"delta":{"text":"Hi"}}"#);
        all.headers.extend([
            ("t".into(), HeaderValue::Bool(true)),
            ("f".into(), HeaderValue::Bool(false)),
            ("b".into(), HeaderValue::Byte(-3)),
            ("s".into(), HeaderValue::Int16(-300)),
            ("i".into(), HeaderValue::Int32(70_000)),
            ("l".into(), HeaderValue::Int64(-5_000_000_000)),
            ("y".into(), HeaderValue::Bytes(Bytes::from_static(b"\x00\x01"))),
            ("ts".into(), HeaderValue::Timestamp(1_700_000_000_000)),
            ("u".into(), HeaderValue::Uuid([7; 16])),
        ]);
        let messages =
            vec![event("messageStart", r#"{"role":"assistant"}"#), all, event("messageStop", "{}")];
        let input: Vec<u8> = messages.iter().flat_map(Message::encode).collect();
        for piece in 1..input.len() {
            let mut parser = EventStreamParser::with_max_message_bytes(1024);
            let mut got = Vec::new();
            for chunk in input.chunks(piece) {
                parser.feed(chunk);
                while let Some(message) = parser.next_message().unwrap() {
                    got.push(message);
                }
            }
            assert_eq!(got, messages, "pieces of {piece}");
        }
        assert_eq!(messages[0].header_str(":event-type"), Some("messageStart"));
        assert_eq!(messages[1].header_str("t"), None);
    }

    #[test]
    fn a_bad_crc_a_cut_message_and_the_size_limit() {
        let bytes = event("messageStop", "{}").encode();
        let mut flipped = bytes.clone();
        let last = flipped.len() - 6;
        flipped[last] ^= 0x20;
        let mut parser = EventStreamParser::with_max_message_bytes(1024);
        parser.feed(&flipped);
        assert!(matches!(parser.next_message(), Err(EventStreamError::Checksum { what: "message", .. })));
        let mut prelude = bytes.clone();
        prelude[3] ^= 1;
        let mut parser = EventStreamParser::with_max_message_bytes(1024);
        parser.feed(&prelude);
        assert!(matches!(parser.next_message(), Err(EventStreamError::Checksum { what: "prelude", .. })));
        let mut parser = EventStreamParser::with_max_message_bytes(1024);
        parser.feed(&bytes[..bytes.len() - 1]);
        assert_eq!(parser.next_message(), Ok(None));
        assert!(parser.has_partial_message());
        let mut parser = EventStreamParser::with_max_message_bytes(bytes.len() - 1);
        parser.feed(&bytes[..12]);
        assert_eq!(
            parser.next_message(),
            Err(EventStreamError::TooLarge { size: bytes.len(), limit: bytes.len() - 1 })
        );
        // Lengths that do not hold together, with a valid prelude CRC.
        let mut lying = Vec::new();
        lying.extend_from_slice(&16u32.to_be_bytes());
        lying.extend_from_slice(&4u32.to_be_bytes());
        lying.extend_from_slice(&crc32fast::hash(&lying).to_be_bytes());
        let mut parser = EventStreamParser::with_max_message_bytes(1024);
        parser.feed(&lying);
        assert!(matches!(parser.next_message(), Err(EventStreamError::Malformed(_))));
    }
}
