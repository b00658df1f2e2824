//! Microsoft Entra ID and Foundry on the wire: the exact URLs, headers, api-versions and token
//! scopes of Azure OpenAI (api-key and bearer, dated and v1 API) and Foundry projects.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::json;
use support::bodies;
use weft_core::{ChatClient, ChatErrorKind};
use weft_openai::{AccessToken, CredentialError, OpenAI, TokenCredential};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Hands out `tok-N`, valid for an hour, recording the scopes it is asked for.
#[derive(Debug, Default)]
struct FakeCredential {
    fetches: AtomicUsize,
    scopes: Mutex<Vec<Vec<String>>>,
    refuse: bool,
}

#[async_trait::async_trait]
impl TokenCredential for FakeCredential {
    async fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        self.scopes.lock().unwrap().push(scopes.iter().map(|scope| scope.to_string()).collect());
        if self.refuse {
            return Err(CredentialError::unavailable("FakeCredential", "run az login"));
        }
        let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(AccessToken::new(format!("tok-{n}"), SystemTime::now() + Duration::from_secs(3600)))
    }
}

fn chat_answer() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"id": "x", "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}))
}

fn responses_answer() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"id": "r", "status": "completed", "output": [
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok"}]}
    ]}))
}

/// The request's query string (`None` when it has none).
async fn query(server: &MockServer) -> Option<String> {
    server.received_requests().await.unwrap()[0].url.query().map(str::to_string)
}

#[tokio::test]
async fn azure_chat_with_entra_sends_a_bearer_token_for_the_cognitive_services_scope() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/openai/deployments/my-gpt/chat/completions"))
        .and(query_param("api-version", "2024-10-21"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(chat_answer())
        .expect(2)
        .mount(&server)
        .await;
    let credential = Arc::new(FakeCredential::default());
    let azure = OpenAI::builder()
        .azure_endpoint(server.uri())
        .azure_deployment("my-gpt")
        .token_credential(credential.clone())
        .build()
        .unwrap();
    assert!(!format!("{azure:?}").contains("tok-1"));
    let chat = azure.chat();
    assert_eq!(chat.info().provider, "azure.ai.openai");
    chat.get_response(support::ask("hi")).await.unwrap();
    chat.get_response(support::ask("again")).await.unwrap();
    // One token for both requests, for the Azure OpenAI scope.
    assert_eq!(credential.fetches.load(Ordering::SeqCst), 1);
    assert_eq!(
        *credential.scopes.lock().unwrap(),
        vec![vec!["https://cognitiveservices.azure.com/.default"]]
    );
    let request = &server.received_requests().await.unwrap()[0];
    assert!(request.headers.get("api-key").is_none());
}

#[tokio::test]
async fn azure_v1_puts_chat_and_responses_on_openai_v1_without_an_api_version() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/openai/v1/chat/completions"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(chat_answer())
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/openai/v1/responses"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(responses_answer())
        .expect(1)
        .mount(&server)
        .await;
    let azure = OpenAI::builder()
        .azure_endpoint(format!("{}/", server.uri()))
        .azure_deployment("my-gpt")
        .azure_api_version("v1")
        .token_credential(Arc::new(FakeCredential::default()))
        .build()
        .unwrap();
    azure.chat().get_response(support::ask("hi")).await.unwrap();
    assert_eq!(query(&server).await, None);
    azure.responses().get_response(support::ask("hi")).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert!(requests.iter().all(|request| request.url.query().is_none()));
    let bodies = bodies(&server).await;
    assert_eq!(bodies[0]["model"], json!("my-gpt"));
    assert_eq!(bodies[1]["model"], json!("my-gpt"));
}

#[tokio::test]
async fn azure_v1_with_an_api_key_sends_the_api_key_header() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/openai/v1/chat/completions"))
        .and(header("api-key", "azure-key"))
        .respond_with(chat_answer())
        .expect(1)
        .mount(&server)
        .await;
    let azure = OpenAI::builder()
        .azure_endpoint(server.uri())
        .azure_deployment("my-gpt")
        .azure_api_version("v1")
        .api_key("azure-key")
        .build()
        .unwrap();
    azure.chat().get_response(support::ask("hi")).await.unwrap();
    assert!(server.received_requests().await.unwrap()[0].headers.get("authorization").is_none());
}

#[tokio::test]
async fn a_foundry_project_gets_responses_on_its_openai_v1_path_with_the_foundry_scope() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/projects/my-project/openai/v1/responses"))
        .and(header("authorization", "Bearer tok-1"))
        .and(header("content-type", "application/json"))
        .respond_with(responses_answer())
        .expect(1)
        .mount(&server)
        .await;
    let credential = Arc::new(FakeCredential::default());
    let project = format!("{}/api/projects/my-project", server.uri());
    let vars =
        [("FOUNDRY_PROJECT_ENDPOINT", project.as_str()), ("FOUNDRY_MODEL_DEPLOYMENT_NAME", "gpt-4o-mini")];
    let foundry = weft_openai::OpenAIBuilder::foundry_from_vars(|name| {
        vars.iter().find(|(key, _)| *key == name).map(|(_, value)| value.to_string())
    })
    .token_credential(credential.clone())
    .build()
    .unwrap();
    let responses = foundry.responses();
    assert_eq!(responses.info().provider, "azure.ai.openai");
    assert_eq!(responses.info().default_model.as_deref(), Some("gpt-4o-mini"));
    let response = responses.get_response(support::ask("hi")).await.unwrap();
    assert_eq!(response.text_content(), "ok");
    assert_eq!(query(&server).await, None);
    assert_eq!(bodies(&server).await[0]["model"], json!("gpt-4o-mini"));
    assert_eq!(*credential.scopes.lock().unwrap(), vec![vec!["https://ai.azure.com/.default"]]);
}

#[tokio::test]
async fn the_azure_ai_variables_configure_foundry_too() {
    let vars = [
        ("AZURE_AI_PROJECT_ENDPOINT", "https://r.services.ai.azure.com/api/projects/p/"),
        ("AZURE_AI_MODEL_DEPLOYMENT_NAME", "dep"),
    ];
    let foundry = weft_openai::OpenAIBuilder::foundry_from_vars(|name| {
        vars.iter().find(|(key, _)| *key == name).map(|(_, value)| value.to_string())
    })
    .token_credential(Arc::new(FakeCredential::default()))
    .build()
    .unwrap();
    assert_eq!(foundry.base_url(), "https://r.services.ai.azure.com/api/projects/p/openai/v1");
    assert_eq!(foundry.default_model(), Some("dep"));
}

#[tokio::test]
async fn a_credential_that_fails_is_an_authentication_error_and_nothing_is_sent() {
    let server = MockServer::start().await;
    let azure = OpenAI::builder()
        .azure_endpoint(server.uri())
        .azure_deployment("d")
        .token_credential(Arc::new(FakeCredential { refuse: true, ..FakeCredential::default() }))
        .build()
        .unwrap();
    let err = azure.chat().get_response(support::ask("hi")).await.unwrap_err();
    assert_eq!(err.kind(), ChatErrorKind::Authentication);
    assert!(err.to_string().contains("FakeCredential is unavailable: run az login"), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn streams_and_model_lists_carry_the_token_too() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/openai/v1/chat/completions"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(support::sse_response(support::chat_sse(
            &[json!({"id": "c", "choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}]})],
            true,
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/openai/v1/models"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": [{"id": "m"}]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let azure = OpenAI::builder()
        .azure_endpoint(server.uri())
        .azure_deployment("d")
        .azure_api_version("v1")
        .token_credential(Arc::new(FakeCredential::default()))
        .build()
        .unwrap();
    let (updates, error) = support::collect(&azure.chat(), support::ask("hi")).await;
    assert!(error.is_none(), "{error:?}");
    let text: String = updates.iter().map(|update| update.text_content()).collect();
    assert_eq!(text, "ok");
    assert_eq!(azure.list_models().await.unwrap()[0].id, "m");
}

#[test]
fn a_key_and_a_credential_together_or_a_credential_without_a_scope_are_refused() {
    let err = OpenAI::builder()
        .azure_endpoint("https://r.openai.azure.com")
        .api_key("k")
        .token_credential(Arc::new(FakeCredential::default()))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ChatErrorKind::Configuration);
    assert!(err.to_string().contains("both an API key and a token credential"), "{err}");
    let err = OpenAI::builder()
        .base_url("http://127.0.0.1:1/v1")
        .token_credential(Arc::new(FakeCredential::default()))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("token_scope"), "{err}");
    let err = OpenAI::builder()
        .foundry_project("https://r.services.ai.azure.com/api/projects/p")
        .base_url("http://127.0.0.1:1/v1")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("Foundry project endpoint"), "{err}");
}
