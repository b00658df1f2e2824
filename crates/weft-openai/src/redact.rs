//! Keeping credentials out of messages and logs: a base URL may carry a password or a token
//! (in its user info or its query string), and a provider's error body may echo the API key.

/// Query parameters whose values are shown as they are (they are not credentials).
const SHOWN_PARAMS: &[&str] = &["api-version"];

/// The mask that replaces a credential.
const MASK: &str = "***";

/// `url` as it may be shown: user info (`user:password@`) becomes `***@` and every query value
/// but `api-version` becomes `***`. Works on text, so an invalid URL is masked too.
///
/// ```
/// use weft_openai::redact_url;
/// assert_eq!(redact_url("https://me:pw@proxy.example/v1?key=abc&api-version=1"),
///            "https://***@proxy.example/v1?key=***&api-version=1");
/// assert_eq!(redact_url("http://localhost:8080/v1"), "http://localhost:8080/v1");
/// ```
pub fn redact_url(url: &str) -> String {
    let authority_start = url.find("://").map_or(0, |at| at + 3);
    let rest = &url[authority_start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..authority_start]);
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            out.push_str(MASK);
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    let after = &rest[authority_end..];
    let Some((path, query)) = after.split_once('?') else {
        out.push_str(after);
        return out;
    };
    out.push_str(path);
    out.push('?');
    for (index, pair) in query.split('&').enumerate() {
        if index > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((name, value)) if value.is_empty() || SHOWN_PARAMS.contains(&name) => out.push_str(pair),
            Some((name, _)) => {
                out.push_str(name);
                out.push('=');
                out.push_str(MASK);
            }
            None if pair.is_empty() => {}
            None => out.push_str(MASK),
        }
    }
    out
}

/// The credentials in `url` as they may appear in a provider's message: the user name, the
/// password and the query values but `api-version`, both as written and percent-decoded.
pub(crate) fn url_secrets(url: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    let Ok(parsed) = reqwest::Url::parse(url) else { return secrets };
    let mut add = |text: &str| {
        if !text.is_empty() && !secrets.iter().any(|known| known == text) {
            secrets.push(text.to_string());
        }
    };
    for written in [parsed.username(), parsed.password().unwrap_or("")] {
        add(written);
        add(&percent_decode(written));
    }
    for pair in parsed.query().unwrap_or("").split('&') {
        if let Some((name, value)) = pair.split_once('=') {
            if !SHOWN_PARAMS.contains(&name) {
                add(value);
            }
        }
    }
    for (name, value) in parsed.query_pairs() {
        if !SHOWN_PARAMS.contains(&name.as_ref()) {
            add(&value);
        }
    }
    secrets
}

/// Decodes `%XX` escapes (the URL parser keeps user info encoded).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let escaped = (byte == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match escaped {
            Some(decoded) => {
                out.push(decoded);
                index += 3;
            }
            None => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_urls_are_masked() {
        for (url, shown) in [
            ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"),
            ("https://user:s3cret@host/v1", "https://***@host/v1"),
            ("https://tok3n@host", "https://***@host"),
            (
                "https://host/v1?token=abc&x=&api-version=2024-10-21",
                "https://host/v1?token=***&x=&api-version=2024-10-21",
            ),
            ("https://host/v1?bare-token", "https://host/v1?***"),
            ("not a url?key=abc", "not a url?key=***"),
            ("https://a:b@host?k=v#frag", "https://***@host?k=***"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn secrets_are_found_as_written_and_decoded() {
        let secrets = url_secrets("https://me:p%40ss@host/v1?key=a%2Bb&api-version=1");
        assert_eq!(secrets, vec!["me", "p%40ss", "p@ss", "a%2Bb", "a+b"]);
        assert!(url_secrets("http://localhost:1/v1").is_empty());
    }
}
