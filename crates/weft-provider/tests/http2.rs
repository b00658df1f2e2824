//! `http2_prior_knowledge` speaks HTTP/2 from the first byte to a plain `http:` server (h2c);
//! without it the client speaks HTTP/1.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::borrow::Cow;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::Version;
use axum::routing::post;
use reqwest::header::HeaderMap;
use weft_provider::{Driver, DriverSettings, Request};

/// Generous against a loaded machine.
const ENOUGH: Duration = Duration::from_secs(15);

/// A plain-http server (HTTP/1.1 and h2c) answering each request with the HTTP version it
/// came in.
struct Server {
    url: reqwest::Url,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve() -> Server {
    let app = Router::new().route("/", post(|version: Version| async move { format!("{version:?}") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap()).parse().unwrap();
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server { url, task }
}

/// The version the server saw for one request sent by the driver `settings` describe.
async fn version_seen(settings: DriverSettings, server: &Server) -> String {
    let driver: Driver = settings.into_driver("TestBuilder", Vec::new()).unwrap();
    let headers = HeaderMap::new();
    let request = Request {
        label: "test",
        url: server.url.clone(),
        shown_url: Cow::Owned(server.url.to_string()),
        headers: &headers,
        body: Bytes::from_static(b"{}"),
    };
    let body = tokio::time::timeout(ENOUGH, driver.fetch(&request)).await.expect("no answer").unwrap();
    String::from_utf8(body.to_vec()).unwrap()
}

/// A builder of the settings, through the shared setters.
#[derive(Default)]
struct TestBuilder {
    settings: DriverSettings,
}

impl TestBuilder {
    weft_provider::driver_setters!(settings);
}

#[tokio::test]
async fn prior_knowledge_speaks_http2_to_a_plain_http_server() {
    let server = serve().await;
    let settings = TestBuilder::default().http2_prior_knowledge().settings;
    assert!(settings.http2_prior_knowledge);
    assert_eq!(version_seen(settings, &server).await, "HTTP/2.0");
}

#[tokio::test]
async fn by_default_the_client_speaks_http1_to_a_plain_http_server() {
    let server = serve().await;
    assert_eq!(version_seen(DriverSettings::default(), &server).await, "HTTP/1.1");
}

#[tokio::test]
async fn runs_in_flight_over_http2_share_one_connection() {
    // Ten requests at once, each answered with the port of the connection it came on.
    let app = Router::new().route(
        "/",
        post(
            |axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>| async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                peer.port().to_string()
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url: reqwest::Url = format!("http://{}/", listener.local_addr().unwrap()).parse().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .await
            .unwrap()
    });
    let server = Server { url, task };
    let driver = TestBuilder::default()
        .http2_prior_knowledge()
        .settings
        .into_driver("TestBuilder", Vec::new())
        .unwrap();
    let headers = HeaderMap::new();
    let request = Request {
        label: "test",
        url: server.url.clone(),
        shown_url: Cow::Owned(server.url.to_string()),
        headers: &headers,
        body: Bytes::from_static(b"{}"),
    };
    let ports = futures::future::join_all((0..10).map(|_| driver.fetch(&request)));
    let ports = tokio::time::timeout(ENOUGH, ports).await.expect("no answer");
    let ports: std::collections::HashSet<Bytes> = ports.into_iter().map(Result::unwrap).collect();
    assert_eq!(ports.len(), 1, "the requests came on {} connections", ports.len());
}
