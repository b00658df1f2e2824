//! MAF's quickstart in Weft: an agent on a Microsoft Foundry project, signed in with the Azure
//! CLI, writes a haiku.
//!
//! `cargo run -p weft --features azure --example foundry_haiku`
//!
//! With `FOUNDRY_PROJECT_ENDPOINT` (`https://<resource>.services.ai.azure.com/api/projects/<project>`)
//! and `FOUNDRY_MODEL_DEPLOYMENT_NAME` set (or `AZURE_AI_PROJECT_ENDPOINT` and
//! `AZURE_AI_MODEL_DEPLOYMENT_NAME`) and `az login` done, it calls the project's Responses
//! API with a Microsoft Entra ID token; without them it runs offline on the scripted model.

use std::sync::Arc;

use weft::azure::AzureCliCredential;
use weft::openai::OpenAI;
use weft::prelude::*;

/// The project's Responses API when a project is configured, else the scripted model.
fn chat_client() -> Result<Arc<dyn ChatClient>, ChatError> {
    let configured = ["FOUNDRY_PROJECT_ENDPOINT", "AZURE_AI_PROJECT_ENDPOINT"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|value| !value.trim().is_empty()));
    if !configured {
        eprintln!("(using the scripted model: set FOUNDRY_PROJECT_ENDPOINT and run `az login` for Foundry)");
        return Ok(Arc::new(ScriptedClient::new()));
    }
    // In production, `weft::azure::DefaultAzureCredential` (managed identity in Azure).
    let foundry = OpenAI::foundry_from_env(Arc::new(AzureCliCredential::new()))?;
    eprintln!("(using {} at {})", foundry.default_model().unwrap_or("?"), foundry.base_url());
    Ok(Arc::new(foundry.responses()))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let agent = ChatAgent::builder(chat_client()?)
        .name("Joker")
        .instructions("You are good at telling jokes.")
        .build();
    let mut session = agent.new_session();
    let response = agent.run(&mut session, "Write a haiku about Microsoft Agent Framework.").await?;
    println!("{}", response.text());
    Ok(())
}
