//! MAF's Azure models: `AzureAIClient` (a Foundry project) and `AzureOpenAI.Chat` with
//! `connection.kind: remote`, signed in with the caller's token credential.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use weft_declarative::{Bindings, LoadOptions, plan_str_with};
use weft_provider::{AccessToken, CredentialError, TokenCredential};

#[derive(Debug)]
struct FakeCredential;

#[async_trait::async_trait]
impl TokenCredential for FakeCredential {
    async fn get_token(&self, _scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        Ok(AccessToken::new("tok", SystemTime::now() + Duration::from_secs(3600)))
    }
}

/// MAF's "Agent with Azure AI Client" example, its endpoint written out.
const FOUNDRY: &str = "\
kind: Prompt
name: AzureAIAgent
description: Agent using Azure AI Foundry
instructions: You are an expert assistant.
model:
  id: gpt-4o-mini
  provider: AzureAIClient
  connection:
    kind: remote
    endpoint: https://my-resource.services.ai.azure.com/api/projects/my-project
  options:
    temperature: 0.8
";

/// MAF's "Basic Agent" on Azure OpenAI with a remote connection.
const AZURE_OPENAI: &str = "\
kind: Prompt
name: BasicAgent
instructions: You are a helpful assistant that answers questions concisely.
model:
  id: gpt-4
  provider: AzureOpenAI.Chat
  connection:
    kind: remote
    endpoint: https://myresource.openai.azure.com
";

fn with_credential() -> LoadOptions {
    LoadOptions { credential: Some(Arc::new(FakeCredential)), ..LoadOptions::default() }
}

#[test]
fn an_azure_ai_client_targets_the_projects_responses_api() {
    let plan =
        plan_str_with(FOUNDRY, Path::new("foundry.yaml"), &Bindings::new(), &with_credential()).unwrap();
    assert_eq!(
        plan.model_description,
        "azure.ai.openai responses at https://my-resource.services.ai.azure.com/api/projects/my-project/openai/v1, \
         model gpt-4o-mini"
    );
    assert_eq!(plan.options.temperature, Some(0.8));
}

#[test]
fn azure_openai_chat_with_a_remote_connection_uses_the_credential() {
    let plan =
        plan_str_with(AZURE_OPENAI, Path::new("azure.yaml"), &Bindings::new(), &with_credential()).unwrap();
    assert_eq!(
        plan.model_description,
        "azure.ai.openai chat at https://myresource.openai.azure.com, model gpt-4"
    );
}

#[test]
fn a_remote_connection_without_a_credential_is_reported() {
    for (text, provider) in [(FOUNDRY, "AzureAIClient"), (AZURE_OPENAI, "AzureOpenAI.Chat")] {
        let err =
            plan_str_with(text, Path::new("a.yaml"), &Bindings::new(), &LoadOptions::default()).unwrap_err();
        let problems = err.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].message.contains(&format!("provider `{provider}` signs in with Microsoft Entra ID"))
        );
        assert!(problems[0].message.contains("LoadOptions::credential"), "{}", problems[0].message);
    }
}

#[test]
fn an_azure_ai_client_without_an_endpoint_names_what_to_set() {
    let text = FOUNDRY
        .replace("    endpoint: https://my-resource.services.ai.azure.com/api/projects/my-project\n", "");
    // The variables the endpoint may come from are not set in tests.
    if std::env::var_os("FOUNDRY_PROJECT_ENDPOINT").is_some()
        || std::env::var_os("AZURE_AI_PROJECT_ENDPOINT").is_some()
    {
        panic!("unset FOUNDRY_PROJECT_ENDPOINT and AZURE_AI_PROJECT_ENDPOINT to run this test");
    }
    let err = plan_str_with(&text, Path::new("a.yaml"), &Bindings::new(), &with_credential()).unwrap_err();
    assert!(err.problems()[0].message.contains("FOUNDRY_PROJECT_ENDPOINT"), "{err}");
}
