//! Serving the Weft services to Restate over HTTP/2, and registering them through Restate's
//! admin API.

use std::net::SocketAddr;
use std::time::Duration;

use hyper::server::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::graceful::GracefulShutdown;
use restate_sdk::endpoint::Endpoint;
use restate_sdk::hyper::HyperEndpoint;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use weft_core::agent::ChatAgent;

use crate::error::{RegisterError, ServeError};
use crate::object::AgentObject;
use crate::steps::StepRetry;

/// The most bytes of an admin API error body kept in a [`RegisterError`].
const MAX_ERROR_BODY: usize = 2048;

/// How long a registration request may take.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(30);

/// The Restate endpoint serving `agent` as the [`crate::OBJECT_NAME`] conversation object.
pub fn agent_endpoint(agent: ChatAgent, retry: StepRetry) -> Endpoint {
    Endpoint::builder().bind(AgentObject::new(agent, retry)).build()
}

/// [`agent_endpoint`] that, with `identity_key` (Restate's request identity public key,
/// `publickeyv1_…`), refuses requests not signed by that Restate server: what a worker
/// reachable from other machines needs.
pub fn agent_endpoint_with_identity(
    agent: ChatAgent,
    retry: StepRetry,
    identity_key: Option<&str>,
) -> Result<Endpoint, ServeError> {
    worker_endpoint(Some(agent), None, retry, identity_key)
}

/// The Restate endpoint of a worker serving `agent` as the [`crate::OBJECT_NAME`]
/// conversation object and `workflow` as the [`crate::WORKFLOW_NAME`] workflow (either or
/// both), their steps retried under `retry`. With `identity_key` (Restate's request identity
/// public key, `publickeyv1_…`) it refuses requests not signed by that Restate server.
pub fn worker_endpoint(
    agent: Option<ChatAgent>,
    workflow: Option<weft_workflow::Workflow>,
    retry: StepRetry,
    identity_key: Option<&str>,
) -> Result<Endpoint, ServeError> {
    if agent.is_none() && workflow.is_none() {
        return Err(ServeError::NothingToServe);
    }
    let mut builder = Endpoint::builder();
    if let Some(agent) = agent {
        builder = builder.bind(AgentObject::new(agent, retry));
    }
    if let Some(workflow) = workflow {
        builder = builder.bind(crate::workflow_service::WorkflowService::new(workflow, retry));
    }
    if let Some(key) = identity_key {
        builder = builder
            .identity_key(key)
            .map_err(|source| ServeError::IdentityKey { reason: source.to_string() })?;
    }
    Ok(builder.build())
}

/// The Restate endpoint serving `workflow` as the [`crate::WORKFLOW_NAME`] workflow, its
/// executor invocations retried under `retry`. To serve agents and a workflow from one worker,
/// bind both: `Endpoint::builder().bind(AgentObject::new(..)).bind(WorkflowService::new(..))`.
pub fn workflow_endpoint(workflow: weft_workflow::Workflow, retry: StepRetry) -> Endpoint {
    Endpoint::builder().bind(crate::workflow_service::WorkflowService::new(workflow, retry)).build()
}

/// Binds `address` (port 0 picks a free port) for [`serve`].
pub async fn bind(address: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(address).await.map_err(|source| ServeError::Bind { address, source })
}

/// How long open connections get to finish their invocations once `cancel` fires.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `endpoint` over HTTP/2 on `listener` until `cancel` fires, then lets the open
/// connections finish for up to 10 s (Restate retries what is cut off).
///
/// Written here rather than with restate-sdk's `HttpServer` (which this replaces with the same
/// HTTP/2 service and graceful shutdown) for two reasons: that server leaves Nagle's algorithm
/// on for the connections it accepts, so each of Restate's small HTTP/2 round trips waits for a
/// delayed ACK (about 40 ms: W9 measured 45 ms per superstep), and it spawns its connections as
/// detached tasks. Here every connection has `TCP_NODELAY` and is owned by a `JoinSet`, aborted
/// after the grace period.
pub async fn serve(endpoint: Endpoint, listener: TcpListener, cancel: CancellationToken) {
    let service = HyperEndpoint::new(endpoint);
    let graceful = GracefulShutdown::new();
    let mut connections = tokio::task::JoinSet::new();
    loop {
        // Reap the connections that ended.
        while connections.try_join_next().is_some() {}
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, remote)) => {
                    if let Err(error) = stream.set_nodelay(true) {
                        tracing::debug!(%remote, %error, "could not set TCP_NODELAY");
                    }
                    let connection = http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service.clone());
                    let connection = graceful.watch(connection);
                    connections.spawn(async move {
                        if let Err(error) = connection.await {
                            tracing::debug!(%remote, %error, "a connection from Restate ended with an error");
                        }
                    });
                }
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(error) => {
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = cancel.cancelled() => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!(
            "connections still open {SHUTDOWN_GRACE:?} after the worker was stopped: closing them"
        );
    }
    connections.shutdown().await;
}

/// Registers the worker at `deployment` (its URL, as Restate reaches it) with the Restate
/// server whose admin API is at `admin` (`POST /deployments`). Registering the same deployment
/// again is accepted (`force`), so a restarted worker can register again.
pub async fn register(admin: &str, deployment: &str) -> Result<(), RegisterError> {
    let url = format!("{}/deployments", admin.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(REGISTER_TIMEOUT)
        .build()
        .map_err(|source| RegisterError::Unreachable { url: url.clone(), source })?;
    let response = client
        .post(&url)
        .json(&serde_json::json!({ "uri": deployment, "force": true }))
        .send()
        .await
        .map_err(|source| RegisterError::Unreachable { url: url.clone(), source })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    let body = body.chars().take(MAX_ERROR_BODY).collect();
    Err(RegisterError::Refused { deployment: deployment.to_owned(), status: status.as_u16(), body })
}
