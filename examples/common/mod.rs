//! Shared by the examples: which model to talk to.

use std::sync::Arc;

use weft::ChatClient;

/// The model the examples use: the OpenAI-compatible provider (Chat Completions) when
/// `OPENAI_API_KEY` is set (with `OPENAI_BASE_URL` and `OPENAI_MODEL` if given; the model
/// defaults to `gpt-4o-mini`), else Weft's offline scripted model.
pub fn chat_client() -> Arc<dyn ChatClient> {
    if std::env::var("OPENAI_API_KEY").is_ok_and(|key| !key.trim().is_empty()) {
        let mut builder = weft::openai::OpenAIBuilder::from_env();
        if std::env::var("OPENAI_MODEL").is_err() {
            builder = builder.model("gpt-4o-mini");
        }
        match builder.build() {
            Ok(openai) => {
                eprintln!("(using {} at {})", openai.default_model().unwrap_or("?"), openai.base_url());
                return Arc::new(openai.chat());
            }
            Err(error) => eprintln!("(cannot use OpenAI: {error}; falling back to the scripted model)"),
        }
    }
    eprintln!("(using the scripted model: deterministic, offline; set OPENAI_API_KEY for a real one)");
    Arc::new(weft::ScriptedClient::new())
}
