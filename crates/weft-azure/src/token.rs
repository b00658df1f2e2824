//! What the token endpoints have in common: the HTTP client, reading a token answer, turning
//! failures into [`CredentialError`]s that never quote a token.

use std::time::{Duration, SystemTime};

use serde_json::Value;
use weft_provider::{AccessToken, CredentialError};

/// The longest wait for a token endpoint's whole answer.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The most characters of an error answer quoted in a message.
const SNIPPET_CHARS: usize = 300;

/// An HTTP client for token endpoints: `connect_timeout` to open a connection, and
/// [`DEFAULT_TIMEOUT`] for the whole exchange. `None` when it cannot be built (the TLS backend
/// did not load); [`client`] turns that into an error when a token is asked for, so that
/// building a credential never fails.
pub(crate) fn http_client(connect_timeout: Duration) -> Option<reqwest::Client> {
    reqwest::Client::builder().connect_timeout(connect_timeout).timeout(DEFAULT_TIMEOUT).build().ok()
}

/// The client built by [`http_client`], or the error saying it could not be.
pub(crate) fn client<'a>(
    credential: &str,
    http: &'a Option<reqwest::Client>,
) -> Result<&'a reqwest::Client, CredentialError> {
    http.as_ref().ok_or_else(|| {
        CredentialError::failed(credential, "could not build an HTTP client (its TLS backend did not load)")
    })
}

/// The one scope a v1 token endpoint (managed identity) or the Azure CLI accepts, checked:
/// `https://cognitiveservices.azure.com/.default`.
pub(crate) fn single_scope<'a>(credential: &str, scopes: &[&'a str]) -> Result<&'a str, CredentialError> {
    let [scope] = scopes else {
        return Err(CredentialError::failed(
            credential,
            format!("asks for exactly one scope, got {}", scopes.len()),
        ));
    };
    check_scope(credential, scope)?;
    Ok(scope)
}

/// Checks that `scope` looks like a scope (`https://…/.default`): no spaces, no leading `-`
/// (it is passed on a command line), only URL characters.
pub(crate) fn check_scope(credential: &str, scope: &str) -> Result<(), CredentialError> {
    let valid = !scope.is_empty()
        && !scope.starts_with('-')
        && scope.chars().all(|c| c.is_ascii_alphanumeric() || ":/.-_".contains(c));
    if valid {
        Ok(())
    } else {
        Err(CredentialError::failed(credential, format!("{scope:?} is not a valid scope")))
    }
}

/// The resource of a v1 endpoint for a v2 scope: `https://x/.default` → `https://x`.
pub(crate) fn scope_to_resource(scope: &str) -> &str {
    scope.strip_suffix("/.default").unwrap_or(scope)
}

/// A number of seconds, sent as a number or as a string of digits.
fn seconds(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// Reads a token answer: `access_token` with `expires_on` (Unix seconds) or `expires_in`
/// (seconds from `now`). The answer's text is never quoted: it holds the token.
pub(crate) fn parse_token(
    credential: &str,
    body: &[u8],
    now: SystemTime,
) -> Result<AccessToken, CredentialError> {
    let value: Value = serde_json::from_slice(body).map_err(|err| {
        CredentialError::failed(
            credential,
            format!(
                "the token endpoint's answer is not JSON (line {}, column {}): {} bytes",
                err.line(),
                err.column(),
                body.len()
            ),
        )
    })?;
    let Some(token) = value.get("access_token").and_then(Value::as_str).filter(|token| !token.is_empty())
    else {
        return Err(CredentialError::failed(credential, "the token endpoint's answer has no access_token"));
    };
    let expires_on = match (seconds(value.get("expires_on")), seconds(value.get("expires_in"))) {
        (Some(on), _) => SystemTime::UNIX_EPOCH + Duration::from_secs(on),
        (None, Some(within)) => now + Duration::from_secs(within),
        (None, None) => {
            return Err(CredentialError::failed(
                credential,
                "the token endpoint's answer has neither expires_on nor expires_in",
            ));
        }
    };
    Ok(AccessToken::new(token, expires_on))
}

/// What an error answer says: OAuth2's `error` and `error_description`, else its start.
pub(crate) fn error_text(body: &[u8]) -> String {
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        let error = value.get("error");
        let code = error.and_then(|e| e.as_str().or_else(|| e.get("code").and_then(Value::as_str)));
        let description = value
            .get("error_description")
            .or_else(|| error.and_then(|e| e.get("message")))
            .or_else(|| value.get("message"))
            .and_then(Value::as_str);
        match (code, description) {
            (Some(code), Some(description)) => return format!("{code}: {}", first_line(description)),
            (Some(text), None) | (None, Some(text)) => return first_line(text),
            (None, None) => {}
        }
    }
    first_line(&String::from_utf8_lossy(body))
}

/// The first line of `text`, at most [`SNIPPET_CHARS`] characters.
pub(crate) fn first_line(text: &str) -> String {
    let line = text.trim().lines().next().unwrap_or("").trim();
    let mut out: String = line.chars().take(SNIPPET_CHARS).collect();
    if line.chars().count() > SNIPPET_CHARS {
        out.push('…');
    }
    out
}

/// Sends `request` and reads a token from a successful answer. A connection that cannot be
/// made is [`Unavailable`](CredentialError::Unavailable) when `refused_is_unavailable` (the
/// managed identity endpoint of a machine outside Azure), else a failure.
pub(crate) async fn fetch_token(
    credential: &str,
    request: reqwest::RequestBuilder,
    refused_is_unavailable: bool,
) -> Result<AccessToken, CredentialError> {
    let response = match request.send().await {
        Ok(response) => response,
        Err(err) if err.is_connect() && refused_is_unavailable => {
            return Err(CredentialError::unavailable(
                credential,
                format!(
                    "its endpoint could not be reached ({}); is this running in Azure?",
                    root_cause(&err)
                ),
            ));
        }
        Err(err) => {
            let what = if err.is_timeout() { "timed out" } else { "could not be reached" };
            let message = format!("the token endpoint {what}: {}", root_cause(&err));
            return Err(CredentialError::failed_with(credential, message, err.without_url()));
        }
    };
    let status = response.status();
    let body = response.bytes().await.map_err(|err| {
        CredentialError::failed_with(credential, "the token endpoint's answer broke off", err.without_url())
    })?;
    if !status.is_success() {
        return Err(CredentialError::failed(
            credential,
            format!("the token endpoint answered HTTP {}: {}", status.as_u16(), error_text(&body)),
        ));
    }
    parse_token(credential, &body, SystemTime::now())
}

/// The innermost message of an error chain.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn tokens_with_expires_on_or_expires_in() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let token = parse_token("C", br#"{"access_token":"t","expires_on":"5000"}"#, now).unwrap();
        assert_eq!(token.expires_on, SystemTime::UNIX_EPOCH + Duration::from_secs(5_000));
        let token = parse_token("C", br#"{"access_token":"t","expires_in":3599}"#, now).unwrap();
        assert_eq!(token.expires_on, now + Duration::from_secs(3_599));
    }

    #[test]
    fn bad_answers_never_quote_the_token() {
        let now = SystemTime::UNIX_EPOCH;
        let err = parse_token("C", br#"{"access_token":"secret-token"}"#, now).unwrap_err();
        assert!(err.to_string().contains("neither expires_on nor expires_in"), "{err}");
        let err = parse_token("C", br#"{"access_token":"secret-token","#, now).unwrap_err();
        assert!(!err.to_string().contains("secret-token"), "{err}");
        assert!(err.to_string().contains("not JSON"), "{err}");
    }

    #[test]
    fn scopes_are_checked() {
        assert_eq!(single_scope("C", &["https://x/.default"]).unwrap(), "https://x/.default");
        assert!(single_scope("C", &["a", "b"]).is_err());
        assert!(single_scope("C", &["--foo"]).is_err());
        assert!(single_scope("C", &["a b"]).is_err());
        assert_eq!(scope_to_resource("https://x/.default"), "https://x");
    }

    #[test]
    fn oauth_errors_are_summarized() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1"}"#;
        assert_eq!(error_text(body), "invalid_client: AADSTS7000215: Invalid client secret provided.");
        assert_eq!(error_text(b"<html>oops</html>"), "<html>oops</html>");
    }
}
