//! `weft run --provider bedrock`: signed with the AWS variables, streamed over the AWS event
//! stream from an in-test Bedrock runtime; what is missing is named.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{text, weft};

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, Uri};
use axum::response::IntoResponse;
use axum::routing::post;
use weft_provider::eventstream::{HeaderValue, Message};

const SECRET: &str = "cli-secret-access-key-EXAMPLE";
const TOKEN: &str = "cli-session-token-EXAMPLE";

fn event(kind: &str, payload: &str) -> Vec<u8> {
    Message {
        headers: vec![
            (":event-type".into(), HeaderValue::String(kind.into())),
            (":content-type".into(), HeaderValue::String("application/json".into())),
            (":message-type".into(), HeaderValue::String("event".into())),
        ],
        payload: payload.as_bytes().to_vec().into(),
    }
    .encode()
}

/// A Bedrock runtime answering every ConverseStream call with one sentence; it keeps the
/// request heads.
async fn serve() -> (String, Arc<Mutex<Vec<(String, HeaderMap)>>>, tokio::task::JoinHandle<()>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let app = Router::new().route(
        "/model/{model}/{action}",
        post(move |uri: Uri, headers: HeaderMap| {
            let record = record.clone();
            async move {
                record.lock().unwrap().push((uri.path().to_string(), headers));
                let body = [
                    event("messageStart", r#"{"role":"assistant"}"#),
                    event("contentBlockDelta", r#"{"contentBlockIndex":0,"delta":{"text":"Hello from "}}"#),
                    event("contentBlockDelta", r#"{"contentBlockIndex":0,"delta":{"text":"Bedrock."}}"#),
                    event("contentBlockStop", r#"{"contentBlockIndex":0}"#),
                    event("messageStop", r#"{"stopReason":"end_turn"}"#),
                    event("metadata", r#"{"usage":{"inputTokens":5,"outputTokens":3,"totalTokens":8}}"#),
                ]
                .concat();
                ([("content-type", "application/vnd.amazon.eventstream")], body).into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen, server)
}

#[tokio::test(flavor = "multi_thread")]
async fn bedrock_signs_with_the_aws_variables_and_streams_the_answer() {
    let (url, seen, server) = serve().await;
    let home = tempfile::tempdir().unwrap();
    let mut command = weft();
    command
        .args(["run", "--provider", "bedrock", "--base-url", &url, "--model", "amazon.nova-lite-v1:0", "hi"])
        .env("HOME", home.path())
        .env("AWS_REGION", "eu-central-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDCLIEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_SESSION_TOKEN", TOKEN);
    let output = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();
    server.abort();
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(stdout, "Hello from Bedrock.\n");
    assert!(stderr.contains("bedrock converse at"), "{stderr}");
    assert!(!stderr.contains(SECRET) && !stderr.contains(TOKEN), "{stderr}");
    let seen = seen.lock().unwrap();
    let (path, headers) = &seen[0];
    assert_eq!(path, "/model/amazon.nova-lite-v1%3A0/converse-stream");
    let authorization = headers["authorization"].to_str().unwrap();
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDCLIEXAMPLE/")
            && authorization.contains("/eu-central-1/bedrock/aws4_request, SignedHeaders=")
            && authorization.contains("x-amz-security-token"),
        "{authorization}"
    );
    assert_eq!(headers["x-amz-security-token"], TOKEN);
    assert!(headers.contains_key("x-amz-date"));
}

#[test]
fn what_bedrock_lacks_is_named() {
    let home = tempfile::tempdir().unwrap();
    let output = weft()
        .args(["run", "--provider", "bedrock", "hi"])
        .env("HOME", home.path())
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("--provider bedrock needs a model: --model or BEDROCK_MODEL"));
    let output = weft()
        .args(["run", "--provider", "bedrock", "hi"])
        .env("HOME", home.path())
        .env("AWS_REGION", "us-east-1")
        .env("BEDROCK_MODEL", "amazon.nova-lite-v1:0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("no AWS credentials") && stderr.contains("AWS_ACCESS_KEY_ID"), "{stderr}");
    let help = text(&weft().args(["run", "--help"]).output().unwrap().stdout);
    for name in [
        "AWS_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_PROFILE",
        "AWS_BEARER_TOKEN_BEDROCK",
        "BEDROCK_MODEL",
        "bedrock",
    ] {
        assert!(help.contains(name), "{name} in:\n{help}");
    }
}
