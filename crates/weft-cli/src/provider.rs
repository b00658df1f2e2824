//! Choosing the model: the provider `--provider` names; else the OpenAI-compatible provider
//! when configured, else the scripted model.

use std::sync::Arc;
use std::time::Duration;

use weft::anthropic::AnthropicBuilder;
use weft::bedrock::BedrockBuilder;
use weft::declarative::ModelOverride;
use weft::gemini::GeminiBuilder;
use weft::ollama::OllamaBuilder;
use weft::openai::{DEFAULT_TIMEOUT, OpenAIBuilder};
use weft::{ChatClient, ScriptedClient};
use weft_provider::Transport;
use weft_provider::cassette::{Recorder, Replayer};

use crate::error::CliError;
use crate::{Api, ProviderKind, RunArgs};

/// The model used with `--provider anthropic` when neither `--model` nor `ANTHROPIC_MODEL`
/// names one.
pub(crate) const DEFAULT_ANTHROPIC_MODEL: &str = "claude-sonnet-4-5";

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

/// The model used with `--provider ollama` when neither `--model` nor `OLLAMA_MODEL` names
/// one (the model of Ollama's own examples).
pub(crate) const DEFAULT_OLLAMA_MODEL: &str = "llama3.2";

/// The model used with `--provider gemini` when neither `--model` nor `GEMINI_MODEL` names
/// one.
pub(crate) const DEFAULT_GEMINI_MODEL: &str = "gemini-2.5-flash";

/// Reads a non-empty environment variable.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}

/// Picks the provider from the flags and the environment.
pub(crate) fn select(args: &RunArgs) -> Result<Provider, CliError> {
    match args.agent.provider {
        Some(ProviderKind::Anthropic) => return anthropic(args),
        Some(ProviderKind::Bedrock) => return bedrock(args),
        Some(ProviderKind::Gemini) => return gemini(args),
        Some(ProviderKind::Ollama) => return ollama(args),
        Some(ProviderKind::Azure) => return azure(args),
        Some(ProviderKind::Foundry) => return foundry(args),
        Some(ProviderKind::Scripted) => return Ok(scripted("the scripted model")),
        _ => {}
    }
    let configured = args.agent.provider == Some(ProviderKind::Openai)
        || args.agent.base_url.is_some()
        || env("OPENAI_API_KEY").is_some()
        || env("OPENAI_BASE_URL").is_some()
        || args.replay.is_some();
    if !configured {
        return Ok(scripted(
            "the scripted model (no OPENAI_API_KEY or --base-url; set one to use a real model)",
        ));
    }
    openai(args, &openai_model(args))
}

/// The cassette transport of `--record FILE` or `--replay FILE`, if either is given.
fn cassette(args: &RunArgs) -> Result<Option<Arc<dyn Transport>>, CliError> {
    let usage = |err: weft_provider::cassette::CassetteError| CliError::Usage(err.to_string());
    Ok(match (&args.record, &args.replay) {
        (Some(path), _) => Some(Arc::new(Recorder::create(path).map_err(usage)?)),
        (None, Some(path)) => Some(Arc::new(Replayer::open(path).map_err(usage)?)),
        (None, None) => None,
    })
}

fn scripted(description: &str) -> Provider {
    Provider { client: Arc::new(ScriptedClient::new()), description: description.into(), model: None }
}

/// `--model`, else `OPENAI_MODEL`, else [`DEFAULT_OPENAI_MODEL`].
fn openai_model(args: &RunArgs) -> String {
    args.agent.model.clone().or_else(|| env("OPENAI_MODEL")).unwrap_or_else(|| DEFAULT_OPENAI_MODEL.into())
}

/// The model that replaces the agents' own in a declarative file (`weft run -f FILE
/// --provider …`): none without `--provider`; with it, that provider with `--base-url`,
/// `--model` and `--api` (and the environment) as `weft run` takes them without a file.
pub(crate) fn file_override(args: &RunArgs) -> Result<Option<ModelOverride>, CliError> {
    let Some(kind) = args.agent.provider else { return Ok(None) };
    Ok(Some(match kind {
        ProviderKind::Scripted => ModelOverride { provider: "scripted".into(), ..ModelOverride::default() },
        ProviderKind::Openai => ModelOverride {
            provider: match args.agent.api {
                Api::Chat => "OpenAI.Chat",
                Api::Responses => "OpenAI.Responses",
            }
            .into(),
            endpoint: args.agent.base_url.clone(),
            id: Some(openai_model(args)),
            api_key: None,
        },
        ProviderKind::Azure => ModelOverride {
            provider: match args.agent.api {
                Api::Chat => "AzureOpenAI.Chat",
                Api::Responses => "AzureOpenAI.Responses",
            }
            .into(),
            endpoint: None,
            id: not_openai_model(args),
            api_key: None,
        },
        ProviderKind::Foundry => ModelOverride {
            provider: "AzureAIClient".into(),
            endpoint: None,
            id: not_openai_model(args),
            api_key: None,
        },
        ProviderKind::Anthropic => {
            let (base_url, model) = anthropic_settings(args)?;
            ModelOverride {
                provider: "Anthropic.Messages".into(),
                endpoint: base_url,
                id: Some(model),
                api_key: None,
            }
        }
        ProviderKind::Bedrock => {
            let (endpoint, model) = bedrock_settings(args)?;
            ModelOverride { provider: "Bedrock.Converse".into(), endpoint, id: Some(model), api_key: None }
        }
        ProviderKind::Gemini => {
            let (base_url, model) = gemini_settings(args)?;
            ModelOverride { provider: "Gemini".into(), endpoint: base_url, id: Some(model), api_key: None }
        }
        ProviderKind::Ollama => {
            let (host, model) = ollama_settings(args);
            ModelOverride { provider: "Ollama".into(), endpoint: host, id: Some(model), api_key: None }
        }
    }))
}

/// The OpenAI-compatible provider: the environment's settings (`OPENAI_API_KEY`,
/// `OPENAI_BASE_URL`, …), with `--base-url`, the model and the deadlines on top, calling the
/// chosen API. `--timeout` is the wait for the model to start answering (the first-byte
/// timeout); a whole answer may take the library's request timeout (600 s) or that, whichever
/// is longer. `--idle-timeout` is the stream idle timeout.
fn openai(args: &RunArgs, model: &str) -> Result<Provider, CliError> {
    let api = args.agent.api;
    let mut builder = OpenAIBuilder::from_env().model(model);
    if let Some(base_url) = &args.agent.base_url {
        builder = builder.base_url(base_url);
    }
    let mut builder = with_deadlines(builder, args);
    if let Some(transport) = cassette(args)? {
        builder = builder.transport(transport);
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

/// `--model`, unless it came from `OPENAI_MODEL` (the OpenAI provider's).
fn not_openai_model(args: &RunArgs) -> Option<String> {
    args.agent.model.clone().filter(|model| env("OPENAI_MODEL").as_deref() != Some(model.as_str()))
}

/// The token credential of Azure providers without an API key: Microsoft Entra ID through
/// the environment, workload identity, managed identity, then the Azure CLI.
pub(crate) fn entra_credential() -> Arc<dyn weft::azure::TokenCredential> {
    Arc::new(weft::azure::DefaultAzureCredential::new())
}

/// `--timeout` and `--idle-timeout` on an OpenAI-compatible builder.
fn with_deadlines(mut builder: OpenAIBuilder, args: &RunArgs) -> OpenAIBuilder {
    if let Some(secs) = args.agent.connect.timeout {
        let timeout = Duration::from_secs(secs);
        builder = builder.first_byte_timeout(timeout).timeout(timeout.max(DEFAULT_TIMEOUT));
    }
    if let Some(secs) = args.agent.idle_timeout {
        builder = builder.stream_idle_timeout(Duration::from_secs(secs));
    }
    builder
}

/// Azure OpenAI: `AZURE_OPENAI_ENDPOINT`, the deployment (`--model`, else
/// `AZURE_OPENAI_DEPLOYMENT`), `AZURE_OPENAI_API_VERSION`, and `AZURE_OPENAI_API_KEY`, else a
/// Microsoft Entra ID token ([`entra_credential`]).
fn azure(args: &RunArgs) -> Result<Provider, CliError> {
    if env("AZURE_OPENAI_ENDPOINT").is_none() {
        return Err(CliError::Usage(
            "--provider azure needs AZURE_OPENAI_ENDPOINT (https://<resource>.openai.azure.com)".into(),
        ));
    }
    let mut builder = OpenAIBuilder::azure_from_env();
    if let Some(model) = not_openai_model(args) {
        builder = builder.azure_deployment(model);
    }
    let entra = !builder.has_api_key();
    if entra {
        builder = builder.token_credential(entra_credential());
    }
    let openai = with_deadlines(builder, args).build().map_err(CliError::Provider)?;
    let Some(model) = openai.default_model().map(str::to_string) else {
        return Err(CliError::Usage(
            "--provider azure needs a deployment: --model or AZURE_OPENAI_DEPLOYMENT".into(),
        ));
    };
    let api = args.agent.api;
    let sign_in = if entra { ", Microsoft Entra ID" } else { "" };
    let description =
        format!("azure.ai.openai {} at {}, deployment {model}{sign_in}", api.label(), openai.base_url());
    let client: Arc<dyn ChatClient> = match api {
        Api::Chat => Arc::new(openai.chat()),
        Api::Responses => Arc::new(openai.responses()),
    };
    Ok(Provider { client, description, model: Some(model) })
}

/// A Microsoft Foundry project: `FOUNDRY_PROJECT_ENDPOINT` (or `AZURE_AI_PROJECT_ENDPOINT`),
/// the deployment (`--model`, else `FOUNDRY_MODEL_DEPLOYMENT_NAME` or
/// `AZURE_AI_MODEL_DEPLOYMENT_NAME`), its Responses API, a Microsoft Entra ID token.
fn foundry(args: &RunArgs) -> Result<Provider, CliError> {
    let mut builder = OpenAIBuilder::foundry_from_env();
    if !builder.has_foundry_project() {
        return Err(CliError::Usage(
            "--provider foundry needs FOUNDRY_PROJECT_ENDPOINT \
             (https://<resource>.services.ai.azure.com/api/projects/<project>)"
                .into(),
        ));
    }
    if let Some(model) = not_openai_model(args) {
        builder = builder.model(model);
    }
    let builder = builder.token_credential(entra_credential());
    let openai = with_deadlines(builder, args).build().map_err(CliError::Provider)?;
    let Some(model) = openai.default_model().map(str::to_string) else {
        return Err(CliError::Usage(
            "--provider foundry needs a model deployment: --model or FOUNDRY_MODEL_DEPLOYMENT_NAME".into(),
        ));
    };
    let description =
        format!("azure.ai.openai responses at {}, deployment {model}, Microsoft Entra ID", openai.base_url());
    Ok(Provider { client: Arc::new(openai.responses()), description, model: Some(model) })
}

/// The Anthropic Messages provider: `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL` and
/// `ANTHROPIC_MODEL`, with `--base-url`, `--model` and the deadlines on top. `--base-url` and
/// `--model` also read `OPENAI_BASE_URL` and `OPENAI_MODEL`; values that came from those (equal
/// to them) are the OpenAI provider's and are ignored here.
fn anthropic(args: &RunArgs) -> Result<Provider, CliError> {
    let (base_url, model) = anthropic_settings(args)?;
    let mut builder = AnthropicBuilder::from_env().model(&model);
    if let Some(base_url) = &base_url {
        builder = builder.base_url(base_url);
    }
    if let Some(secs) = args.agent.connect.timeout {
        let timeout = Duration::from_secs(secs);
        builder = builder.first_byte_timeout(timeout).timeout(timeout.max(DEFAULT_TIMEOUT));
    }
    if let Some(secs) = args.agent.idle_timeout {
        builder = builder.stream_idle_timeout(Duration::from_secs(secs));
    }
    if let Some(transport) = cassette(args)? {
        builder = builder.transport(transport);
    }
    let anthropic = builder.build().map_err(CliError::Provider)?;
    let description = format!("anthropic messages at {}, model {model}", anthropic.base_url());
    Ok(Provider { client: Arc::new(anthropic.messages()), description, model: Some(model) })
}

/// The Anthropic server (`--base-url`, unless it came from `OPENAI_BASE_URL`) and model
/// (`--model` unless it came from `OPENAI_MODEL`, else `ANTHROPIC_MODEL`, else the default).
fn anthropic_settings(args: &RunArgs) -> Result<(Option<String>, String), CliError> {
    let not_openai = |value: &Option<String>, openai_var: &str| {
        value.clone().filter(|value| env(openai_var).as_deref() != Some(value.as_str()))
    };
    let base_url = not_openai(&args.agent.base_url, "OPENAI_BASE_URL");
    if base_url.is_none()
        && env("ANTHROPIC_API_KEY").is_none()
        && env("ANTHROPIC_BASE_URL").is_none()
        && args.replay.is_none()
    {
        return Err(CliError::Usage(
            "--provider anthropic needs ANTHROPIC_API_KEY (or a server: --base-url or ANTHROPIC_BASE_URL)"
                .into(),
        ));
    }
    let model = not_openai(&args.agent.model, "OPENAI_MODEL")
        .or_else(|| env("ANTHROPIC_MODEL"))
        .unwrap_or_else(|| DEFAULT_ANTHROPIC_MODEL.into());
    Ok((base_url, model))
}

/// Amazon Bedrock's Converse API: the AWS environment (`AWS_REGION`, `AWS_ACCESS_KEY_ID` …,
/// `AWS_PROFILE`, `AWS_BEARER_TOKEN_BEDROCK`) and `BEDROCK_MODEL`, with `--base-url` (another
/// endpoint), `--model` and the deadlines on top.
fn bedrock(args: &RunArgs) -> Result<Provider, CliError> {
    let (endpoint, model) = bedrock_settings(args)?;
    let mut builder = BedrockBuilder::from_env().model(&model);
    if let Some(endpoint) = &endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    if let Some(secs) = args.agent.connect.timeout {
        let timeout = Duration::from_secs(secs);
        builder = builder.first_byte_timeout(timeout).timeout(timeout.max(DEFAULT_TIMEOUT));
    }
    if let Some(secs) = args.agent.idle_timeout {
        builder = builder.stream_idle_timeout(Duration::from_secs(secs));
    }
    if let Some(transport) = cassette(args)? {
        builder = builder.transport(transport);
    }
    let bedrock = builder.build().map_err(CliError::Provider)?;
    let description = format!("bedrock converse at {}, model {model}", bedrock.endpoint());
    Ok(Provider { client: Arc::new(bedrock.converse()), description, model: Some(model) })
}

/// The Bedrock endpoint (`--base-url`, unless it came from `OPENAI_BASE_URL`) and model
/// (`--model` unless it came from `OPENAI_MODEL`, else `BEDROCK_MODEL`; Bedrock has no default
/// model: which ones an account may call differs).
fn bedrock_settings(args: &RunArgs) -> Result<(Option<String>, String), CliError> {
    let not_openai = |value: &Option<String>, openai_var: &str| {
        value.clone().filter(|value| env(openai_var).as_deref() != Some(value.as_str()))
    };
    let endpoint = not_openai(&args.agent.base_url, "OPENAI_BASE_URL");
    let model =
        not_openai(&args.agent.model, "OPENAI_MODEL").or_else(|| env("BEDROCK_MODEL")).ok_or_else(|| {
            CliError::Usage(
            "--provider bedrock needs a model: --model or BEDROCK_MODEL (a Bedrock model id or inference \
             profile, e.g. us.amazon.nova-lite-v1:0)"
                .into(),
        )
        })?;
    Ok((endpoint, model))
}

/// The Gemini provider: the Gemini API with `GEMINI_API_KEY` (or `GOOGLE_API_KEY`),
/// `GEMINI_BASE_URL` and `GEMINI_MODEL`, or Vertex AI (`GOOGLE_GENAI_USE_VERTEXAI=true`, see
/// [`GeminiBuilder::from_env`]), with `--base-url`, `--model` and the deadlines on top. As with
/// Anthropic, values that came from `OPENAI_BASE_URL` and `OPENAI_MODEL` are ignored.
fn gemini(args: &RunArgs) -> Result<Provider, CliError> {
    let (base_url, model) = gemini_settings(args)?;
    let mut builder = GeminiBuilder::from_env().model(&model);
    if let Some(base_url) = &base_url {
        builder = builder.base_url(base_url);
    }
    if let Some(secs) = args.agent.connect.timeout {
        let timeout = Duration::from_secs(secs);
        builder = builder.first_byte_timeout(timeout).timeout(timeout.max(DEFAULT_TIMEOUT));
    }
    if let Some(secs) = args.agent.idle_timeout {
        builder = builder.stream_idle_timeout(Duration::from_secs(secs));
    }
    if let Some(transport) = cassette(args)? {
        builder = builder.transport(transport);
    }
    let gemini = builder.build().map_err(CliError::Provider)?;
    let api = if gemini.is_vertex() { "vertex ai" } else { "gemini" };
    let description = format!("{api} at {}, model {model}", gemini.base_url());
    Ok(Provider { client: Arc::new(gemini.chat()), description, model: Some(model) })
}

/// The Gemini server (`--base-url`, unless it came from `OPENAI_BASE_URL`) and model
/// (`--model` unless it came from `OPENAI_MODEL`, else `GEMINI_MODEL`, else the default).
fn gemini_settings(args: &RunArgs) -> Result<(Option<String>, String), CliError> {
    let not_openai = |value: &Option<String>, openai_var: &str| {
        value.clone().filter(|value| env(openai_var).as_deref() != Some(value.as_str()))
    };
    let base_url = not_openai(&args.agent.base_url, "OPENAI_BASE_URL");
    let configured = ["GEMINI_API_KEY", "GOOGLE_API_KEY", "GEMINI_BASE_URL", "GOOGLE_GENAI_USE_VERTEXAI"]
        .iter()
        .any(|name| env(name).is_some());
    if base_url.is_none() && !configured {
        return Err(CliError::Usage(
            "--provider gemini needs GEMINI_API_KEY or GOOGLE_API_KEY (or a server: --base-url or \
             GEMINI_BASE_URL; or Vertex AI: GOOGLE_GENAI_USE_VERTEXAI=true)"
                .into(),
        ));
    }
    let model = not_openai(&args.agent.model, "OPENAI_MODEL")
        .or_else(|| env("GEMINI_MODEL"))
        .unwrap_or_else(|| DEFAULT_GEMINI_MODEL.into());
    Ok((base_url, model))
}

/// Ollama's native API: `OLLAMA_HOST`, `OLLAMA_MODEL` and `OLLAMA_API_KEY`, with `--base-url`
/// (the host), `--model` and the deadlines on top. As with Anthropic, values that came from
/// `OPENAI_BASE_URL` and `OPENAI_MODEL` are the OpenAI provider's and are ignored here.
fn ollama(args: &RunArgs) -> Result<Provider, CliError> {
    let (host, model) = ollama_settings(args);
    let mut builder = OllamaBuilder::from_env().model(&model);
    if let Some(host) = &host {
        builder = builder.host(host);
    }
    if let Some(secs) = args.agent.connect.timeout {
        let timeout = Duration::from_secs(secs);
        builder = builder.first_byte_timeout(timeout).timeout(timeout.max(DEFAULT_TIMEOUT));
    }
    if let Some(secs) = args.agent.idle_timeout {
        builder = builder.stream_idle_timeout(Duration::from_secs(secs));
    }
    if let Some(transport) = cassette(args)? {
        builder = builder.transport(transport);
    }
    let ollama = builder.build().map_err(CliError::Provider)?;
    let description = format!("ollama at {}, model {model}", ollama.host());
    Ok(Provider { client: Arc::new(ollama.chat()), description, model: Some(model) })
}

/// The Ollama host (`--base-url` unless it came from `OPENAI_BASE_URL`; else `OLLAMA_HOST`,
/// read by the builder) and model (`--model` unless it came from `OPENAI_MODEL`, else
/// `OLLAMA_MODEL`, else [`DEFAULT_OLLAMA_MODEL`]). Ollama needs no key: nothing is required.
fn ollama_settings(args: &RunArgs) -> (Option<String>, String) {
    let not_openai = |value: &Option<String>, openai_var: &str| {
        value.clone().filter(|value| env(openai_var).as_deref() != Some(value.as_str()))
    };
    let host = not_openai(&args.agent.base_url, "OPENAI_BASE_URL");
    let model = not_openai(&args.agent.model, "OPENAI_MODEL")
        .or_else(|| env("OLLAMA_MODEL"))
        .unwrap_or_else(|| DEFAULT_OLLAMA_MODEL.into());
    (host, model)
}

/// Checks `--base-url`: an absolute http(s) URL. The error shows it with its credentials
/// masked.
pub(crate) fn parse_base_url(value: &str) -> Result<String, String> {
    let value = value.trim();
    let rest = value.strip_prefix("https://").or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(value.to_string()),
        _ => Err(format!(
            "expected an http:// or https:// URL such as http://localhost:11434/v1, got {:?}",
            weft::openai::redact_url(value)
        )),
    }
}

/// Parses `--base-url` with [`parse_base_url`]. Unlike a plain function parser, whose errors
/// clap prefixes with the value as typed, its errors never repeat the value unmasked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BaseUrlParser;

impl clap::builder::TypedValueParser for BaseUrlParser {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        let invalid = |message: String| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid value for '--base-url <URL>': {message}\n"),
            )
            .with_cmd(cmd)
        };
        let value = value.to_str().ok_or_else(|| invalid("not valid UTF-8".into()))?;
        parse_base_url(value).map_err(invalid)
    }
}

/// A provider error line in the CLI's terms: the library names its builder settings, the CLI
/// user has flags.
pub(crate) fn in_cli_terms(line: String) -> String {
    const SETTINGS: [(&str, &str); 12] = [
        ("OpenAIBuilder::first_byte_timeout", "--timeout SECS"),
        ("OpenAIBuilder::stream_idle_timeout", "--idle-timeout SECS"),
        ("OpenAIBuilder::timeout", "--timeout SECS"),
        ("BedrockBuilder::first_byte_timeout", "--timeout SECS"),
        ("BedrockBuilder::stream_idle_timeout", "--idle-timeout SECS"),
        ("BedrockBuilder::timeout", "--timeout SECS"),
        ("OllamaBuilder::first_byte_timeout", "--timeout SECS"),
        ("OllamaBuilder::stream_idle_timeout", "--idle-timeout SECS"),
        ("OllamaBuilder::timeout", "--timeout SECS"),
        ("GeminiBuilder::first_byte_timeout", "--timeout SECS"),
        ("GeminiBuilder::stream_idle_timeout", "--idle-timeout SECS"),
        ("GeminiBuilder::timeout", "--timeout SECS"),
    ];
    SETTINGS.iter().fold(
        line,
        |line, (setting, flag)| {
            if line.contains(setting) { line.replace(setting, flag) } else { line }
        },
    )
}
