//! Serving the Weft services to Restate over HTTP/2, and registering them through Restate's
//! admin API.

use std::net::SocketAddr;
use std::time::Duration;

use restate_sdk::endpoint::Endpoint;
use restate_sdk::http_server::HttpServer;
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

/// Serves `endpoint` over HTTP/2 on `listener` until `cancel` fires.
pub async fn serve(endpoint: Endpoint, listener: TcpListener, cancel: CancellationToken) {
    HttpServer::new(endpoint).serve_with_cancel(listener, cancel.cancelled_owned()).await;
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
