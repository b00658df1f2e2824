//! Token credentials: where a provider gets the bearer token of a request (Microsoft Entra ID,
//! say), and a cache that fetches each token once and renews it before it expires.
//!
//! A provider takes an `Arc<dyn TokenCredential>` and knows nothing of where tokens come from;
//! crates such as `weft-azure` implement the trait. [`TokenCache`] wraps any credential: one
//! token per set of scopes, renewed [`DEFAULT_REFRESH_MARGIN`] before it expires, fetched once
//! when many requests need it at the same moment.
//!
//! Tokens are [`Secret`]s: their `Debug` output is `Secret(***)`, they have no `Display`, and
//! no error or log line of this crate shows one.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

/// How long before its expiry a cached token is renewed.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A string that must not be shown: an access token, a client secret. `Debug` prints
/// `Secret(***)`; there is no `Display`; [`expose`](Self::expose) gives the text to whoever
/// must send it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The text itself, to put on the wire. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Self {
        Self(text)
    }
}

/// An access token and when it expires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessToken {
    /// The token, sent as `Authorization: Bearer …`.
    pub token: Secret,
    /// When the issuer says it stops being valid.
    pub expires_on: SystemTime,
}

impl AccessToken {
    /// A token valid until `expires_on`.
    pub fn new(token: impl Into<String>, expires_on: SystemTime) -> Self {
        Self { token: Secret::new(token), expires_on }
    }

    /// Whether it is still good at `now` for at least `margin`.
    pub fn is_fresh(&self, now: SystemTime, margin: Duration) -> bool {
        self.expires_on.duration_since(now).is_ok_and(|left| left > margin)
    }
}

/// Why no token could be had. Messages name the credential and say what to do; they never
/// contain a token or a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// The credential cannot work here: it is not configured (an environment variable is
    /// missing), its tool is not installed, its endpoint does not answer. A chain of
    /// credentials moves on to the next one.
    #[error("{credential} is unavailable: {message}")]
    Unavailable {
        /// The credential, e.g. `AzureCliCredential`.
        credential: String,
        /// What is missing and how to provide it.
        message: String,
    },
    /// The credential is configured but could not get a token: refused, expired, an answer
    /// that does not decode, a timeout. A chain of credentials stops here.
    #[error("{credential} failed: {message}")]
    Failed {
        /// The credential, e.g. `ClientSecretCredential`.
        credential: String,
        /// What went wrong and how to fix it.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// Every credential of a chain failed; each one's reason, in order.
    #[error("{}", chain_message(.0))]
    Chain(Vec<CredentialError>),
}

impl CredentialError {
    /// The credential cannot work here (see [`CredentialError::Unavailable`]).
    pub fn unavailable(credential: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Unavailable { credential: credential.into(), message: message.into() }
    }

    /// The credential failed (see [`CredentialError::Failed`]).
    pub fn failed(credential: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Failed { credential: credential.into(), message: message.into(), source: None }
    }

    /// The credential failed because of `source`.
    pub fn failed_with(
        credential: impl Into<String>,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Failed {
            credential: credential.into(),
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// Whether a chain of credentials should try the next one.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Unavailable { .. } => true,
            Self::Chain(errors) => errors.iter().all(Self::is_unavailable),
            Self::Failed { .. } => false,
        }
    }
}

fn chain_message(errors: &[CredentialError]) -> String {
    let mut out = String::from("no credential could get a token:");
    for error in errors {
        out.push_str("\n  - ");
        out.push_str(&error.to_string());
    }
    out
}

/// Something that hands out access tokens for scopes, e.g.
/// `["https://cognitiveservices.azure.com/.default"]`.
///
/// Implementations fetch a new token on every call; wrap them in a [`TokenCache`] (providers
/// do) to reuse tokens until they near their expiry.
#[async_trait]
pub trait TokenCredential: fmt::Debug + Send + Sync {
    /// A token for `scopes`.
    async fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError>;
}

#[async_trait]
impl<T: TokenCredential + ?Sized> TokenCredential for Arc<T> {
    async fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        (**self).get_token(scopes).await
    }
}

/// One cached token, behind an async lock so that one caller fetches while the others wait.
type Slot = Arc<tokio::sync::Mutex<Option<AccessToken>>>;

/// A [`TokenCredential`] that keeps each token until [`DEFAULT_REFRESH_MARGIN`] (or the margin
/// given to [`with_refresh_margin`](Self::with_refresh_margin)) before it expires.
///
/// Tokens are cached per set of scopes (their order does not matter). When many requests need
/// a token at once, one fetches and the others wait for it (single flight); a failure is not
/// cached, so the next request tries again. Dropping a waiting or fetching call is safe: the
/// next caller takes over.
#[derive(Debug)]
pub struct TokenCache {
    inner: Arc<dyn TokenCredential>,
    margin: Duration,
    slots: Mutex<HashMap<Vec<String>, Slot>>,
}

impl TokenCache {
    /// Caches the tokens of `inner`.
    pub fn new(inner: Arc<dyn TokenCredential>) -> Self {
        Self { inner, margin: DEFAULT_REFRESH_MARGIN, slots: Mutex::default() }
    }

    /// Renews tokens `margin` before they expire instead of [`DEFAULT_REFRESH_MARGIN`].
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    fn slot(&self, scopes: &[&str]) -> Slot {
        let mut key: Vec<String> = scopes.iter().map(|scope| scope.to_string()).collect();
        key.sort();
        key.dedup();
        // The map is only touched briefly and holds no invariant a panic could break.
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.entry(key).or_default().clone()
    }
}

#[async_trait]
impl TokenCredential for TokenCache {
    async fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        let slot = self.slot(scopes);
        let mut cached = slot.lock().await;
        if let Some(token) = cached.as_ref().filter(|token| token.is_fresh(SystemTime::now(), self.margin)) {
            return Ok(token.clone());
        }
        let token = self.inner.get_token(scopes).await?;
        *cached = Some(token.clone());
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Hands out `token-N` valid for `lifetime`, counting its fetches; fails when `fail` is set.
    #[derive(Debug, Default)]
    struct Counting {
        fetches: AtomicUsize,
        lifetime: Duration,
        delay: Duration,
        fail: std::sync::atomic::AtomicBool,
    }

    #[async_trait]
    impl TokenCredential for Counting {
        async fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
            let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(self.delay).await;
            if self.fail.load(Ordering::SeqCst) {
                return Err(CredentialError::failed("Counting", "refused"));
            }
            Ok(AccessToken::new(format!("token-{n}-{}", scopes.join(",")), SystemTime::now() + self.lifetime))
        }
    }

    fn counting(lifetime: Duration) -> Arc<Counting> {
        Arc::new(Counting { lifetime, ..Counting::default() })
    }

    #[tokio::test]
    async fn a_fresh_token_is_reused_per_scope_set() {
        let source = counting(Duration::from_secs(3600));
        let cache = TokenCache::new(source.clone());
        let first = cache.get_token(&["a", "b"]).await.unwrap();
        let again = cache.get_token(&["b", "a"]).await.unwrap();
        assert_eq!(first, again);
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
        let other = cache.get_token(&["c"]).await.unwrap();
        assert_eq!(other.token.expose(), "token-2-c");
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_token_inside_the_margin_is_renewed() {
        // Four minutes left is inside the five-minute margin: every call fetches.
        let source = counting(Duration::from_secs(240));
        let cache = TokenCache::new(source.clone());
        assert_eq!(cache.get_token(&["s"]).await.unwrap().token.expose(), "token-1-s");
        assert_eq!(cache.get_token(&["s"]).await.unwrap().token.expose(), "token-2-s");
        // With a one-minute margin the same token is kept.
        let source = counting(Duration::from_secs(240));
        let cache = TokenCache::new(source.clone()).with_refresh_margin(Duration::from_secs(60));
        cache.get_token(&["s"]).await.unwrap();
        cache.get_token(&["s"]).await.unwrap();
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let source = Arc::new(Counting {
            lifetime: Duration::from_secs(3600),
            delay: Duration::from_millis(50),
            ..Counting::default()
        });
        let cache = Arc::new(TokenCache::new(source.clone()));
        let calls = (0..16).map(|_| {
            let cache = cache.clone();
            async move { cache.get_token(&["s"]).await.unwrap() }
        });
        let tokens = futures::future::join_all(calls).await;
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
        assert!(tokens.iter().all(|token| token.token.expose() == "token-1-s"));
    }

    #[tokio::test]
    async fn a_failure_is_not_cached() {
        let source = counting(Duration::from_secs(3600));
        source.fail.store(true, Ordering::SeqCst);
        let cache = TokenCache::new(source.clone());
        let err = cache.get_token(&["s"]).await.unwrap_err();
        assert_eq!(err.to_string(), "Counting failed: refused");
        source.fail.store(false, Ordering::SeqCst);
        assert_eq!(cache.get_token(&["s"]).await.unwrap().token.expose(), "token-2-s");
    }

    #[tokio::test]
    async fn a_dropped_fetch_lets_the_next_caller_fetch() {
        let source = Arc::new(Counting {
            lifetime: Duration::from_secs(3600),
            delay: Duration::from_millis(200),
            ..Counting::default()
        });
        let cache = TokenCache::new(source.clone());
        let dropped = tokio::time::timeout(Duration::from_millis(10), cache.get_token(&["s"])).await;
        assert!(dropped.is_err());
        assert_eq!(cache.get_token(&["s"]).await.unwrap().token.expose(), "token-2-s");
    }

    #[test]
    fn tokens_never_show_in_debug_output() {
        let token = AccessToken::new("eyJ0eXAi.secret", SystemTime::UNIX_EPOCH);
        let shown = format!("{token:?}");
        assert!(!shown.contains("eyJ0eXAi"), "{shown}");
        assert!(shown.contains("Secret(***)"), "{shown}");
    }

    #[test]
    fn a_chain_lists_every_reason() {
        let err = CredentialError::Chain(vec![
            CredentialError::unavailable("A", "not configured"),
            CredentialError::failed("B", "refused"),
        ]);
        assert_eq!(
            err.to_string(),
            "no credential could get a token:\n  - A is unavailable: not configured\n  - B failed: refused"
        );
        assert!(!err.is_unavailable());
    }
}
