//! A declarative agent file run against a real model server (llama.cpp's `llama-server` with the
//! tiny deterministic model of `scripts/peers/llama.sh`) through a [`ModelOverride`]: the file
//! says `provider: scripted`, the override points it at the server, and the file's
//! `kind: function` tool, bound by name, is called by the model and its result sent back.
//!
//! `#[ignore]`d in plain `cargo nextest run`; `scripts/test` builds the peer and runs it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../weft-openai/tests/support/llama.rs"]
mod llama;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use llama::{LlamaServer, Options, peer};
use serde::Deserialize;
use weft_core::{AgentSession, ChatRequest, Message, ToolChoice, from_fn};
use weft_declarative::{Bindings, LoadOptions, ModelOverride, finish, plan_file_with};

#[derive(Deserialize)]
struct City {
    city: String,
}

#[ignore = "needs llama-server: scripts/test installs them"]
#[tokio::test]
async fn the_weather_example_calls_its_bound_function_on_llama_server() {
    let peer = peer("the_weather_example_calls_its_bound_function_on_llama_server");
    let server = LlamaServer::start(&peer, &Options::default());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen_by_tool = seen.clone();
    let bindings = Bindings::new().function("get_weather", move |args: City| {
        let seen = seen_by_tool.clone();
        async move {
            seen.lock().unwrap().push(args.city.clone());
            Ok::<_, String>(format!("weather in {}: sunny, 21C", args.city))
        }
    });
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/declarative/weather.yaml");
    for provider in ["OpenAI.Chat", "OpenAI.Responses", "Anthropic.Messages"] {
        seen.lock().unwrap().clear();
        let endpoint = if provider.starts_with("OpenAI") {
            server.base_url()
        } else {
            format!("http://127.0.0.1:{}", server.port())
        };
        let options = LoadOptions {
            model: Some(ModelOverride {
                provider: provider.into(),
                endpoint: Some(endpoint.clone()),
                id: Some("tiny".into()),
                api_key: Some("unused".into()),
            }),
            ..LoadOptions::default()
        };
        let plan = plan_file_with(&file, &bindings, &options).unwrap();
        assert!(
            plan.model_description.contains(&format!("at {endpoint}, model tiny")),
            "{}",
            plan.model_description
        );
        // The tiny model calls a tool only when it must: force a call until a tool result is
        // in the conversation, then let it answer.
        let force_first_call = from_fn(|mut request: ChatRequest, next| async move {
            let answered = request.messages.iter().any(|message| message.function_results().next().is_some());
            request.options.tool_choice =
                Some(if answered { ToolChoice::Auto } else { ToolChoice::Required });
            next.run(request).await
        });
        let loaded = finish(plan, |builder| builder.chat_middleware(force_first_call).max_iterations(4))
            .await
            .unwrap();
        let mut session = AgentSession::new();
        let run = loaded.agent.run(&mut session, "What's the weather in Paris?");
        let response = tokio::time::timeout(Duration::from_secs(30), run)
            .await
            .unwrap_or_else(|_| panic!("{provider}: no answer within 30 s; log:\n{}", server.log()))
            .unwrap_or_else(|e| panic!("{provider}: {e}\nlog:\n{}", server.log()));
        assert_eq!(seen.lock().unwrap().len(), 1, "{provider}: one call of the bound function");
        let call = session.messages.iter().flat_map(Message::function_calls).next().expect("a call");
        assert_eq!(call.name, "get_weather", "{provider}");
        let result = session.messages.iter().flat_map(Message::function_results).next().expect("a result");
        assert_eq!(result.call_id, call.call_id, "{provider}");
        assert!(result.to_model_text().contains("sunny, 21C"), "{provider}: {}", result.to_model_text());
        assert!(response.text().ends_with("Howdy, pal!"), "{provider}: {}", response.text());
    }
}
