//! Keeping the secrets of MCP URLs out of messages and logs: the password (or token) in a URL's
//! userinfo and the values of its query string are replaced by `***` wherever weft-mcp shows a
//! URL (error messages, server names, `tracing` fields, `Debug`, the URL inside reqwest's
//! errors). Written by hand: the `url` crate parses one URL, not URLs inside a sentence.

use std::borrow::Cow;

/// What a hidden secret is replaced with.
pub(crate) const HIDDEN: &str = "***";

/// `text` with the secrets of every URL in it hidden: the password of a URL's userinfo (the
/// whole userinfo when it has no password, as it then usually is a token) and every value of
/// its query string. Borrows `text` when it holds no such secret.
///
/// ```
/// assert_eq!(
///     weft_mcp::redact_urls("cannot reach https://me:hunter2@example.com/mcp?key=abc&v=2"),
///     "cannot reach https://me:***@example.com/mcp?key=***&v=***",
/// );
/// ```
pub fn redact_urls(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut changed = false;
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
        // A URL in parentheses (reqwest writes "for url (http://…): cause") ends at the first ')'.
        if text[..start].ends_with('(')
            && let Some(close) = text[marker..end].find(')')
        {
            end = marker + close;
        }
        if start < marker
            && let Some(redacted) = redact_url(&text[start..end], marker - start)
        {
            out.push_str(&text[copied..start]);
            out.push_str(&redacted);
            copied = end;
            changed = true;
        }
        search = end.max(marker + 3);
    }
    if !changed {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// One URL (`scheme` ends at `marker`, where `://` is) with its secrets hidden, or `None` when
/// it has none.
fn redact_url(url: &str, marker: usize) -> Option<String> {
    let after = marker + 3;
    let authority_end = url[after..].find(['/', '?', '#']).map_or(url.len(), |i| after + i);
    let mut out = String::with_capacity(url.len());
    let mut changed = false;
    match url[after..authority_end].rfind('@') {
        Some(at) => {
            let userinfo = &url[after..after + at];
            out.push_str(&url[..after]);
            match userinfo.split_once(':') {
                Some((user, password)) if !password.is_empty() => {
                    out.push_str(user);
                    out.push(':');
                    out.push_str(HIDDEN);
                    changed = true;
                }
                Some(_) => out.push_str(userinfo),
                None if userinfo.is_empty() => {}
                None => {
                    out.push_str(HIDDEN);
                    changed = true;
                }
            }
            out.push_str(&url[after + at..authority_end]);
        }
        None => out.push_str(&url[..authority_end]),
    }
    let rest = &url[authority_end..];
    let Some(question) = rest.find('?').filter(|q| rest.find('#').is_none_or(|hash| *q < hash)) else {
        out.push_str(rest);
        return changed.then_some(out);
    };
    out.push_str(&rest[..=question]);
    let query_and_fragment = &rest[question + 1..];
    let (query, fragment) = match query_and_fragment.find('#') {
        Some(hash) => query_and_fragment.split_at(hash),
        None => (query_and_fragment, ""),
    };
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((key, value)) if !value.is_empty() => {
                out.push_str(key);
                out.push('=');
                out.push_str(HIDDEN);
                changed = true;
            }
            Some(_) => out.push_str(pair),
            None if pair.is_empty() => {}
            None => {
                out.push_str(HIDDEN);
                changed = true;
            }
        }
    }
    out.push_str(fragment);
    changed.then_some(out)
}

/// Hides the secrets of a reqwest error's URL (reqwest writes it into the error's text).
pub(crate) fn redact_reqwest(mut error: reqwest::Error) -> reqwest::Error {
    if let Some(url) = error.url_mut()
        && let Cow::Owned(redacted) = redact_urls(url.as_str())
        && let Ok(parsed) = reqwest::Url::parse(&redacted)
    {
        *url = parsed;
    }
    error
}

#[cfg(test)]
mod tests {
    use super::redact_urls;

    #[test]
    fn passwords_tokens_and_query_values_are_hidden() {
        let cases = [
            ("http://127.0.0.1:8000/mcp", "http://127.0.0.1:8000/mcp"),
            ("https://me:hunter2@h/mcp", "https://me:***@h/mcp"),
            ("https://ghp_token@h/mcp", "https://***@h/mcp"),
            ("https://me:@h/mcp", "https://me:@h/mcp"),
            ("https://h/mcp?token=abc&x=1#frag", "https://h/mcp?token=***&x=***#frag"),
            ("https://h/mcp?abc", "https://h/mcp?***"),
            ("https://h/mcp?a=&b", "https://h/mcp?a=&***"),
            ("https://h/mcp#?not=query", "https://h/mcp#?not=query"),
            ("https://u:p@h?k=v", "https://u:***@h?k=***"),
            (
                "error sending request for url (http://h:1/mcp?key=s3cr3t): connection refused",
                "error sending request for url (http://h:1/mcp?key=***): connection refused",
            ),
            (
                "a http://u:p@one/x and 'https://two/y?t=z' end",
                "a http://u:***@one/x and 'https://two/y?t=***' end",
            ),
            ("no url here: ://x?y=z", "no url here: ://x?y=z"),
            ("node server.js --db postgres://app:pw@db/x", "node server.js --db postgres://app:***@db/x"),
            ("émoji é http://ü:pässword@h/é?ä=ö", "émoji é http://ü:***@h/é?ä=***"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact_urls(input), expected, "{input}");
        }
    }

    #[test]
    fn text_without_secrets_is_borrowed() {
        assert!(matches!(redact_urls("http://h/mcp"), std::borrow::Cow::Borrowed(_)));
        assert!(matches!(redact_urls("plain"), std::borrow::Cow::Borrowed(_)));
    }
}
