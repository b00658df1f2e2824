//! Keeping the secrets of MCP URLs out of messages and logs: wherever weft-mcp shows a URL
//! (error messages, server names, `tracing` fields, `Debug`, the URL inside reqwest's errors)
//! its credentials are masked by [`weft_core::redact`], whose policy this crate follows.

use std::borrow::Cow;

use weft_core::redact::redact_urls;

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
