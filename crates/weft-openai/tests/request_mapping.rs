//! The JSON bodies, URLs and headers the servers receive, for both APIs and Azure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Map, json};
use support::{bodies, openai};
use weft_core::{
    ChatClient, ChatOptions, ChatRequest, Content, FunctionCall, FunctionResult, Message, ResponseFormat,
    Role, ToolChoice, ToolDefinition, Usage,
};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn conversation() -> Vec<Message> {
    vec![
        Message::system("You are terse."),
        Message::new(
            Role::User,
            vec![
                Content::text("What is in this image, and the weather?"),
                Content::Data { media_type: "image/png".into(), base64: "iVBORw0K".into() },
                Content::Uri {
                    uri: "https://example.com/cat.jpg".into(),
                    media_type: Some("image/jpeg".into()),
                },
            ],
        ),
        Message::new(
            Role::Assistant,
            vec![
                Content::Reasoning { text: "think".into(), signature: None },
                Content::FunctionCall(FunctionCall::new("call_1", "get_weather", json!({"city": "Paris"}))),
                Content::FunctionCall(FunctionCall::new("call_2", "get_time", json!({}))),
                Content::Usage(Usage::new(1, 2)),
            ],
        ),
        Message::new(
            Role::Tool,
            vec![
                Content::FunctionResult(FunctionResult::ok("call_1", json!({"temp": 21}))),
                Content::FunctionResult(FunctionResult::error("call_2", "clock broken")),
            ],
        ),
        Message::assistant("It is 21 degrees."),
        Message::user("Thanks"),
    ]
}

fn options() -> ChatOptions {
    let mut extra = Map::new();
    extra.insert("user".into(), json!("u-42"));
    extra.insert("temperature".into(), json!(0.5));
    ChatOptions {
        model: Some("gpt-4.1".into()),
        temperature: Some(0.25),
        top_p: Some(0.9),
        max_tokens: Some(100),
        stop: vec!["END".into()],
        seed: Some(7),
        tools: vec![ToolDefinition::new(
            "get_weather",
            "Weather for a city",
            json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        )],
        tool_choice: Some(ToolChoice::Function("get_weather".into())),
        parallel_tool_calls: Some(false),
        response_format: Some(ResponseFormat::JsonSchema {
            name: "answer".into(),
            schema: json!({"type": "object"}),
            strict: true,
        }),
        hosted_tools: Vec::new(),
        extra,
        budget: None,
    }
}

#[tokio::test]
async fn chat_body_maps_messages_tools_and_options() {
    let server = MockServer::start().await;
    let answer = json!({"id": "x", "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]});
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .mount(&server)
        .await;
    openai(&server).chat().get_response(ChatRequest::new(conversation(), options())).await.unwrap();
    let body = &bodies(&server).await[0];
    assert_eq!(
        body,
        &json!({
            "model": "gpt-4.1",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": [
                    {"type": "text", "text": "What is in this image, and the weather?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0K"}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}
                ]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\":21}"},
                {"role": "tool", "tool_call_id": "call_2", "content": "Error: clock broken"},
                {"role": "assistant", "content": "It is 21 degrees."},
                {"role": "user", "content": "Thanks"}
            ],
            "temperature": 0.5,
            "top_p": 0.9,
            "max_tokens": 100,
            "stop": ["END"],
            "seed": 7,
            "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "parallel_tool_calls": false,
            "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": true}},
            "user": "u-42"
        })
    );
}

#[tokio::test]
async fn responses_body_maps_input_items_tools_and_options() {
    let server = MockServer::start().await;
    let answer = json!({"id": "resp_1", "status": "completed", "output": []});
    Mock::given(method("POST"))
        .and(path("/v1/responses"))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .mount(&server)
        .await;
    let mut options = options();
    options.tool_choice = Some(ToolChoice::Required);
    openai(&server).responses().get_response(ChatRequest::new(conversation(), options)).await.unwrap();
    let body = &bodies(&server).await[0];
    assert_eq!(
        body,
        &json!({
            "model": "gpt-4.1",
            "input": [
                {"type": "message", "role": "system", "content": "You are terse."},
                {"type": "message", "role": "user", "content": [
                    {"type": "input_text", "text": "What is in this image, and the weather?"},
                    {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0K"},
                    {"type": "input_image", "image_url": "https://example.com/cat.jpg"}
                ]},
                {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
                {"type": "function_call", "call_id": "call_2", "name": "get_time", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "call_1", "output": "{\"temp\":21}"},
                {"type": "function_call_output", "call_id": "call_2", "output": "Error: clock broken"},
                {"type": "message", "role": "assistant", "content": "It is 21 degrees."},
                {"type": "message", "role": "user", "content": "Thanks"}
            ],
            "store": false,
            "temperature": 0.5,
            "top_p": 0.9,
            "max_output_tokens": 100,
            "tools": [{"type": "function", "name": "get_weather", "description": "Weather for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}, "strict": false}],
            "tool_choice": "required",
            "parallel_tool_calls": false,
            "text": {"format": {"type": "json_schema", "name": "answer", "schema": {"type": "object"}, "strict": true}},
            "user": "u-42"
        })
    );
}

#[tokio::test]
async fn tool_choice_variants() {
    let client = weft_openai::OpenAI::builder().model("m").build().unwrap();
    let cases = [
        (ToolChoice::Auto, json!("auto"), json!("auto")),
        (ToolChoice::None, json!("none"), json!("none")),
        (
            ToolChoice::Function("f".into()),
            json!({"type": "function", "function": {"name": "f"}}),
            json!({"type": "function", "name": "f"}),
        ),
    ];
    for (choice, chat, responses) in cases {
        let request = ChatRequest::new(
            vec![Message::user("x")],
            ChatOptions {
                tool_choice: Some(choice),
                response_format: Some(ResponseFormat::JsonObject),
                ..Default::default()
            },
        );
        let body = client.chat().request_body(&request, false).unwrap();
        assert_eq!(body["tool_choice"], chat);
        assert_eq!(body["response_format"], json!({"type": "json_object"}));
        let body = client.responses().request_body(&request, true).unwrap();
        assert_eq!(body["tool_choice"], responses);
        assert_eq!(body["text"], json!({"format": {"type": "json_object"}}));
        assert_eq!(body["stream"], json!(true));
    }
}

#[tokio::test]
async fn azure_chat_uses_the_deployment_url_api_key_and_api_version() {
    let server = MockServer::start().await;
    let answer = json!({"id": "x", "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]});
    Mock::given(method("POST"))
        .and(path("/openai/deployments/my-gpt/chat/completions"))
        .and(query_param("api-version", "2024-10-21"))
        .and(header("api-key", "azure-key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .expect(1)
        .mount(&server)
        .await;
    let azure = weft_openai::OpenAI::builder()
        .azure_endpoint(server.uri())
        .azure_deployment("my-gpt")
        .api_key("azure-key")
        .organization("org-1")
        .header("x-trace", "t1")
        .build()
        .unwrap();
    let chat = azure.chat();
    assert_eq!(chat.info().provider, "azure.ai.openai");
    assert_eq!(chat.info().default_model.as_deref(), Some("my-gpt"));
    let response = chat.get_response(support::ask("hi")).await.unwrap();
    assert_eq!(response.text_content(), "ok");
    let request = &server.received_requests().await.unwrap()[0];
    assert!(request.headers.get("authorization").is_none());
    assert_eq!(request.headers.get("openai-organization").unwrap(), "org-1");
    assert_eq!(request.headers.get("x-trace").unwrap(), "t1");
    assert_eq!(request.body_json::<serde_json::Value>().unwrap()["model"], json!("my-gpt"));
}

#[tokio::test]
async fn azure_responses_use_the_v1_path() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/openai/v1/responses"))
        .and(header("api-key", "azure-key"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "r", "status": "completed", "output": []})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let azure = weft_openai::OpenAI::builder()
        .azure_endpoint(format!("{}/", server.uri()))
        .azure_deployment("my-gpt")
        .api_key("azure-key")
        .build()
        .unwrap();
    azure.responses().get_response(support::ask("hi")).await.unwrap();
    assert_eq!(bodies(&server).await[0]["model"], json!("my-gpt"));
}
