//! Cassettes: every request and answer of a provider, recorded to a JSONL file by a
//! [`Recorder`] and answered again offline, deterministically, by a [`Replayer`]. Both are
//! [`Transport`](crate::Transport)s, so they work for every provider built on the
//! [`Driver`](crate::Driver).
//!
//! A cassette has one JSON object per line, an [`Entry`]: the request (method, URL, headers,
//! JSON body) with its secrets redacted, and the answer (status, headers, and its body as the
//! chunks that arrived, each with its offset from the moment the request was sent).

mod format;
mod record;
mod replay;

pub use format::{Chunk, Entry, RecordedRequest, RecordedResponse, redact_headers, redact_query};
pub use record::Recorder;
pub use replay::{MatchBy, Replayer, Timing};

use std::path::PathBuf;

/// What the cassette machinery failed at.
#[derive(Debug, thiserror::Error)]
pub enum CassetteError {
    /// The cassette file could not be read or written.
    #[error("cannot {action} the cassette {path}: {source}")]
    Io {
        /// `read`, `write`.
        action: &'static str,
        /// The cassette.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line of the cassette is not an entry.
    #[error("line {line} of the cassette {path} is not a cassette entry: {source}")]
    Parse {
        /// The cassette.
        path: PathBuf,
        /// Its line, from 1.
        line: usize,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// No entry of the cassette answers a request.
    #[error(
        "no entry of the cassette {path} matches the request {request} (matching {by}); \
         unused entries: {}",
        list(unused)
    )]
    NoMatch {
        /// The cassette.
        path: PathBuf,
        /// The request, as `POST /v1/chat/completions {"model":…}`.
        request: String,
        /// How requests are matched.
        by: MatchBy,
        /// The entries not answered yet, described like `request`.
        unused: Vec<String>,
    },
    /// A replay ended with entries no request asked for.
    #[error("{} entries of the cassette {path} were never replayed: {}", unused.len(), list(unused))]
    Unused {
        /// The cassette.
        path: PathBuf,
        /// The entries never replayed.
        unused: Vec<String>,
    },
}

/// A list of entries for messages.
fn list(entries: &[String]) -> String {
    if entries.is_empty() { "none".to_string() } else { entries.join("; ") }
}
