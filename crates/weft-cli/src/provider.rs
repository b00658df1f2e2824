//! Choosing the model: the OpenAI-compatible provider when configured, else the scripted model.

use std::sync::Arc;

use weft::openai::OpenAIBuilder;
use weft::{ChatClient, ScriptedClient};

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

/// The OpenAI-compatible provider: the environment's settings (`OPENAI_API_KEY`,
/// `OPENAI_BASE_URL`, …), with `--base-url` and the model on top, calling the chosen API.
fn openai(base_url: Option<&str>, model: &str, api: Api) -> Result<Provider, CliError> {
    let mut builder = OpenAIBuilder::from_env().model(model);
    if let Some(base_url) = base_url {
        builder = builder.base_url(base_url);
    }
    let openai = builder.build().map_err(CliError::Provider)?;
    let description =
        format!("{} {} at {}, model {model}", openai.provider_name(), api.label(), openai.base_url());
    let client: Arc<dyn ChatClient> = match api {
        Api::Chat => Arc::new(openai.chat()),
        Api::Responses => Arc::new(openai.responses()),
    };
    Ok(Provider { client, description, model: Some(model.to_string()) })
}

/// Checks `--base-url`: an absolute http(s) URL.
pub(crate) fn parse_base_url(value: &str) -> Result<String, String> {
    let value = value.trim();
    let rest = value.strip_prefix("https://").or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(value.to_string()),
        _ => Err(format!(
            "expected an http:// or https:// URL such as http://localhost:11434/v1, got {value:?}"
        )),
    }
}
