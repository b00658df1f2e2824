//! Reading the YAML: size and resource limits, positions, and "did you mean" for unknown fields.

use std::path::Path;

use serde_saphyr::{Location, Options};

use crate::error::{LoadError, Problem};
use crate::spec::AgentSpec;

/// The largest file read (1 MiB): agent files are small; a bigger one is refused before parsing.
pub const MAX_FILE_BYTES: usize = 1 << 20;

/// Reads a declarative file, refusing one over [`MAX_FILE_BYTES`]. The bytes are counted as
/// they are read, not taken from the file's metadata: a device or a FIFO reports no size and
/// may never end.
pub(crate) fn read_file(path: &Path) -> Result<String, LoadError> {
    use std::io::Read;
    let read_error = |source| LoadError::Read { path: path.to_path_buf(), source };
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_FILE_BYTES as u64 + 1).read_to_string(&mut text))
        .map_err(read_error)?;
    if text.len() > MAX_FILE_BYTES {
        return Err(LoadError::Invalid(vec![Problem {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("the file is over the limit of {MAX_FILE_BYTES} bytes"),
        }]));
    }
    Ok(text)
}

/// Parses an agent file's text. `file` names it in the problems.
pub fn parse_agent(text: &str, file: &Path) -> Result<AgentSpec, Problem> {
    parse_as(text, file, "an agent (`kind: Prompt` …)")
}

/// Parses a declarative file's text as a `T`; `what` says what an empty file should hold.
pub(crate) fn parse_as<T: serde::de::DeserializeOwned>(
    text: &str,
    file: &Path,
    what: &str,
) -> Result<T, Problem> {
    let at = |line, column, message: String| Problem { file: file.to_path_buf(), line, column, message };
    if text.len() > MAX_FILE_BYTES {
        return Err(at(
            0,
            0,
            format!("the file is {} bytes, over the limit of {MAX_FILE_BYTES} bytes", text.len()),
        ));
    }
    if text.trim().lines().all(|line| line.trim().is_empty() || line.trim_start().starts_with('#')) {
        return Err(at(1, 1, format!("the file is empty: expected {what}")));
    }
    serde_saphyr::from_str_with_options::<T>(text, options()).map_err(|error| {
        let location = error.location();
        let (line, column) = location.map(|l| (l.line(), l.column())).unwrap_or((0, 0));
        at(line, column, message_of(&error))
    })
}

/// Limits that make a hostile file fail fast with bounded memory: few aliases (a "billion
/// laughs" file expands them exponentially), shallow nesting, few events.
fn options() -> Options {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_aliases: 100,
            max_anchors: 100,
            max_events: 100_000,
            max_depth: 64,
            max_documents: 1,
            max_nodes: 50_000,
            max_total_scalar_bytes: MAX_FILE_BYTES,
        },
    };
    let mut limits = serde_saphyr::options::AliasLimits::default();
    limits.max_total_replayed_events = 10_000;
    limits.max_replay_stack_depth = 16;
    limits.max_alias_expansions_per_anchor = 100;
    let mut options = options;
    options.alias_limits = limits;
    options
}

/// The error's message without its location (the caller prints `file:line:col`), with a
/// suggestion for an unknown field.
fn message_of(error: &serde_saphyr::Error) -> String {
    let error = error.without_snippet();
    let mut text = error.to_string();
    if let Some(location) = error.location() {
        text = strip_location(&text, location);
    }
    suggest(&text).map(|hint| format!("{text}; did you mean `{hint}`?")).unwrap_or(text)
}

fn strip_location(text: &str, location: Location) -> String {
    let suffix = format!(" at line {}, column {}", location.line(), location.column());
    text.strip_suffix(&suffix).unwrap_or(text).to_string()
}

/// For serde's "unknown field `x`, expected one of `a`, `b`": the closest expected field.
fn suggest(message: &str) -> Option<String> {
    let rest = message.split("unknown field `").nth(1)?;
    let (unknown, rest) = rest.split_once('`')?;
    let (_, expected) = rest.split_once("expected one of ").or_else(|| rest.split_once("expected "))?;
    expected
        .split(", ")
        .map(|field| field.trim().trim_matches('`'))
        .map(|field| (strsim::jaro_winkler(unknown, field), field))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, field)| field.to_string())
}
