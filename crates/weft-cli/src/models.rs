//! `weft models`: the models an OpenAI-compatible server serves (`GET /models`).

use std::io::Write;

use clap::Args;
use weft::openai::OpenAIBuilder;

use crate::error::CliError;
use crate::provider;

/// Arguments of `weft models`.
#[derive(Debug, Args)]
pub(crate) struct ModelsArgs {
    /// The base URL of an OpenAI-compatible server (default: OpenAI's).
    #[arg(long, value_name = "URL", env = "OPENAI_BASE_URL", hide_env_values = true, value_parser = provider::parse_base_url)]
    base_url: Option<String>,

    /// Print the server's list as JSON (id, owned_by, created) instead of one id per line.
    #[arg(long)]
    json: bool,
}

/// Asks the server for its models and prints them.
pub(crate) async fn run(args: ModelsArgs) -> Result<(), CliError> {
    let has_key = std::env::var("OPENAI_API_KEY").is_ok_and(|key| !key.trim().is_empty());
    if args.base_url.is_none() && !has_key {
        return Err(CliError::Usage(
            "no model server to ask: set --base-url (or OPENAI_BASE_URL), or OPENAI_API_KEY for OpenAI"
                .into(),
        ));
    }
    let mut builder = OpenAIBuilder::from_env();
    if let Some(base_url) = &args.base_url {
        builder = builder.base_url(base_url);
    }
    let openai = builder.build().map_err(CliError::Provider)?;
    let models = openai.list_models().await.map_err(CliError::Models)?;
    let mut out = String::new();
    if args.json {
        out = serde_json::to_string_pretty(&models)
            .map(|text| text + "\n")
            .map_err(|e| CliError::Usage(format!("could not print JSON: {e}")))?;
    } else {
        for model in &models {
            out.push_str(&model.id);
            out.push('\n');
        }
        if models.is_empty() {
            crate::logging::notice(format_args!("{} lists no models", openai.base_url()));
        }
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|source| CliError::Io { context: "could not write to stdout".into(), source })
}
