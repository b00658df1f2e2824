//! # weft-azure
//!
//! Microsoft Entra ID token credentials for Weft's providers: each implements
//! [`weft_provider::TokenCredential`], which `weft-openai` takes to sign Azure OpenAI and
//! Microsoft Foundry requests with a bearer token instead of an API key.
//!
//! | credential | where it gets tokens |
//! |---|---|
//! | [`AzureCliCredential`] | `az account get-access-token` (the user of `az login`) |
//! | [`ManagedIdentityCredential`] | the Azure resource's identity: IMDS, or App Service / Container Apps (`IDENTITY_ENDPOINT`, `IDENTITY_HEADER`) |
//! | [`ClientSecretCredential`] | an app registration's secret, at the OAuth2 token endpoint |
//! | [`WorkloadIdentityCredential`] | Kubernetes workload identity (`AZURE_CLIENT_ID`, `AZURE_TENANT_ID`, `AZURE_FEDERATED_TOKEN_FILE`) |
//! | [`EnvironmentCredential`] | `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET` |
//! | [`DefaultAzureCredential`] | the first of: environment, workload identity, managed identity, Azure CLI |
//!
//! The credentials fetch a token on every call; a provider wraps them in a
//! [`weft_provider::TokenCache`], which keeps each token until five minutes before it expires
//! and fetches it once when many requests need it at once. Tokens and secrets never show in
//! `Debug` output, errors or logs.
//!
//! ## Why not the `azure_identity` crate
//!
//! Written by hand on purpose: Microsoft's `azure_identity` brings `azure_core` (its own HTTP
//! pipeline, retry policy and error type, `typespec`, and a second HTTP stack configuration)
//! for what here is four small HTTP or process calls, and its errors are not Weft's typed,
//! actionable ones. Since 0.28 it also replaced `DefaultAzureCredential` with
//! `DeveloperToolsCredential` (CLI tools only), while MAF's quickstart and docs rely on the
//! full chain (environment, workload identity, managed identity, CLI). The part written
//! here is small: form posts to the token endpoint, a GET to the identity endpoint, and one
//! `az` call, each with its failures mapped to what the user should do.

mod cli;
mod default;
mod managed_identity;
mod oauth;
mod token;

pub use cli::{AzureCliCredential, DEFAULT_CLI_TIMEOUT};
pub use default::DefaultAzureCredential;
pub use managed_identity::{
    APP_SERVICE_API_VERSION, IMDS_API_VERSION, IMDS_ENDPOINT, ManagedIdentityCredential,
};
pub use oauth::{
    ClientSecretCredential, DEFAULT_AUTHORITY_HOST, EnvironmentCredential, WorkloadIdentityCredential,
};
pub use weft_provider::{AccessToken, CredentialError, Secret, TokenCache, TokenCredential};
