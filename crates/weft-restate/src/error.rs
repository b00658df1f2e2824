//! The errors of durable runs, of serving a worker and of registering it with Restate.

/// Why a durable agent or workflow run failed. The handler ends the invocation with it as a terminal error
/// (Restate does not retry it), so the caller reads its text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DurableError {
    /// A journaled step failed for good: its work failed with an error that is not retried, or
    /// it kept failing until the step retry policy's attempts ran out.
    #[error("durable step {step} failed: {message}")]
    StepFailed {
        /// The step's name (`model#N` or `tool:NAME#N:CALL_ID`).
        step: String,
        /// The cause, as Restate reported it.
        message: String,
    },
    /// Waiting for the answer to a workflow's request (a durable promise) failed: the promise
    /// was rejected, or the invocation was cancelled.
    #[error("waiting for the answer to request {request_id} failed: {message}")]
    Promise {
        /// The request.
        request_id: String,
        /// The cause, as Restate reported it.
        message: String,
    },
    /// The agent run failed (as it would have in a local run).
    #[error("the agent run failed: {0}")]
    Agent(#[from] weft_core::AgentError),
}

/// Why a worker could not serve.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The listening address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: std::net::SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The request identity key is not one Restate gives (`publickeyv1_…`).
    #[error("the Restate identity key is not valid: {reason}")]
    IdentityKey {
        /// What is wrong with it (never the key).
        reason: String,
    },
}

/// Why registering a worker with Restate's admin API failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// The admin API could not be reached.
    #[error("cannot reach Restate's admin API at {url}: {source}")]
    Unreachable {
        /// The admin URL.
        url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The admin API refused the deployment.
    #[error("Restate's admin API refused the deployment {deployment} (HTTP {status}): {body}")]
    Refused {
        /// The deployment's URI.
        deployment: String,
        /// The HTTP status.
        status: u16,
        /// The start of the response body.
        body: String,
    },
}
