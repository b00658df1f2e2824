//! The chat client of an agent's `model:`: its provider, connection, id and deadlines.

use std::sync::Arc;

use weft_core::{ChatClient, ScriptedClient};

use super::{LoadOptions, ModelOverride, closest};
use crate::bindings::Bindings;
use crate::env::Checker;
use crate::spec::{ConnectionSpec, ModelSpec, Text};

/// The providers a file may name (`provider` or `provider.apiType`).
pub const PROVIDERS: [&str; 24] = [
    "openai",
    "azure",
    "OpenAI",
    "OpenAI.Chat",
    "OpenAI.Responses",
    "AzureOpenAI",
    "AzureOpenAI.Chat",
    "AzureOpenAI.Responses",
    "AzureAIClient",
    "OpenAICompatible",
    "OpenAICompatible.Chat",
    "OpenAICompatible.Responses",
    "Anthropic",
    "Anthropic.Messages",
    "anthropic",
    "Bedrock",
    "Bedrock.Converse",
    "bedrock",
    "Gemini",
    "Gemini.Chat",
    "gemini",
    "Ollama",
    "ollama",
    "scripted",
];

/// Whether the provider `key` is Anthropic's Messages API.
fn is_anthropic(key: &str) -> bool {
    key.starts_with("Anthropic") || key == "anthropic"
}

/// Whether the provider `key` is Gemini (MAF's declarative loader has no name for it; Weft's
/// follows its `Provider.ApiType` pattern).
fn is_gemini(key: &str) -> bool {
    key.starts_with("Gemini") || key == "gemini"
}

/// The provider a file names: `provider`, `provider.apiType`, `OpenAI.apiType`, or
/// `OpenAI.Chat` without either.
pub(super) fn provider_key(model: Option<&ModelSpec>) -> String {
    let provider = model.and_then(|m| m.provider.as_ref());
    let api_type = model.and_then(|m| m.api_type.as_ref());
    match (provider, api_type) {
        (Some(p), Some(a)) => format!("{}.{}", family(&p.value), a.value),
        (Some(p), None) => canonical(&p.value).to_owned(),
        (None, Some(a)) => format!("OpenAI.{}", a.value),
        (None, None) => "OpenAI.Chat".into(),
    }
}

/// The names `weft run --provider` takes for the OpenAI wire (`openai`, `azure`), as the
/// families MAF's files name (`OpenAI`, `AzureOpenAI`); other names as they are.
fn family(name: &str) -> &str {
    match name {
        "openai" => "OpenAI",
        "azure" => "AzureOpenAI",
        other => other,
    }
}

/// A provider named without an API type: `openai` and `azure` call Chat Completions, as
/// `weft run --provider openai|azure` does by default (MAF's `OpenAI` and `AzureOpenAI`
/// without an API type call Responses).
fn canonical(name: &str) -> &str {
    match name {
        "openai" => "OpenAI.Chat",
        "azure" => "AzureOpenAI.Chat",
        other => other,
    }
}

/// The hosted tool kinds the provider `key` runs: all three on a Responses API (`OpenAI`,
/// `AzureOpenAI` and `OpenAICompatible` without an API type use it), web search on Anthropic,
/// none on Chat Completions or the scripted model.
pub(super) fn hosted_kinds(key: &str) -> &'static [&'static str] {
    const RESPONSES: &[&str] = &["web_search", "file_search", "code_interpreter"];
    match key.split_once('.') {
        _ if is_anthropic(key) => &["web_search"],
        _ if is_bedrock(key) => &[],
        _ if is_gemini(key) => &["web_search", "code_interpreter"],
        _ if is_ollama(key) => &[],
        Some((_, "Responses")) => RESPONSES,
        None if key != "scripted" => RESPONSES,
        _ => &[],
    }
}

pub(super) struct Client {
    client: Arc<dyn ChatClient>,
    model: Option<String>,
    description: String,
}

impl Client {
    pub(super) fn into_parts(self) -> (Arc<dyn ChatClient>, Option<String>, String) {
        (self.client, self.model, self.description)
    }
}

/// The chat client of `model:`. Without a provider: `OpenAI.Chat`.
pub(super) fn client(
    model: Option<&ModelSpec>,
    checker: &mut Checker<'_>,
    bindings: &Bindings,
    load_options: &LoadOptions,
) -> Option<Client> {
    if let Some(replacement) = &load_options.model {
        return replaced(replacement, model, checker, load_options);
    }
    let provider = model.and_then(|m| m.provider.as_ref());
    let api_type = model.and_then(|m| m.api_type.as_ref());
    let key = provider_key(model);
    let at = provider.or(api_type);
    if !PROVIDERS.contains(&key.as_str()) {
        let hint = closest(&key, PROVIDERS);
        let message = format!("unknown provider `{key}`{hint}; Weft knows {}", PROVIDERS.join(", "));
        report(checker, at, message);
        return None;
    }
    let id = model.and_then(|m| checker.resolve_opt(m.id.as_ref()));
    if key == "scripted" {
        return Some(Client {
            client: Arc::new(ScriptedClient::new()),
            model: id,
            description: "the scripted model".into(),
        });
    }
    let connection = model.and_then(|m| m.connection.as_ref()).and_then(|c| connection(c, checker, bindings));
    if is_anthropic(&key) {
        return anthropic_client(&key, id, connection, checker, at, load_options);
    }
    if is_bedrock(&key) {
        return bedrock_client(&key, id, connection, checker, at, load_options);
    }
    if is_gemini(&key) {
        return gemini_client(&key, id, connection, checker, at, load_options);
    }
    if is_ollama(&key) {
        return ollama_client(&key, id, connection, checker, at, load_options);
    }
    openai_client(&key, id, connection, checker, at, load_options)
}

/// The client of [`LoadOptions::model`], which replaces the file's `model` (its problems are
/// reported at the file's provider, or at its start).
fn replaced(
    replacement: &ModelOverride,
    model: Option<&ModelSpec>,
    checker: &mut Checker<'_>,
    load_options: &LoadOptions,
) -> Option<Client> {
    let key = canonical(replacement.provider.as_str());
    let at = model.and_then(|m| m.provider.as_ref().or(m.api_type.as_ref()));
    if !PROVIDERS.contains(&key) {
        let hint = closest(key, PROVIDERS);
        let message = format!(
            "the replacement model's provider `{key}` is unknown{hint}; Weft knows {}",
            PROVIDERS.join(", ")
        );
        report(checker, at, message);
        return None;
    }
    let id = replacement.id.clone();
    if key == "scripted" {
        return Some(Client {
            client: Arc::new(ScriptedClient::new()),
            model: id,
            description: "the scripted model".into(),
        });
    }
    let connection = Some(Resolved {
        endpoint: replacement.endpoint.clone(),
        api_key: replacement.api_key.clone(),
        remote: false,
    });
    if is_anthropic(key) {
        return anthropic_client(key, id, connection, checker, at, load_options);
    }
    if is_bedrock(key) {
        return bedrock_client(key, id, connection, checker, at, load_options);
    }
    if is_gemini(key) {
        return gemini_client(key, id, connection, checker, at, load_options);
    }
    if is_ollama(key) {
        return ollama_client(key, id, connection, checker, at, load_options);
    }
    openai_client(key, id, connection, checker, at, load_options)
}

fn unreachable_default(checker: &mut Checker<'_>, message: String) {
    checker.problems.push(crate::Problem { file: checker.file.to_path_buf(), line: 0, column: 0, message });
}

/// Reports `message` at `at`, or with no location when the value came from a default.
fn report(checker: &mut Checker<'_>, at: Option<&Text>, message: String) {
    match at {
        Some(at) => checker.at(at, message),
        None => unreachable_default(checker, message),
    }
}

/// A resolved connection: endpoint and key.
#[derive(Default)]
#[cfg_attr(
    not(any(feature = "openai", feature = "anthropic", feature = "bedrock", feature = "gemini")),
    allow(dead_code)
)]
pub(crate) struct Resolved {
    endpoint: Option<String>,
    api_key: Option<String>,
    /// `kind: remote`: the caller's token credential signs the requests (Azure models).
    remote: bool,
}

fn connection(spec: &ConnectionSpec, checker: &mut Checker<'_>, bindings: &Bindings) -> Option<Resolved> {
    match spec.kind.value.as_str() {
        "key" | "apiKey" | "ApiKey" => Some(Resolved {
            endpoint: checker.resolve_opt(spec.endpoint.as_ref()),
            api_key: checker.resolve_opt(spec.api_key.as_ref().or(spec.key.as_ref())),
            remote: false,
        }),
        kind @ ("anonymous" | "remote") => Some(Resolved {
            endpoint: checker.resolve_opt(spec.endpoint.as_ref()),
            api_key: None,
            remote: kind == "remote",
        }),
        "reference" => {
            let Some(name) = &spec.name else {
                checker.at(&spec.kind, "a `reference` connection needs a `name`");
                return None;
            };
            match bindings.get_connection(&name.value) {
                Some(named) => Some(Resolved {
                    endpoint: named.endpoint.clone(),
                    api_key: named.api_key.clone(),
                    remote: false,
                }),
                None => {
                    checker.at(
                        name,
                        format!("no connection named `{}` is registered (Bindings::connection)", name.value),
                    );
                    None
                }
            }
        }
        other => {
            let hint = closest(other, ["key", "remote", "anonymous", "reference"]);
            checker.at(
                &spec.kind,
                format!(
                    "unknown connection kind `{other}`{hint}: expected key, remote, anonymous or reference"
                ),
            );
            None
        }
    }
}

#[cfg(feature = "openai")]
fn openai_client(
    key: &str,
    id: Option<String>,
    connection: Option<Resolved>,
    checker: &mut Checker<'_>,
    at: Option<&Text>,
    load_options: &LoadOptions,
) -> Option<Client> {
    use weft_openai::{DEFAULT_TIMEOUT, OpenAIBuilder};
    let (family, api) = key.split_once('.').unwrap_or((key, "Responses"));
    let connection = connection.unwrap_or_default();
    let azure = matches!(family, "AzureOpenAI" | "AzureAIClient");
    let mut builder = match family {
        "AzureAIClient" => {
            let mut builder = OpenAIBuilder::foundry_from_env();
            if let Some(endpoint) = &connection.endpoint {
                builder = builder.foundry_project(endpoint);
            }
            if !builder.has_foundry_project() {
                let message = format!(
                    "provider `{key}` needs `connection.endpoint` (the Foundry project endpoint, \
                     https://<resource>.services.ai.azure.com/api/projects/<project>) or FOUNDRY_PROJECT_ENDPOINT"
                );
                report(checker, at, message);
                return None;
            }
            builder
        }
        "AzureOpenAI" => {
            let mut builder = OpenAIBuilder::azure_from_env();
            if let Some(endpoint) = &connection.endpoint {
                builder = builder.azure_endpoint(endpoint);
            }
            if let Some(id) = &id {
                builder = builder.azure_deployment(id);
            }
            builder
        }
        _ => {
            let mut builder = OpenAIBuilder::from_env();
            if let Some(endpoint) = &connection.endpoint {
                builder = builder.base_url(endpoint);
            }
            builder
        }
    };
    if family == "OpenAICompatible" && connection.endpoint.is_none() {
        let message = format!("provider `{key}` needs `connection.endpoint` (the server's base URL)");
        report(checker, at, message);
        return None;
    }
    if let Some(api_key) = connection.api_key {
        builder = builder.api_key(api_key);
    } else if azure && (connection.remote || !builder.has_api_key()) {
        // Microsoft Entra ID: `kind: remote`, or no key anywhere.
        let Some(credential) = &load_options.credential else {
            let message = format!(
                "provider `{key}` signs in with Microsoft Entra ID here (no API key), and no token \
                 credential was given (LoadOptions::credential, e.g. weft::azure::DefaultAzureCredential)"
            );
            report(checker, at, message);
            return None;
        };
        builder = builder.no_api_key().token_credential(credential.clone());
    }
    if let Some(id) = &id {
        builder = builder.model(id);
    }
    if let Some(timeout) = load_options.model_first_byte_timeout {
        builder = builder.first_byte_timeout(timeout).timeout(timeout.max(DEFAULT_TIMEOUT));
    }
    if let Some(timeout) = load_options.model_idle_timeout {
        builder = builder.stream_idle_timeout(timeout);
    }
    match builder.build() {
        Ok(openai) => {
            let description = format!(
                "{} {} at {}, model {}",
                openai.provider_name(),
                api.to_lowercase(),
                openai.base_url(),
                id.as_deref().unwrap_or("(default)")
            );
            let client: Arc<dyn ChatClient> =
                if api == "Chat" { Arc::new(openai.chat()) } else { Arc::new(openai.responses()) };
            Some(Client { client, model: id, description })
        }
        Err(error) => {
            let message = format!("provider `{key}`: {error}");
            report(checker, at, message);
            None
        }
    }
}

#[cfg(not(feature = "openai"))]
fn openai_client(
    key: &str,
    _id: Option<String>,
    _connection: Option<Resolved>,
    checker: &mut Checker<'_>,
    at: Option<&Text>,
    _load_options: &LoadOptions,
) -> Option<Client> {
    let message = format!("provider `{key}` needs weft-declarative's `openai` feature");
    report(checker, at, message);
    None
}

/// `Anthropic`, `Anthropic.Messages` or `anthropic`: the Messages API (`ANTHROPIC_API_KEY`,
/// `ANTHROPIC_BASE_URL`, `ANTHROPIC_MODEL`, with the connection's endpoint and key on top).
#[cfg(feature = "anthropic")]
fn anthropic_client(
    key: &str,
    id: Option<String>,
    connection: Option<Resolved>,
    checker: &mut Checker<'_>,
    at: Option<&Text>,
    load_options: &LoadOptions,
) -> Option<Client> {
    use weft_anthropic::AnthropicBuilder;
    let connection = connection.unwrap_or_default();
    let mut builder = AnthropicBuilder::from_env();
    if let Some(endpoint) = &connection.endpoint {
        builder = builder.base_url(endpoint);
    }
    if let Some(api_key) = connection.api_key {
        builder = builder.api_key(api_key);
    }
    if let Some(id) = &id {
        builder = builder.model(id);
    }
    if let Some(timeout) = load_options.model_first_byte_timeout {
        builder = builder.first_byte_timeout(timeout).timeout(timeout.max(weft_anthropic::DEFAULT_TIMEOUT));
    }
    if let Some(timeout) = load_options.model_idle_timeout {
        builder = builder.stream_idle_timeout(timeout);
    }
    match builder.build() {
        Ok(anthropic) => {
            let model = id.clone().or_else(|| anthropic.default_model().map(str::to_string));
            let description = format!(
                "anthropic messages at {}, model {}",
                anthropic.base_url(),
                model.as_deref().unwrap_or("(default)")
            );
            Some(Client { client: Arc::new(anthropic.messages()), model: id, description })
        }
        Err(error) => {
            let message = format!("provider `{key}`: {error}");
            report(checker, at, message);
            None
        }
    }
}

#[cfg(not(feature = "anthropic"))]
fn anthropic_client(
    key: &str,
    _id: Option<String>,
    _connection: Option<Resolved>,
    checker: &mut Checker<'_>,
    at: Option<&Text>,
    _load_options: &LoadOptions,
) -> Option<Client> {
    let message = format!("provider `{key}` needs weft-declarative's `anthropic` feature");
    report(checker, at, message);
    None
}

/// Whether `key` names Amazon Bedrock (`Bedrock`, `Bedrock.Converse`, `bedrock`).
fn is_bedrock(key: &str) -> bool {
    key.starts_with("Bedrock") || key == "bedrock"
}

/// `Bedrock`, `Bedrock.Converse` or `bedrock`: Bedrock's Converse API, signed with the AWS
/// credentials of the environment or profile (`AWS_REGION`, `AWS_ACCESS_KEY_ID` …, see
/// `weft_bedrock::BedrockBuilder`); the connection's endpoint replaces Bedrock's, and its key,
/// when given, is a Bedrock API key (sent as a bearer token instead of a signature).
#[cfg(feature = "bedrock")]
fn bedrock_client(
    key: &str,
    id: Option<String>,
    connection: Option<Resolved>,
    checker: &mut Checker<'_>,
    at: Option<&Text>,
    load_options: &LoadOptions,
) -> Option<Client> {
    use weft_bedrock::BedrockBuilder;
    let connection = connection.unwrap_or_default();
    let mut builder = BedrockBuilder::from_env();
    if let Some(endpoint) = &connection.endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    if let Some(api_key) = connection.api_key {
        builder = builder.api_key(api_key);
    }
    if let Some(id) = &id {
        builder = builder.model(id);
    }
    if let Some(timeout) = load_options.model_first_byte_timeout {
        builder = builder.first_byte_timeout(timeout).timeout(timeout.max(weft_bedrock::DEFAULT_TIMEOUT));
    }
    if let Some(timeout) = load_options.model_idle_timeout {
        builder = builder.stream_idle_timeout(timeout);
    }
    match builder.build() {
        Ok(bedrock) => {
            let model = id.clone().or_else(|| bedrock.default_model().map(str::to_string));
            let description = format!(
                "bedrock converse at {}, model {}",
                bedrock.endpoint(),
                model.as_deref().unwrap_or("(default)")
            );
            Some(Client { client: Arc::new(bedrock.converse()), model: id, description })
        }
        Err(error) => {
            let message = format!("provider `{key}`: {error}");
            report(checker, at, message);
            None
        }
    }
}

#[cfg(not(feature = "bedrock"))]
fn bedrock_client(
    key: &str,
    _id: Option<String>,
    _connection: Option<Resolved>,
    checker: &mut Checker<'_>,
    at: Option<&Text>,
    _load_options: &LoadOptions,
) -> Option<Client> {
    let message = format!("provider `{key}` needs weft-declarative's `bedrock` feature");
    report(checker, at, message);
    None
}

/// `Gemini`, `Gemini.Chat` or `gemini`: the Gemini API (`GEMINI_API_KEY` or `GOOGLE_API_KEY`,
/// `GEMINI_BASE_URL`, `GEMINI_MODEL`, with the connection's endpoint and key on top).
#[cfg(feature = "gemini")]
fn gemini_client(
    key: &str,
    id: Option<String>,
    connection: Option<Resolved>,
    checker: &mut Checker<'_>,
    at: Option<&Text>,
    load_options: &LoadOptions,
) -> Option<Client> {
    use weft_gemini::GeminiBuilder;
    let connection = connection.unwrap_or_default();
    let mut builder = GeminiBuilder::from_env();
    if let Some(endpoint) = &connection.endpoint {
        builder = builder.base_url(endpoint);
    }
    if let Some(api_key) = connection.api_key {
        builder = builder.api_key(api_key);
    }
    if let Some(id) = &id {
        builder = builder.model(id);
    }
    if let Some(timeout) = load_options.model_first_byte_timeout {
        builder = builder.first_byte_timeout(timeout).timeout(timeout.max(weft_gemini::DEFAULT_TIMEOUT));
    }
    if let Some(timeout) = load_options.model_idle_timeout {
        builder = builder.stream_idle_timeout(timeout);
    }
    match builder.build() {
        Ok(gemini) => {
            let model = id.clone().or_else(|| gemini.default_model().map(str::to_string));
            let description =
                format!("gemini at {}, model {}", gemini.base_url(), model.as_deref().unwrap_or("(default)"));
            Some(Client { client: Arc::new(gemini.chat()), model: id, description })
        }
        Err(error) => {
            let message = format!("provider `{key}`: {error}");
            report(checker, at, message);
            None
        }
    }
}

#[cfg(not(feature = "gemini"))]
fn gemini_client(
    key: &str,
    _id: Option<String>,
    _connection: Option<Resolved>,
    checker: &mut Checker<'_>,
    at: Option<&Text>,
    _load_options: &LoadOptions,
) -> Option<Client> {
    let message = format!("provider `{key}` needs weft-declarative's `gemini` feature");
    report(checker, at, message);
    None
}

/// Whether `key` names Ollama's native API (MAF has no name for it: `Ollama`, or `ollama`).
fn is_ollama(key: &str) -> bool {
    key == "Ollama" || key == "ollama"
}

/// `Ollama` or `ollama`: Ollama's native `/api/chat` (`OLLAMA_HOST`, `OLLAMA_MODEL`,
/// `OLLAMA_API_KEY`, with the connection's endpoint (the host) and key on top).
#[cfg(feature = "ollama")]
fn ollama_client(
    key: &str,
    id: Option<String>,
    connection: Option<Resolved>,
    checker: &mut Checker<'_>,
    at: Option<&Text>,
    load_options: &LoadOptions,
) -> Option<Client> {
    use weft_ollama::OllamaBuilder;
    let connection = connection.unwrap_or_default();
    let mut builder = OllamaBuilder::from_env();
    if let Some(endpoint) = &connection.endpoint {
        builder = builder.host(endpoint);
    }
    if let Some(api_key) = connection.api_key {
        builder = builder.api_key(api_key);
    }
    if let Some(id) = &id {
        builder = builder.model(id);
    }
    if let Some(timeout) = load_options.model_first_byte_timeout {
        builder = builder.first_byte_timeout(timeout).timeout(timeout.max(weft_ollama::DEFAULT_TIMEOUT));
    }
    if let Some(timeout) = load_options.model_idle_timeout {
        builder = builder.stream_idle_timeout(timeout);
    }
    match builder.build() {
        Ok(ollama) => {
            let model = id.clone().or_else(|| ollama.default_model().map(str::to_string));
            let description =
                format!("ollama at {}, model {}", ollama.host(), model.as_deref().unwrap_or("(default)"));
            Some(Client { client: Arc::new(ollama.chat()), model: id, description })
        }
        Err(error) => {
            let message = format!("provider `{key}`: {error}");
            report(checker, at, message);
            None
        }
    }
}

#[cfg(not(feature = "ollama"))]
fn ollama_client(
    key: &str,
    _id: Option<String>,
    _connection: Option<Resolved>,
    checker: &mut Checker<'_>,
    at: Option<&Text>,
    _load_options: &LoadOptions,
) -> Option<Client> {
    let message = format!("provider `{key}` needs weft-declarative's `ollama` feature");
    report(checker, at, message);
    None
}
