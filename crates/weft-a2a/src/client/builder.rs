//! [`A2AAgentBuilder`]: the remote agent's URL, name and limits.

use std::sync::Arc;

use tokio_util::task::TaskTracker;

use super::card::Binding;
use super::{A2AAgent, A2aClientConfig, A2aClientError, Inner, Resolved};

/// Builds an [`A2AAgent`].
#[derive(Debug, Clone)]
pub struct A2AAgentBuilder {
    pub(super) url: String,
    pub(super) name: Option<String>,
    pub(super) description: Option<String>,
    pub(super) config: A2aClientConfig,
    pub(super) http: Option<reqwest::Client>,
}

impl A2AAgentBuilder {
    /// The agent's name in Weft (default: the card's name with [`A2AAgentBuilder::connect`],
    /// else the URL's last path segment).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The agent's description (default: the card's with [`A2AAgentBuilder::connect`]).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The binding to take when the card offers both.
    pub fn binding(mut self, binding: Binding) -> Self {
        self.config.binding = binding;
        self
    }

    /// Replaces the limits.
    pub fn config(mut self, config: A2aClientConfig) -> Self {
        self.config = config;
        self
    }

    /// The HTTP client to use (its own timeouts and headers, e.g. a bearer token); the
    /// config's deadlines still apply.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// The agent; its card is resolved on first use.
    pub fn build(self) -> A2AAgent {
        let name = self.name.unwrap_or_else(|| default_name(&self.url));
        let http = self.http.unwrap_or_else(|| {
            reqwest::Client::builder()
                .connect_timeout(self.config.connect_timeout)
                .build()
                .unwrap_or_else(|_| reqwest::Client::new())
        });
        A2AAgent {
            inner: Arc::new(Inner {
                url: self.url,
                name,
                description: self.description,
                http,
                config: self.config,
                resolved: tokio::sync::OnceCell::new(),
                cancels: TaskTracker::new(),
            }),
        }
    }

    /// Resolves the card now: the agent takes its name and description unless set.
    pub async fn connect(mut self) -> Result<A2AAgent, A2aClientError> {
        let probe = self.clone().build();
        let resolved = probe.inner.resolve().await?;
        let card = resolved.card.clone();
        let wire = resolved.wire.clone();
        self.name = self.name.or(Some(card.name.clone()));
        self.description = self.description.or(card.description.clone());
        self.http = Some(probe.inner.http.clone());
        let agent = self.build();
        let _ = agent.inner.resolved.set(Resolved { card, wire });
        Ok(agent)
    }
}

/// The last path segment of a URL, else `a2a`.
fn default_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url).trim_end_matches('/');
    let path = path.strip_suffix("/.well-known/agent-card.json").unwrap_or(path);
    match path.rsplit_once('/') {
        Some((before, last)) if !last.is_empty() && !before.ends_with('/') && !before.is_empty() => {
            last.to_string()
        }
        _ => "a2a".to_string(),
    }
}
