//! Calls an OpenAI-compatible server through both APIs, plain and streamed, with one tool.
//!
//! ```sh
//! OPENAI_BASE_URL=http://127.0.0.1:8089/v1 OPENAI_MODEL=tool cargo run -p weft-openai --example smoke -- "Paris"
//! ```

use futures::StreamExt;
use serde_json::json;
use weft_core::{
    ChatClient, ChatError, ChatOptions, ChatRequest, Content, FunctionResult, Message, Role, ToolDefinition,
};
use weft_openai::OpenAI;

#[tokio::main]
async fn main() -> Result<(), ChatError> {
    let prompt = std::env::args().nth(1).unwrap_or_else(|| "What is the weather in Paris?".into());
    let openai = OpenAI::from_env()?;
    let options = ChatOptions {
        tools: vec![ToolDefinition::new(
            "get_weather",
            "The weather in a city",
            json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        )],
        ..ChatOptions::default()
    };
    let request = ChatRequest::new(vec![Message::user(prompt)], options);
    let clients: [(&str, Box<dyn ChatClient>); 2] =
        [("chat", Box::new(openai.chat())), ("responses", Box::new(openai.responses()))];
    for (name, client) in clients {
        match client.get_response(request.clone()).await {
            Ok(response) => {
                println!("{name} plain: {response:?}");
                // Answer the tool calls, if any, and ask again.
                let results: Vec<Content> = response
                    .function_calls_requested()
                    .map(|call| {
                        Content::FunctionResult(FunctionResult::ok(
                            call.call_id.clone(),
                            json!("sunny, 21 C"),
                        ))
                    })
                    .collect();
                if !results.is_empty() {
                    let mut follow_up = request.clone();
                    follow_up.messages.extend(response.messages);
                    follow_up.messages.push(Message::new(Role::Tool, results));
                    match client.get_response(follow_up).await {
                        Ok(response) => println!("{name} after tools: {}", response.text_content()),
                        Err(err) => println!("{name} after tools failed: {err}"),
                    }
                }
            }
            Err(err) => println!("{name} plain failed: {err}"),
        }
        let mut stream = client.get_streaming_response(request.clone());
        let mut updates = 0;
        let mut last = None;
        while let Some(update) = stream.next().await {
            match update {
                Ok(update) => {
                    updates += 1;
                    last = Some(update);
                }
                Err(err) => {
                    println!("{name} stream failed after {updates} updates: {err}");
                    break;
                }
            }
        }
        println!("{name} streamed: {updates} updates, last: {last:?}");
    }
    Ok(())
}
