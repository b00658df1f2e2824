//! Managed identity, client secret and workload identity credentials against a local token
//! endpoint: the exact requests, expiry and refresh, HTTP 500, malformed JSON, single flight,
//! and the default chain's report when every credential fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use weft_azure::{
    AzureCliCredential, ClientSecretCredential, CredentialError, DefaultAzureCredential,
    ManagedIdentityCredential, TokenCache, TokenCredential, WorkloadIdentityCredential,
};

const SCOPE: &str = "https://cognitiveservices.azure.com/.default";

/// One request the endpoint saw.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    query: HashMap<String, String>,
    headers: HeaderMap,
    form: HashMap<String, String>,
}

/// What the endpoint answers: each request takes the next answer; the last one repeats.
#[derive(Default)]
struct Endpoint {
    answers: Mutex<Vec<(StatusCode, String)>>,
    seen: Mutex<Vec<Seen>>,
    delay: Duration,
}

async fn answer(
    State(endpoint): State<Arc<Endpoint>>,
    method: Method,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let form = url_form(&body);
    endpoint.seen.lock().unwrap().push(Seen { method, path: uri.path().to_string(), query, headers, form });
    tokio::time::sleep(endpoint.delay).await;
    let mut answers = endpoint.answers.lock().unwrap();
    let (status, body) = if answers.len() > 1 { answers.remove(0) } else { answers[0].clone() };
    (status, [("content-type", "application/json")], body)
}

/// Decodes `a=b&c=d` (values are plain in these tests but for `%xx` and `+`).
fn url_form(body: &[u8]) -> HashMap<String, String> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (decode(name), decode(value)))
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// Serves `answers` on 127.0.0.1; the base URL and the shared state.
async fn serve(answers: Vec<(StatusCode, String)>, delay: Duration) -> (String, Arc<Endpoint>) {
    let endpoint = Arc::new(Endpoint { answers: Mutex::new(answers), seen: Mutex::default(), delay });
    let app = axum::Router::new().fallback(answer).with_state(endpoint.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    // The server lives as long as the test's runtime.
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}"), endpoint)
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn ok(token: &str, expires_on: u64) -> (StatusCode, String) {
    (
        StatusCode::OK,
        format!(
            r#"{{"access_token":"{token}","expires_on":"{expires_on}","resource":"r","token_type":"Bearer"}}"#
        ),
    )
}

#[tokio::test]
async fn imds_is_asked_with_the_metadata_header_and_its_api_version() {
    let expires = unix_now() + 3600;
    let (base, endpoint) = serve(vec![ok("mi-token", expires)], Duration::ZERO).await;
    let credential = ManagedIdentityCredential::imds(format!("{base}/metadata/identity/oauth2/token"));
    let token = credential.client_id("user-assigned-id").get_token(&[SCOPE]).await.unwrap();
    assert_eq!(token.token.expose(), "mi-token");
    assert_eq!(token.expires_on, UNIX_EPOCH + Duration::from_secs(expires));
    let seen = endpoint.seen.lock().unwrap()[0].clone();
    assert_eq!(seen.method, Method::GET);
    assert_eq!(seen.path, "/metadata/identity/oauth2/token");
    assert_eq!(seen.headers["metadata"], "true");
    assert_eq!(seen.query["api-version"], "2018-02-01");
    assert_eq!(seen.query["resource"], "https://cognitiveservices.azure.com");
    assert_eq!(seen.query["client_id"], "user-assigned-id");
}

#[tokio::test]
async fn app_service_is_asked_with_its_identity_header() {
    let (base, endpoint) = serve(vec![ok("app-token", unix_now() + 3600)], Duration::ZERO).await;
    let vars = HashMap::from([
        ("IDENTITY_ENDPOINT", format!("{base}/msi/token")),
        ("IDENTITY_HEADER", "header-secret".to_string()),
    ]);
    let credential = ManagedIdentityCredential::from_vars(|name| vars.get(name).cloned());
    assert!(!format!("{credential:?}").contains("header-secret"));
    let token = credential.get_token(&[SCOPE]).await.unwrap();
    assert_eq!(token.token.expose(), "app-token");
    let seen = endpoint.seen.lock().unwrap()[0].clone();
    assert_eq!(seen.path, "/msi/token");
    assert_eq!(seen.headers["x-identity-header"], "header-secret");
    assert_eq!(seen.query["api-version"], "2019-08-01");
    assert_eq!(seen.query["resource"], "https://cognitiveservices.azure.com");
}

#[tokio::test]
async fn a_500_and_malformed_json_are_failures() {
    let (base, _) =
        serve(vec![(StatusCode::INTERNAL_SERVER_ERROR, r#"{"error":"boom"}"#.into())], Duration::ZERO).await;
    let err = ManagedIdentityCredential::imds(&base).get_token(&[SCOPE]).await.unwrap_err();
    assert!(matches!(err, CredentialError::Failed { .. }), "{err:?}");
    assert!(err.to_string().contains("HTTP 500: boom"), "{err}");
    let (base, _) =
        serve(vec![(StatusCode::OK, r#"{"access_token":"half-token","#.into())], Duration::ZERO).await;
    let err = ManagedIdentityCredential::imds(&base).get_token(&[SCOPE]).await.unwrap_err();
    assert!(err.to_string().contains("not JSON"), "{err}");
    assert!(!format!("{err:?}").contains("half-token"));
}

#[tokio::test]
async fn imds_without_an_identity_or_outside_azure_is_unavailable() {
    let body = r#"{"error":"invalid_request","error_description":"Identity not found"}"#;
    let (base, _) = serve(vec![(StatusCode::BAD_REQUEST, body.into())], Duration::ZERO).await;
    let err = ManagedIdentityCredential::imds(&base).get_token(&[SCOPE]).await.unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    let closed = closed_port_url().await;
    let err = ManagedIdentityCredential::imds(closed).get_token(&[SCOPE]).await.unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    assert!(err.to_string().contains("could not be reached"), "{err}");
}

/// A URL on 127.0.0.1 where nothing listens.
async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}/token")
}

#[tokio::test]
async fn a_client_secret_is_posted_to_the_tenants_token_endpoint() {
    let (base, endpoint) = serve(
        vec![(
            StatusCode::OK,
            r#"{"token_type":"Bearer","expires_in":3599,"access_token":"sp-token"}"#.into(),
        )],
        Duration::ZERO,
    )
    .await;
    let credential = ClientSecretCredential::new("my-tenant", "my-client", "s3cret").authority_host(&base);
    assert!(!format!("{credential:?}").contains("s3cret"));
    let token = credential.get_token(&[SCOPE]).await.unwrap();
    assert_eq!(token.token.expose(), "sp-token");
    let left = token.expires_on.duration_since(SystemTime::now()).unwrap();
    assert!(left > Duration::from_secs(3000) && left <= Duration::from_secs(3599), "{left:?}");
    let seen = endpoint.seen.lock().unwrap()[0].clone();
    assert_eq!(seen.method, Method::POST);
    assert_eq!(seen.path, "/my-tenant/oauth2/v2.0/token");
    assert_eq!(seen.headers["content-type"], "application/x-www-form-urlencoded");
    assert_eq!(seen.form["grant_type"], "client_credentials");
    assert_eq!(seen.form["client_id"], "my-client");
    assert_eq!(seen.form["client_secret"], "s3cret");
    assert_eq!(seen.form["scope"], SCOPE);
}

#[tokio::test]
async fn a_refused_secret_names_the_error_and_hides_the_secret() {
    let body = r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x"}"#;
    let (base, _) = serve(vec![(StatusCode::UNAUTHORIZED, body.into())], Duration::ZERO).await;
    let credential = ClientSecretCredential::new("t", "c", "s3cret").authority_host(&base);
    let err = credential.get_token(&[SCOPE]).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "ClientSecretCredential failed: the token endpoint answered HTTP 401: invalid_client: \
         AADSTS7000215: Invalid client secret provided."
    );
    assert!(!format!("{err:?}").contains("s3cret"));
}

#[tokio::test]
async fn workload_identity_sends_the_federated_token_as_its_assertion() {
    let (base, endpoint) = serve(
        vec![(
            StatusCode::OK,
            r#"{"token_type":"Bearer","expires_in":3600,"access_token":"wi-token"}"#.into(),
        )],
        Duration::ZERO,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "federated-jwt\n").unwrap();
    let vars = HashMap::from([
        ("AZURE_TENANT_ID", "tenant-1".to_string()),
        ("AZURE_CLIENT_ID", "client-1".to_string()),
        ("AZURE_FEDERATED_TOKEN_FILE", file.display().to_string()),
        ("AZURE_AUTHORITY_HOST", base.clone()),
    ]);
    let credential = WorkloadIdentityCredential::from_vars(|name| vars.get(name).cloned()).unwrap();
    assert_eq!(credential.get_token(&[SCOPE]).await.unwrap().token.expose(), "wi-token");
    let seen = endpoint.seen.lock().unwrap()[0].clone();
    assert_eq!(seen.path, "/tenant-1/oauth2/v2.0/token");
    assert_eq!(seen.form["client_assertion_type"], "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    assert_eq!(seen.form["client_assertion"], "federated-jwt");
    assert_eq!(seen.form["client_id"], "client-1");
    assert_eq!(seen.form["grant_type"], "client_credentials");
    // A missing file is a failure naming it.
    std::fs::remove_file(&file).unwrap();
    let err = credential.get_token(&[SCOPE]).await.unwrap_err();
    assert!(err.to_string().contains("could not read the federated token file"), "{err}");
    // Missing variables make it unavailable, naming them.
    let err = WorkloadIdentityCredential::from_vars(|_| None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "WorkloadIdentityCredential is unavailable: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE not set"
    );
}

#[tokio::test]
async fn a_cached_token_is_renewed_when_it_nears_its_expiry() {
    // The first token expires in two minutes (inside the five-minute margin), the second in
    // an hour.
    let (base, endpoint) =
        serve(vec![ok("short", unix_now() + 120), ok("long", unix_now() + 3600)], Duration::ZERO).await;
    let cache = TokenCache::new(Arc::new(ManagedIdentityCredential::imds(&base)));
    assert_eq!(cache.get_token(&[SCOPE]).await.unwrap().token.expose(), "short");
    assert_eq!(cache.get_token(&[SCOPE]).await.unwrap().token.expose(), "long");
    assert_eq!(cache.get_token(&[SCOPE]).await.unwrap().token.expose(), "long");
    assert_eq!(endpoint.seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn concurrent_requests_make_one_fetch() {
    let (base, endpoint) = serve(
        vec![(StatusCode::OK, r#"{"expires_in":3600,"access_token":"shared"}"#.into())],
        Duration::from_millis(100),
    )
    .await;
    let cache =
        Arc::new(TokenCache::new(Arc::new(ClientSecretCredential::new("t", "c", "s").authority_host(&base))));
    let calls = (0..20).map(|_| {
        let cache = cache.clone();
        async move { cache.get_token(&[SCOPE]).await.unwrap() }
    });
    let tokens = futures::future::join_all(calls).await;
    assert!(tokens.iter().all(|token| token.token.expose() == "shared"));
    assert_eq!(endpoint.seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn the_default_chain_lists_why_each_credential_failed() {
    let empty = tempfile::tempdir().unwrap();
    let chain = DefaultAzureCredential::with_chain(vec![
        Arc::new(weft_azure::EnvironmentCredential::from_vars(|_| None)),
        Arc::new(ManagedIdentityCredential::imds(closed_port_url().await)),
        Arc::new(AzureCliCredential::new().search_path(empty.path())),
    ]);
    let err = chain.get_token(&[SCOPE]).await.unwrap_err();
    let CredentialError::Chain(errors) = &err else { panic!("{err:?}") };
    assert_eq!(errors.len(), 3);
    let text = err.to_string();
    assert!(text.starts_with("no credential could get a token:\n"), "{text}");
    assert!(text.contains("EnvironmentCredential is unavailable: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET not set"), "{text}");
    assert!(text.contains("ManagedIdentityCredential is unavailable"), "{text}");
    assert!(
        text.contains("AzureCliCredential is unavailable: the Azure CLI (az) is not installed"),
        "{text}"
    );
}

#[tokio::test]
async fn the_default_chain_stops_at_a_configured_credential_that_fails_and_keeps_a_winner() {
    let (refusing, _) =
        serve(vec![(StatusCode::UNAUTHORIZED, r#"{"error":"invalid_client"}"#.into())], Duration::ZERO).await;
    let (granting, granted) = serve(vec![ok("mi", unix_now() + 3600)], Duration::ZERO).await;
    let vars = HashMap::from([
        ("AZURE_TENANT_ID", "t".to_string()),
        ("AZURE_CLIENT_ID", "c".to_string()),
        ("AZURE_CLIENT_SECRET", "s".to_string()),
        ("AZURE_AUTHORITY_HOST", refusing),
    ]);
    let chain = DefaultAzureCredential::with_chain(vec![
        Arc::new(weft_azure::EnvironmentCredential::from_vars(|name| vars.get(name).cloned())),
        Arc::new(ManagedIdentityCredential::imds(&granting)),
    ]);
    let err = chain.get_token(&[SCOPE]).await.unwrap_err();
    let CredentialError::Chain(errors) = &err else { panic!("{err:?}") };
    assert_eq!(errors.len(), 1, "{err}");
    assert!(granted.seen.lock().unwrap().is_empty());
    // Unconfigured credentials pass; the first that works is kept.
    let chain = DefaultAzureCredential::with_chain(vec![
        Arc::new(weft_azure::EnvironmentCredential::from_vars(|_| None)),
        Arc::new(ManagedIdentityCredential::imds(&granting)),
    ]);
    assert_eq!(chain.get_token(&[SCOPE]).await.unwrap().token.expose(), "mi");
    assert_eq!(chain.get_token(&[SCOPE]).await.unwrap().token.expose(), "mi");
}

#[tokio::test]
async fn the_default_chain_reads_its_configuration_from_the_environment() {
    let (base, endpoint) =
        serve(vec![(StatusCode::OK, r#"{"expires_in":3600,"access_token":"env"}"#.into())], Duration::ZERO)
            .await;
    let vars = HashMap::from([
        ("AZURE_TENANT_ID", "t".to_string()),
        ("AZURE_CLIENT_ID", "c".to_string()),
        ("AZURE_CLIENT_SECRET", "s".to_string()),
        ("AZURE_AUTHORITY_HOST", base),
    ]);
    let chain = DefaultAzureCredential::from_vars(|name| vars.get(name).cloned());
    assert_eq!(chain.get_token(&[SCOPE]).await.unwrap().token.expose(), "env");
    assert_eq!(endpoint.seen.lock().unwrap()[0].path, "/t/oauth2/v2.0/token");
}
