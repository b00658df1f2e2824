//! A worker serving the demo durable agent ([`weft_restate::demo`]) and the demo workflow
//! ([`weft_restate::demo_workflow`]) to Restate, used by the fault tests and as an example. Configured through the environment:
//! - `WEFT_RESTATE_ADDR`: where to listen (default `127.0.0.1:9080`);
//! - `WEFT_RESTATE_ADMIN`: Restate's admin URL; when set, the worker registers itself there;
//! - `WEFT_RESTATE_COUNTS`: a directory where the demo model and tools count their calls;
//! - `WEFT_RESTATE_LOOKUP_MS`: how long `slow_lookup` and the workflow's `lookup` take
//!   (default 0);
//! - `WEFT_RESTATE_MAX_ATTEMPTS`: attempts of a failing step (default 5);
//! - `WEFT_RESTATE_MIDDLEWARE`: `1` makes the calls durable with the `DurableCalls` middleware
//!   instead of the decorators.
//!
//! It serves until interrupted (Ctrl-C).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use restate_sdk::endpoint::Endpoint;
use tokio_util::sync::CancellationToken;
use weft_restate::demo::{DemoSettings, agent};
use weft_restate::{
    AgentObject, RegisterError, ServeError, StepRetry, WorkflowService, bind, register, serve,
};

#[derive(Debug, thiserror::Error)]
enum WorkerError {
    #[error("{name} is not valid: {value:?}")]
    Setting { name: &'static str, value: String },
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error(transparent)]
    Register(#[from] RegisterError),
    #[error("the demo workflow does not build: {0}")]
    Workflow(#[from] weft_workflow::BuildError),
    #[error("cannot read the listening address: {0}")]
    Address(std::io::Error),
}

fn setting<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, WorkerError> {
    match std::env::var(name) {
        Ok(value) => value.parse().map_err(|_| WorkerError::Setting { name, value }),
        Err(_) => Ok(default),
    }
}

async fn run() -> Result<(), WorkerError> {
    let address: SocketAddr = setting("WEFT_RESTATE_ADDR", SocketAddr::from(([127, 0, 0, 1], 9080)))?;
    let lookup_ms: u64 = setting("WEFT_RESTATE_LOOKUP_MS", 0)?;
    let max_attempts: u32 = setting("WEFT_RESTATE_MAX_ATTEMPTS", StepRetry::default().max_attempts)?;
    let counts = std::env::var_os("WEFT_RESTATE_COUNTS").map(PathBuf::from);
    let as_middleware = setting("WEFT_RESTATE_MIDDLEWARE", 0u8)? == 1;
    let settings = DemoSettings { counts, lookup_delay: Duration::from_millis(lookup_ms), as_middleware };
    let retry = StepRetry { max_attempts, ..StepRetry::default() };

    let listener = bind(address).await?;
    let local = listener.local_addr().map_err(WorkerError::Address)?;
    let cancel = CancellationToken::new();
    let endpoint = Endpoint::builder()
        .bind(AgentObject::new(agent(&settings), retry))
        .bind(WorkflowService::new(weft_restate::demo_workflow::workflow(&settings)?, retry))
        .build();
    let server = serve(endpoint, listener, cancel.clone());
    tokio::pin!(server);
    if let Ok(admin) = std::env::var("WEFT_RESTATE_ADMIN") {
        let deployment = format!("http://{local}");
        tokio::select! {
            registered = register(&admin, &deployment) => registered?,
            () = &mut server => return Ok(()),
        }
        println!("registered {deployment} with {admin}");
    }
    println!("serving on {local}");
    let interrupted = tokio::select! {
        () = &mut server => false,
        _ = tokio::signal::ctrl_c() => true,
    };
    if interrupted {
        cancel.cancel();
        server.await;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("weft-restate-demo-worker: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
