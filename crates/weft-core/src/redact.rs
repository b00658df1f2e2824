//! Keeping the credentials of URLs out of messages, logs and `Debug` output: one policy for
//! every provider, MCP server and front end.
//!
//! # Policy
//!
//! - **User info** (`user:password@` or `token@`) is masked whole: `https://***@host/`. A user
//!   name cannot be told apart from a token (GitHub takes `TOKEN:x-oauth-basic@`, many proxies
//!   `apikey:KEY@` or `KEY@`), and the host already says which URL it is.
//! - **Query values** are all masked (`?key=***`, a bare `?token` becomes `?***`) but those of
//!   [`SHOWN_QUERY_PARAMS`], a short allow-list of parameters that select a protocol, never
//!   carry a credential, and are worth seeing when a request fails: Azure OpenAI's
//!   `api-version` (a wrong one is a common error) and Gemini's `alt` (`alt=sse`). Empty values
//!   (`?x=`) stay as they are.
//! - **Scheme, host, port, path and fragment** are shown as written: a credential has no
//!   place there that a client sends (the fragment never leaves the client).
//!
//! The URL is read as text, not parsed: a URL parser rejects the malformed or relative URLs a
//! user may type, and those must be masked too; and a parser reads one URL, not URLs inside a
//! sentence (an error message, a command line), which [`redact_urls`] handles.

use std::borrow::Cow;

/// What a hidden credential is replaced with.
pub const MASK: &str = "***";

/// Query parameters whose values are shown as written (see the [module policy](self)); the
/// names are compared ignoring ASCII case.
pub const SHOWN_QUERY_PARAMS: &[&str] = &["api-version", "alt"];

/// `url` as it may be shown: its user info becomes `***@` and every query value but those of
/// [`SHOWN_QUERY_PARAMS`] becomes `***`. Works on text, so an invalid URL, or one without a
/// scheme, is masked too.
///
/// ```
/// use weft_core::redact::redact_url;
/// assert_eq!(
///     redact_url("https://me:pw@proxy.example/v1?key=abc&api-version=1"),
///     "https://***@proxy.example/v1?key=***&api-version=1",
/// );
/// assert_eq!(redact_url("proxy.example/v1?token=abc"), "proxy.example/v1?token=***");
/// assert_eq!(redact_url("http://localhost:8080/v1"), "http://localhost:8080/v1");
/// ```
pub fn redact_url(url: &str) -> String {
    let authority_start = url.find("://").map_or(0, |at| at + 3);
    mask(url, authority_start).unwrap_or_else(|| url.to_string())
}

/// `text` with every URL in it (a word with `scheme://`) masked as [`redact_url`] does. Borrows
/// `text` when it holds no credential. A URL ends at white space or a quote, and at the first
/// `)` when it follows a `(` (reqwest writes "for url (http://…)").
///
/// ```
/// use weft_core::redact::redact_urls;
/// assert_eq!(
///     redact_urls("cannot reach https://me:hunter2@example.com/mcp?key=abc&v=2"),
///     "cannot reach https://***@example.com/mcp?key=***&v=***",
/// );
/// assert!(matches!(redact_urls("see http://localhost/v1"), std::borrow::Cow::Borrowed(_)));
/// ```
pub fn redact_urls(text: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = text[search..].find("://") {
        let marker = search + found;
        let start = text[..marker]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            .last()
            .map_or(marker, |(i, _)| i);
        let mut end = text[marker..]
            .char_indices()
            .find(|(_, c)| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .map_or(text.len(), |(i, _)| marker + i);
        if text[..start].ends_with('(')
            && let Some(close) = text[marker..end].find(')')
        {
            end = marker + close;
        }
        if start < marker
            && let Some(masked) = mask(&text[start..end], marker - start + 3)
        {
            out.push_str(&text[copied..start]);
            out.push_str(&masked);
            copied = end;
        }
        search = end.max(marker + 3);
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// The credentials of `url` that [`redact_url`] masks, as a server may echo them in an error
/// message: the user name and the password (or token) of its user info and its masked query
/// values, each as written and decoded (`%XX`, and `+` as a space in query values), without
/// repeats. For [`ChatError::redact`](crate::ChatError::redact).
///
/// ```
/// use weft_core::redact::url_secrets;
/// assert_eq!(
///     url_secrets("https://me:p%40ss@host/v1?key=a%2Bb&api-version=1"),
///     ["me", "p%40ss", "p@ss", "a%2Bb", "a+b"],
/// );
/// assert!(url_secrets("http://localhost:1/v1").is_empty());
/// ```
pub fn url_secrets(url: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    let mut add = |text: Cow<'_, str>| {
        if !text.is_empty() && !secrets.iter().any(|known| *known == text) {
            secrets.push(text.into_owned());
        }
    };
    let authority_start = url.find("://").map_or(0, |at| at + 3);
    for piece in pieces(url, authority_start) {
        match piece {
            Piece::Shown(_) => {}
            Piece::UserInfo(userinfo) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                for written in [user, password] {
                    add(Cow::Borrowed(written));
                    add(percent_encoding::percent_decode_str(written).decode_utf8_lossy());
                }
            }
            Piece::QueryValue(value) => {
                add(Cow::Borrowed(value));
                add(percent_encoding::percent_decode_str(value).decode_utf8_lossy());
                let spaced = value.replace('+', " ");
                add(Cow::Owned(
                    percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy().into_owned(),
                ));
            }
        }
    }
    secrets
}

/// A part of a URL, as [`pieces`] cuts it.
enum Piece<'a> {
    /// Text shown as written.
    Shown(&'a str),
    /// The user info before `@` (not empty).
    UserInfo(&'a str),
    /// A query value to mask (not empty), or a whole query item without `=`.
    QueryValue(&'a str),
}

/// `url` (its authority starting at byte `authority_start`) masked, or `None` when it has no
/// credential.
fn mask(url: &str, authority_start: usize) -> Option<String> {
    let pieces = pieces(url, authority_start);
    if pieces.iter().all(|piece| matches!(piece, Piece::Shown(_))) {
        return None;
    }
    let mut out = String::with_capacity(url.len());
    for piece in pieces {
        out.push_str(match piece {
            Piece::Shown(text) => text,
            Piece::UserInfo(_) | Piece::QueryValue(_) => MASK,
        });
    }
    Some(out)
}

/// `url` cut into the parts shown and the credentials, in order; concatenated, they give `url`.
fn pieces(url: &str, authority_start: usize) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let rest = &url[authority_start..];
    let authority_end = authority_start + rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &url[authority_start..authority_end];
    match authority.rfind('@') {
        Some(at) if at > 0 => {
            pieces.push(Piece::Shown(&url[..authority_start]));
            pieces.push(Piece::UserInfo(&authority[..at]));
            pieces.push(Piece::Shown(&url[authority_start + at..authority_end]));
        }
        _ => pieces.push(Piece::Shown(&url[..authority_end])),
    }
    let after = &url[authority_end..];
    let (before_fragment, fragment) = after.split_at(after.find('#').unwrap_or(after.len()));
    let Some((path, query)) = before_fragment.split_once('?') else {
        pieces.push(Piece::Shown(after));
        return pieces;
    };
    pieces.push(Piece::Shown(&before_fragment[..=path.len()]));
    let mut offset = authority_end + path.len() + 1;
    for (index, item) in query.split('&').enumerate() {
        if index > 0 {
            pieces.push(Piece::Shown("&"));
            offset += 1;
        }
        match item.split_once('=') {
            Some((name, value))
                if !value.is_empty()
                    && !SHOWN_QUERY_PARAMS.iter().any(|shown| shown.eq_ignore_ascii_case(name)) =>
            {
                pieces.push(Piece::Shown(&url[offset..=offset + name.len()]));
                pieces.push(Piece::QueryValue(value));
            }
            Some(_) => pieces.push(Piece::Shown(item)),
            None if item.is_empty() => {}
            None => pieces.push(Piece::QueryValue(item)),
        }
        offset += item.len();
    }
    pieces.push(Piece::Shown(fragment));
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_one_url_are_masked() {
        for (url, shown) in [
            ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"),
            ("https://user:s3cret@host/v1", "https://***@host/v1"),
            ("https://tok3n@host", "https://***@host"),
            ("https://me:@h/mcp", "https://***@h/mcp"),
            ("https://@h/mcp", "https://@h/mcp"),
            (
                "https://host/v1?token=abc&x=&api-version=2024-10-21",
                "https://host/v1?token=***&x=&api-version=2024-10-21",
            ),
            (
                "https://h/v1:streamGenerateContent?alt=sse&key=k",
                "https://h/v1:streamGenerateContent?alt=sse&key=***",
            ),
            ("https://h/v1?API-Version=1", "https://h/v1?API-Version=1"),
            ("https://host/v1?bare-token", "https://host/v1?***"),
            ("https://h/mcp?a=&b", "https://h/mcp?a=&***"),
            ("https://h/mcp?a=1&&b=2", "https://h/mcp?a=***&&b=***"),
            ("not a url?key=abc", "not a url?key=***"),
            ("https://a:b@host?k=v#frag", "https://***@host?k=***#frag"),
            ("https://h/mcp?token=abc&x=1#frag", "https://h/mcp?token=***&x=***#frag"),
            ("https://h/mcp#?not=query", "https://h/mcp#?not=query"),
            ("https://u:p@h/a@b", "https://***@h/a@b"),
            ("http://ü:pässword@h/é?ä=ö", "http://***@h/é?ä=***"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn credentials_of_urls_inside_text_are_masked() {
        for (text, shown) in [
            (
                "error sending request for url (http://h:1/mcp?key=s3cr3t): connection refused",
                "error sending request for url (http://h:1/mcp?key=***): connection refused",
            ),
            (
                "a http://u:p@one/x and 'https://two/y?t=z' end",
                "a http://***@one/x and 'https://two/y?t=***' end",
            ),
            ("no url here: ://x?y=z", "no url here: ://x?y=z"),
            ("node server.js --db postgres://app:pw@db/x", "node server.js --db postgres://***@db/x"),
            ("émoji é http://ü:pässword@h/é?ä=ö", "émoji é http://***@h/é?ä=***"),
            (
                "azure https://r.example/openai?api-version=2024-10-21 down",
                "azure https://r.example/openai?api-version=2024-10-21 down",
            ),
        ] {
            assert_eq!(redact_urls(text), shown, "{text}");
        }
    }

    #[test]
    fn text_without_credentials_is_borrowed() {
        for text in ["http://h/mcp", "plain", "http://h/v1?api-version=1", "://x?y=z"] {
            assert!(matches!(redact_urls(text), Cow::Borrowed(_)), "{text}");
        }
    }

    #[test]
    fn secrets_are_what_is_masked_as_written_and_decoded() {
        assert_eq!(
            url_secrets("https://tok%2Fen@h/?q=a+b%21&alt=sse#f=x"),
            ["tok%2Fen", "tok/en", "a+b%21", "a+b!", "a b!"]
        );
        assert_eq!(url_secrets("host:1/v1?bare"), ["bare"]);
        assert!(url_secrets("https://h/v1?api-version=1&x=").is_empty());
    }
}
