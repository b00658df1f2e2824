//! Words of a prompt, how they relate, and which offered tools a prompt names.

use crate::options::{ToolChoice, ToolDefinition};

/// Words that say nothing about which tool is meant.
const GENERIC_WORDS: &[&str] = &[
    "get", "set", "the", "and", "for", "tool", "run", "call", "make", "list", "fetch", "current", "info",
    "data", "with", "from", "into", "this", "that", "what", "how", "please", "can", "you", "give", "tell",
    "show", "about", "returns", "return", "given", "value", "values", "some", "one", "two", "use", "using",
    "its", "are", "is",
];

/// Small synonym groups so that common phrasings find the obvious tool.
const SYNONYMS: &[&[&str]] = &[
    &["add", "sum", "plus", "addition", "total"],
    &["multiply", "product", "times"],
    &["weather", "forecast", "temperature"],
    &["time", "clock", "date", "now"],
    &["echo", "repeat", "say"],
    &["search", "find", "lookup", "look"],
];

/// The lowercase words of a text, splitting on anything not alphanumeric and inside camelCase.
pub(super) fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            // Split camelCase names too.
            if ch.is_uppercase() && previous_lower && !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            previous_lower = ch.is_lowercase();
            current.extend(ch.to_lowercase());
        } else {
            previous_lower = false;
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Whether a word can say which tool (or field) is meant.
pub(super) fn meaningful(word: &str) -> bool {
    word.len() >= 3 && !GENERIC_WORDS.contains(&word) && !word.chars().all(|c| c.is_ascii_digit())
}

/// Whether two lowercase words mean the same thing: equal, one a prefix of the other (3 letters
/// at least), or in one synonym group.
pub(super) fn related(a: &str, b: &str) -> bool {
    let prefix = |x: &str, y: &str| x.len() >= 3 && y.starts_with(x);
    if a == b || prefix(a, b) || prefix(b, a) {
        return true;
    }
    SYNONYMS.iter().any(|group| {
        group.iter().any(|s| prefix(s, a) || *s == a) && group.iter().any(|s| prefix(s, b) || *s == b)
    })
}

fn score(prompt_words: &[String], text: &str) -> usize {
    words(text)
        .iter()
        .filter(|w| meaningful(w))
        .filter(|w| prompt_words.iter().any(|p| related(p, w)))
        .count()
}

/// The tools to call for a prompt: the forced one, every tool whose name shares a word with the
/// prompt, else (unless `names_only`) the best description match, else (when a call is required)
/// the first tool.
pub(super) fn choose_tools<'a>(
    prompt: &str,
    tools: &'a [ToolDefinition],
    choice: Option<&ToolChoice>,
    names_only: bool,
) -> Vec<&'a ToolDefinition> {
    if let Some(ToolChoice::Function(name)) = choice {
        return tools.iter().filter(|t| &t.name == name).collect();
    }
    let prompt_words: Vec<String> = words(prompt).into_iter().filter(|w| meaningful(w)).collect();
    let by_name: Vec<&ToolDefinition> = tools.iter().filter(|t| score(&prompt_words, &t.name) > 0).collect();
    if !by_name.is_empty() {
        return by_name;
    }
    let best = tools
        .iter()
        .map(|t| (score(&prompt_words, &t.description), t))
        .filter(|(s, _)| *s > 0 && !names_only)
        .max_by_key(|(s, t)| (*s, std::cmp::Reverse(t.name.clone())));
    match (best, choice) {
        (Some((_, tool)), _) => vec![tool],
        (None, Some(ToolChoice::Required)) => tools.iter().take(1).collect(),
        (None, _) => Vec::new(),
    }
}

/// A prompt word without surrounding punctuation (keeping `-`, `/` and `_` that identifiers use).
pub(super) fn trim_token(word: &str) -> &str {
    word.trim_matches(|c: char| !c.is_alphanumeric() && c != '-' && c != '/' && c != '_')
}
