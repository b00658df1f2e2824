//! Support for the server-side tests: an agent whose tools report what happened to them, and
//! an in-process HTTP server on a free 127.0.0.1 port that the test stops and awaits.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use weft_core::{Agent, ApprovalMode, ChatAgent, FunctionTool, ScriptedClient, Tool};
use weft_mcp::server::{HttpOptions, McpServer};

/// What the tools saw.
#[derive(Clone, Default)]
pub struct Probe {
    pub slow_started: Arc<AtomicBool>,
    pub slow_finished: Arc<AtomicBool>,
    pub slow_dropped: Arc<AtomicBool>,
    pub wiped: Arc<AtomicBool>,
    pub asked: Arc<AtomicUsize>,
}

#[derive(Deserialize, JsonSchema)]
pub struct City {
    /// The city.
    pub city: String,
}

#[derive(Deserialize, JsonSchema)]
pub struct NoArguments {}

/// Sets its flag when dropped: the future holding it was cancelled or finished.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

pub fn weather_tool() -> Arc<dyn Tool> {
    FunctionTool::new("get_weather", "Get the weather for a city", |args: City| async move {
        Ok::<_, String>(format!("weather in {}: sunny", args.city))
    })
    .into_shared()
}

pub fn wipe_tool(probe: &Probe) -> Arc<dyn Tool> {
    let wiped = probe.wiped.clone();
    FunctionTool::new("wipe_cache", "Wipe the cache", move |_: NoArguments| {
        let wiped = wiped.clone();
        async move {
            wiped.store(true, Ordering::SeqCst);
            Ok::<_, String>("cache wiped")
        }
    })
    .with_approval(ApprovalMode::Always)
    .into_shared()
}

fn slow_tool(probe: &Probe) -> Arc<dyn Tool> {
    let probe = probe.clone();
    FunctionTool::new("slow_job", "Start the slow job", move |_: NoArguments| {
        let probe = probe.clone();
        async move {
            let _flag = DropFlag(probe.slow_dropped.clone());
            probe.slow_started.store(true, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(3600)).await;
            probe.slow_finished.store(true, Ordering::SeqCst);
            Ok::<_, String>("done")
        }
    })
    .into_shared()
}

/// An agent named `helper` on the scripted model, with a weather tool, a tool that needs
/// approval (`wipe_cache`) and one that never ends by itself (`slow_job`).
pub fn agent_with_tools(probe: &Probe) -> Arc<dyn Agent> {
    Arc::new(
        ChatAgent::builder(Arc::new(ScriptedClient::new()))
            .name("helper")
            .description("Answers questions; can look up the weather.")
            .shared_tool(weather_tool())
            .shared_tool(wipe_tool(probe))
            .shared_tool(slow_tool(probe))
            .build(),
    )
}

/// A server on 127.0.0.1 at `/mcp`, stopped (and awaited) by [`TestServer::stop`].
pub struct TestServer {
    pub url: String,
    pub port: u16,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    pub async fn start(server: McpServer) -> Self {
        Self::start_with(server, HttpOptions::default()).await
    }

    pub async fn start_with(server: McpServer, options: HttpOptions) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let shutdown = CancellationToken::new();
        let router = server.router("/mcp", options.cancellation(shutdown.child_token()));
        let stop = shutdown.clone();
        let task = tokio::spawn(async move {
            axum::serve(listener, router).with_graceful_shutdown(stop.cancelled_owned()).await.unwrap();
        });
        Self { url: format!("http://127.0.0.1:{port}/mcp"), port, shutdown, task }
    }

    /// Ends every session and waits for the server to stop.
    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.task).await.expect("server stops").unwrap();
    }
}

/// Waits up to 10 s for `condition`.
pub async fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "waited 10 s for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
