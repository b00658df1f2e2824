//! What a case runs against: a provider's client over the mock server, or over a real server.

use std::any::Any;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use weft_core::ChatClient;

use crate::mock::{Answer, MockServer, Received};
use crate::script::WireScript;

/// Far more than any case needs, so that only a hang trips it.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(60);

/// Where a provider's client should send its requests, and how it should retry.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The mock server's root, `http://127.0.0.1:PORT` (the client adds its own path, e.g.
    /// `/v1/chat/completions`; a client whose base URL must end in `/v1` adds it).
    pub base_url: String,
    /// How many times a failed attempt may be retried. The client should wait at most a few
    /// milliseconds before a retry when the server names no wait (its initial retry delay), so
    /// that the case can tell that a `retry-after` was honoured.
    pub max_retries: u32,
}

/// Builds a provider's client for an [`Endpoint`]: credentials (any key), a default model
/// (any name), the retries asked for, and an initial retry delay of a few milliseconds.
pub type ClientFactory = Arc<dyn Fn(&Endpoint) -> Arc<dyn ChatClient> + Send + Sync>;

enum Mode {
    Mock { server: MockServer, factory: ClientFactory },
    Live { client: Arc<dyn ChatClient>, _guard: Box<dyn Any + Send + Sync> },
}

/// What a case runs against: [`Harness::mock`] (the provider's client over the mock server,
/// which speaks its wire format) or [`Harness::live`] (a client of a real server).
pub struct Harness {
    mode: Mode,
}

impl Harness {
    /// The provider's clients (made by `factory`) over a mock server speaking `wire`.
    pub async fn mock(wire: impl WireScript, factory: ClientFactory) -> Self {
        let server = MockServer::start(Arc::new(wire)).await;
        Self { mode: Mode::Mock { server, factory } }
    }

    /// A client of a real server; `guard` (the server process, say) lives as long as the
    /// harness. Only the cases that need no scripted fault run live.
    pub fn live(client: Arc<dyn ChatClient>, guard: impl Any + Send + Sync) -> Self {
        Self { mode: Mode::Live { client, _guard: Box::new(guard) } }
    }

    /// Whether this runs against a real server (the answers are the model's, not scripted).
    pub fn is_live(&self) -> bool {
        matches!(self.mode, Mode::Live { .. })
    }

    /// A client that does not retry.
    pub fn client(&self) -> Arc<dyn ChatClient> {
        self.client_with_retries(0)
    }

    /// A client that retries up to `max_retries` times (live: the one client).
    pub fn client_with_retries(&self, max_retries: u32) -> Arc<dyn ChatClient> {
        match &self.mode {
            Mode::Mock { server, factory } => {
                factory(&Endpoint { base_url: server.base_url().to_string(), max_retries })
            }
            Mode::Live { client, .. } => client.clone(),
        }
    }

    /// Scripts the mock's answers (nothing live).
    pub fn script(&self, answers: Vec<Answer>) {
        if let Mode::Mock { server, .. } = &self.mode {
            server.script(answers);
        }
    }

    /// The requests the mock received since the last [`script`](Self::script) (none live).
    pub fn received(&self) -> Vec<Received> {
        match &self.mode {
            Mode::Mock { server, .. } => server.received(),
            Mode::Live { .. } => Vec::new(),
        }
    }

    /// The mock server, for a case that can only run on one.
    ///
    /// # Panics
    /// When the harness is live: the case scripts faults a real server does not make.
    pub fn require_mock(&self, case: &str) -> &MockServer {
        match &self.mode {
            Mode::Mock { server, .. } => server,
            Mode::Live { .. } => {
                panic!("the conformance case {case} scripts faults: it runs on the mock only")
            }
        }
    }
}

/// Runs one case on a fresh runtime (the test macros' `#[test]` functions call it), failing
/// when it takes over [`CASE_TIMEOUT`].
///
/// # Panics
/// When the runtime cannot start, or the case times out.
#[allow(clippy::expect_used)]
pub fn run<F: Future<Output = ()>>(case: F) {
    let runtime =
        // Test support only (a dev-dependency): a test without a runtime cannot run at all, so
        // failing it here, with this message, is the right outcome.
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(async {
        if tokio::time::timeout(CASE_TIMEOUT, case).await.is_err() {
            panic!("the conformance case did not finish within {CASE_TIMEOUT:?}");
        }
    });
}
