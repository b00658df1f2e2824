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
    /// A worker endpoint was asked for with neither an agent nor a workflow.
    #[error("a worker needs an agent or a workflow to serve")]
    NothingToServe,
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

/// Why a message to a durable agent through Restate's ingress failed
/// ([`crate::IngressAgent`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngressError {
    /// The ingress URL is not one to send to.
    #[error("the Restate ingress URL {url} is not valid: {cause}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        cause: String,
    },
    /// The ingress could not be reached, or did not answer in time.
    #[error("cannot reach Restate's ingress at {url}: {cause}")]
    Unreachable {
        /// The URL called.
        url: String,
        /// Why (connection refused, DNS, TLS, timed out).
        cause: String,
    },
    /// The ingress answered with an error (e.g. 404 when no worker serves the agent, 500 when
    /// the run failed for good).
    #[error("Restate's ingress at {url} answered HTTP {status}: {message}")]
    Refused {
        /// The URL called.
        url: String,
        /// The HTTP status.
        status: u16,
        /// Restate's message (at most 2 KiB of it).
        message: String,
    },
    /// The answer was larger than the limit.
    #[error("Restate's ingress at {url} answered more than {limit} bytes")]
    TooLarge {
        /// The URL called.
        url: String,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The answer is not a turn's reply.
    #[error("Restate's ingress at {url} answered something that is not a turn's reply: {cause}")]
    Malformed {
        /// The URL called.
        url: String,
        /// The parse error.
        cause: String,
    },
}
