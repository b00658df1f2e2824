//! Choosing the model: the OpenAI-compatible provider when configured, else the scripted model.

use std::sync::Arc;

use weft::{ChatClient, ChatError, ChatErrorKind, ScriptedClient};

use crate::error::CliError;
use crate::{Api, RunArgs};

/// The model used with the OpenAI-compatible provider when neither `--model` nor
/// `OPENAI_MODEL` names one.
pub(crate) const DEFAULT_OPENAI_MODEL: &str = "gpt-4o-mini";

/// A chat client and the line that tells the user which one it is.
pub(crate) struct Provider {
    /// The client.
    pub(crate) client: Arc<dyn ChatClient>,
    /// What it is, e.g. `openai chat at https://…, model gpt-4o-mini`.
    pub(crate) description: String,
    /// The model to ask for, when the provider needs one.
    pub(crate) model: Option<String>,
}

/// Reads a non-empty environment variable.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}

/// Picks the provider from the flags and the environment.
pub(crate) fn select(args: &RunArgs) -> Result<Provider, CliError> {
    let configured =
        args.base_url.is_some() || env("OPENAI_API_KEY").is_some() || env("OPENAI_BASE_URL").is_some();
    if !configured {
        return Ok(Provider {
            client: Arc::new(ScriptedClient::new()),
            description: "the scripted model (no OPENAI_API_KEY or --base-url; set one to use a real model)"
                .into(),
            model: None,
        });
    }
    let model =
        args.model.clone().or_else(|| env("OPENAI_MODEL")).unwrap_or_else(|| DEFAULT_OPENAI_MODEL.into());
    openai(args.base_url.as_deref(), &model, args.api)
}

/// The OpenAI-compatible provider is not in this build yet: say so and how to go on.
fn openai(_base_url: Option<&str>, _model: &str, api: Api) -> Result<Provider, CliError> {
    Err(CliError::Provider(
        ChatError::new(
            ChatErrorKind::Configuration,
            format!(
                "the OpenAI-compatible provider ({} API) is not available in this build yet; \
                 unset OPENAI_API_KEY and OPENAI_BASE_URL and drop --base-url to use the scripted model",
                api.label()
            ),
        )
        .with_provider("openai"),
    ))
}
