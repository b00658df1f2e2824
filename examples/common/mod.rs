//! Shared by the examples: which model to talk to.

use std::sync::Arc;

use weft::ChatClient;

/// The model the examples use: Weft's offline scripted model. (The OpenAI-compatible provider
/// is used instead when `OPENAI_API_KEY` is set, once `weft::openai` is available.)
pub fn chat_client() -> Arc<dyn ChatClient> {
    eprintln!("(using the scripted model: deterministic, offline)");
    Arc::new(weft::ScriptedClient::new())
}
