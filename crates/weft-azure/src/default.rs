//! [`DefaultAzureCredential`]: the chain that works on a laptop and in Azure alike.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use weft_provider::{AccessToken, CredentialError, TokenCredential};

use crate::cli::AzureCliCredential;
use crate::managed_identity::ManagedIdentityCredential;
use crate::oauth::{EnvironmentCredential, WorkloadIdentityCredential, get};

/// No credential of the chain has worked yet.
const NONE_YET: usize = usize::MAX;

/// Tries, in order: the environment ([`EnvironmentCredential`]), workload identity
/// ([`WorkloadIdentityCredential`]), managed identity ([`ManagedIdentityCredential`],
/// user-assigned when `AZURE_CLIENT_ID` is set) and the Azure CLI ([`AzureCliCredential`]).
///
/// A credential that cannot work here ([unavailable](CredentialError::Unavailable): not
/// configured, not in Azure, `az` not installed or not signed in) passes to the next one; one
/// that is configured but fails (a refused secret) stops the chain, so that a broken
/// deployment does not quietly fall back to a developer's identity. The first that succeeds is
/// used from then on. When none succeeds, the error ([`CredentialError::Chain`]) lists why each
/// one failed.
#[derive(Debug, Clone)]
pub struct DefaultAzureCredential {
    chain: Arc<[Arc<dyn TokenCredential>]>,
    chosen: Arc<AtomicUsize>,
}

impl Default for DefaultAzureCredential {
    fn default() -> Self {
        Self::new()
    }
}

impl DefaultAzureCredential {
    /// The chain configured from the process's environment.
    pub fn new() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The chain configured from the variables read through `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let mut managed = ManagedIdentityCredential::from_vars(&var);
        if let Some(client_id) = get(&var, "AZURE_CLIENT_ID") {
            managed = managed.client_id(client_id);
        }
        let workload: Arc<dyn TokenCredential> = match WorkloadIdentityCredential::from_vars(&var) {
            Ok(credential) => Arc::new(credential),
            Err(CredentialError::Unavailable { credential, message }) => {
                Arc::new(NotConfigured { credential, message })
            }
            Err(other) => Arc::new(NotConfigured {
                credential: "WorkloadIdentityCredential".to_string(),
                message: other.to_string(),
            }),
        };
        Self::with_chain(vec![
            Arc::new(EnvironmentCredential::from_vars(&var)),
            workload,
            Arc::new(managed),
            Arc::new(AzureCliCredential::new()),
        ])
    }

    /// A chain of these credentials, tried in order with the same rules.
    pub fn with_chain(chain: Vec<Arc<dyn TokenCredential>>) -> Self {
        Self { chain: chain.into(), chosen: Arc::new(AtomicUsize::new(NONE_YET)) }
    }
}

#[async_trait]
impl TokenCredential for DefaultAzureCredential {
    async fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        let chosen = self.chosen.load(Ordering::Relaxed);
        if let Some(credential) = self.chain.get(chosen) {
            return credential.get_token(scopes).await;
        }
        let mut errors = Vec::new();
        for (index, credential) in self.chain.iter().enumerate() {
            match credential.get_token(scopes).await {
                Ok(token) => {
                    tracing::debug!(index, "DefaultAzureCredential chose a credential of its chain");
                    self.chosen.store(index, Ordering::Relaxed);
                    return Ok(token);
                }
                Err(err) => {
                    let stop = !err.is_unavailable();
                    errors.push(err);
                    if stop {
                        break;
                    }
                }
            }
        }
        Err(CredentialError::Chain(errors))
    }
}

/// A credential of the chain that is not configured, keeping the reason.
#[derive(Debug)]
struct NotConfigured {
    credential: String,
    message: String,
}

#[async_trait]
impl TokenCredential for NotConfigured {
    async fn get_token(&self, _scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        Err(CredentialError::unavailable(self.credential.clone(), self.message.clone()))
    }
}
