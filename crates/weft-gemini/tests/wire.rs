//! The Gemini client against an in-test server that answers with the bodies Google's Gemini
//! API documentation shows (answers, SSE streams, parallel function calls, thought signatures,
//! a blocked prompt, the error objects), and the faults: a cut stream, malformed JSON, 429 with
//! its retry delay, 500.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use support::{Mock, json_answer, sse};
use weft_core::{
    AgentSession, ChatAgent, ChatClient, ChatErrorKind, ChatOptions, ChatRequest, Content, FinishReason,
    FunctionCall, FunctionTool, Message, Role, Usage, collect_stream,
};

fn ask(text: &str) -> ChatRequest {
    ChatRequest::new(vec![Message::system("Be terse."), Message::user(text)], ChatOptions::default())
}

/// The documented answer of `generateContent` (a thinking model: thoughts counted apart).
const TEXT_ANSWER: &str = r#"{
  "candidates": [
    {
      "content": {
        "parts": [
          {
            "text": "AI learns patterns from data to make predictions."
          }
        ],
        "role": "model"
      },
      "finishReason": "STOP",
      "index": 0
    }
  ],
  "usageMetadata": {
    "promptTokenCount": 8,
    "candidatesTokenCount": 10,
    "totalTokenCount": 1021,
    "promptTokensDetails": [
      {
        "modality": "TEXT",
        "tokenCount": 8
      }
    ],
    "thoughtsTokenCount": 1003
  },
  "modelVersion": "gemini-2.5-flash",
  "responseId": "kZqcaPqfFYGr1dkPjN3z-Ak"
}"#;

/// A documented `streamGenerateContent?alt=sse` stream (events end with CRLF, as Google's do).
const TEXT_STREAM: &str = "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"The\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 11,\"totalTokenCount\": 11,\"promptTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": 11}]},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"Lz2daIeFMqWq1dkP7tDv-QU\"}\r\n\r\n\
data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" sky is blue\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 11,\"totalTokenCount\": 11,\"promptTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": 11}]},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"Lz2daIeFMqWq1dkP7tDv-QU\"}\r\n\r\n\
data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" because of Rayleigh scattering.\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 11,\"candidatesTokenCount\": 9,\"totalTokenCount\": 520,\"cachedContentTokenCount\": 4,\"promptTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": 11}],\"thoughtsTokenCount\": 500},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"Lz2daIeFMqWq1dkP7tDv-QU\"}\r\n\r\n";

/// The documented parallel function calling answer.
const PARALLEL_CALLS: &str = r#"{
  "candidates": [
    {
      "content": {
        "parts": [
          {"functionCall": {"name": "power_disco_ball", "args": {"power": true}}},
          {"functionCall": {"name": "start_music", "args": {"energetic": true, "loud": true}}},
          {"functionCall": {"name": "dim_lights", "args": {"brightness": 0.5}}}
        ],
        "role": "model"
      },
      "finishReason": "STOP",
      "index": 0
    }
  ],
  "usageMetadata": {"promptTokenCount": 90, "candidatesTokenCount": 30, "totalTokenCount": 120},
  "modelVersion": "gemini-2.5-flash"
}"#;

/// A streamed thinking answer with thought summaries and a function call carrying its thought
/// signature (as the thought signatures documentation shows them).
const THINKING_STREAM: &str = r#"data: {"candidates": [{"content": {"parts": [{"text": "**Checking the weather**\n\nThe user wants London's temperature.","thought": true}],"role": "model"},"index": 0}],"modelVersion": "gemini-2.5-pro","responseId": "r-1"}

data: {"candidates": [{"content": {"parts": [{"functionCall": {"name": "get_current_temperature","args": {"location": "London"}},"thoughtSignature": "CiIBVKhc7oDtvWKGzvbqx0cf1BgNfKSz6lZ2Avn9y5D2"}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 60,"candidatesTokenCount": 15,"totalTokenCount": 175,"thoughtsTokenCount": 100},"modelVersion": "gemini-2.5-pro","responseId": "r-1"}

"#;

#[tokio::test]
async fn a_whole_answer_with_its_usage_and_the_request_google_expects() {
    let mock = Mock::start(vec![json_answer(200, TEXT_ANSWER)]).await;
    let client = mock.builder().build().unwrap().chat();
    let response = client.get_response(ask("How does AI work?")).await.unwrap();
    assert_eq!(response.text_content(), "AI learns patterns from data to make predictions.");
    assert_eq!(response.finish_reason, Some(FinishReason::Stop));
    assert_eq!(response.response_id.as_deref(), Some("kZqcaPqfFYGr1dkPjN3z-Ak"));
    assert_eq!(response.model.as_deref(), Some("gemini-2.5-flash"));
    assert_eq!(response.usage, Some(Usage::new(8, 1013)));
    let got = &mock.requests()[0];
    assert_eq!(got.uri, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(got.headers["x-goog-api-key"], "AIza-test-key");
    assert_eq!(
        got.body,
        json!({
            "systemInstruction": {"parts": [{"text": "Be terse."}]},
            "contents": [{"role": "user", "parts": [{"text": "How does AI work?"}]}],
        })
    );
    assert_eq!(client.info().provider, "gemini");
}

#[tokio::test]
async fn a_stream_gives_deltas_then_usage_and_the_finish() {
    let mock = Mock::start(vec![sse(TEXT_STREAM)]).await;
    let client = mock.builder().build().unwrap().chat();
    let mut stream = client.get_streaming_response(ask("Why is the sky blue?"));
    let mut texts = Vec::new();
    let mut updates = Vec::new();
    while let Some(update) = futures::StreamExt::next(&mut stream).await {
        let update = update.unwrap();
        texts.push(update.text_content());
        updates.push(update);
    }
    assert_eq!(texts, ["The", " sky is blue", " because of Rayleigh scattering."]);
    let response = weft_core::fold_updates(updates);
    assert_eq!(response.text_content(), "The sky is blue because of Rayleigh scattering.");
    assert_eq!(response.finish_reason, Some(FinishReason::Stop));
    assert_eq!(response.response_id.as_deref(), Some("Lz2daIeFMqWq1dkP7tDv-QU"));
    assert_eq!(
        response.usage,
        Some(Usage {
            input_tokens: 11,
            output_tokens: 509,
            total_tokens: 520,
            cache_read_input_tokens: 4,
            cache_creation_input_tokens: 0
        })
    );
    let got = &mock.requests()[0];
    assert_eq!(got.uri, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
    assert_eq!(got.headers["accept"], "text/event-stream");
}

#[derive(Deserialize, JsonSchema)]
struct Power {
    /// On or off.
    power: bool,
}

#[derive(Deserialize, JsonSchema)]
struct Music {
    energetic: bool,
    loud: bool,
}

#[derive(Deserialize, JsonSchema)]
struct Lights {
    brightness: f64,
}

#[tokio::test]
async fn parallel_calls_round_trip_through_an_agent() {
    let done = r#"{"candidates": [{"content": {"parts": [{"text": "Let's party!"}], "role": "model"}, "finishReason": "STOP", "index": 0}]}"#;
    let mock = Mock::start(vec![json_answer(200, PARALLEL_CALLS), json_answer(200, done)]).await;
    let client = Arc::new(mock.builder().build().unwrap().chat());
    let agent = ChatAgent::builder(client)
        .tool(FunctionTool::new("power_disco_ball", "Powers the disco ball", |args: Power| async move {
            Ok::<_, String>(json!({"status": if args.power { "spinning" } else { "off" }}))
        }))
        .tool(FunctionTool::new("start_music", "Plays music", |args: Music| async move {
            Ok::<_, String>(format!("music energetic={} loud={}", args.energetic, args.loud))
        }))
        .tool(FunctionTool::new("dim_lights", "Dims the lights", |args: Lights| async move {
            Err::<String, _>(format!("cannot dim to {}", args.brightness))
        }))
        .build();
    let mut session = AgentSession::new();
    let response = agent.run(&mut session, "Turn this place into a party!").await.unwrap();
    assert_eq!(response.text(), "Let's party!");
    let requests = mock.requests();
    assert_eq!(requests.len(), 2);
    let declarations = requests[0].body["tools"][0]["functionDeclarations"].as_array().unwrap();
    let power = declarations.iter().find(|declaration| declaration["name"] == "power_disco_ball").unwrap();
    assert_eq!(declarations.len(), 3);
    assert_eq!(
        power["parameters"],
        json!({"type": "object", "required": ["power"],
               "properties": {"power": {"type": "boolean", "description": "On or off."}}})
    );
    let contents = &requests[1].body["contents"];
    assert_eq!(
        contents[1],
        json!({"role": "model", "parts": [
            {"functionCall": {"name": "power_disco_ball", "args": {"power": true}}},
            {"functionCall": {"name": "start_music", "args": {"energetic": true, "loud": true}}},
            {"functionCall": {"name": "dim_lights", "args": {"brightness": 0.5}}},
        ]})
    );
    let parts = contents[2]["parts"].as_array().unwrap();
    assert_eq!(contents[2]["role"], "user");
    let responses: Vec<(&str, &Value)> = parts
        .iter()
        .map(|part| {
            (part["functionResponse"]["name"].as_str().unwrap(), &part["functionResponse"]["response"])
        })
        .collect();
    assert_eq!(responses[0], ("power_disco_ball", &json!({"status": "spinning"})));
    assert_eq!(responses[1], ("start_music", &json!({"result": "music energetic=true loud=true"})));
    assert_eq!(responses[2].0, "dim_lights");
    assert!(responses[2].1["error"].as_str().unwrap().contains("cannot dim to 0.5"), "{:?}", responses[2]);
    // Ids made here for calls without one are not sent back.
    assert!(parts.iter().all(|part| part["functionResponse"].get("id").is_none()));
}

#[tokio::test]
async fn thoughts_and_their_signature_go_back_on_the_call() {
    let mock = Mock::start(vec![sse(THINKING_STREAM)]).await;
    let client = mock.builder().thinking_budget(1024).include_thoughts(true).build().unwrap().chat();
    let response =
        collect_stream(client.get_streaming_response(ask("Temperature in London?"))).await.unwrap();
    assert_eq!(response.finish_reason, Some(FinishReason::ToolCalls));
    let contents = &response.messages[0].contents;
    assert_eq!(
        contents[0],
        Content::Reasoning {
            text: "**Checking the weather**\n\nThe user wants London's temperature.".into(),
            signature: Some("CiIBVKhc7oDtvWKGzvbqx0cf1BgNfKSz6lZ2Avn9y5D2".into()),
        }
    );
    let Content::FunctionCall(call) = &contents[1] else { panic!("{contents:?}") };
    assert_eq!(call.arguments, json!({"location": "London"}));
    let usage = response.usage.unwrap();
    assert_eq!((usage.input_tokens, usage.output_tokens, usage.total_tokens), (60, 115, 175));
    let got = &mock.requests()[0];
    assert_eq!(
        got.body["generationConfig"],
        json!({"thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": true}})
    );
    // The next turn sends the history back: the signature on the function call part.
    let mut messages = vec![Message::user("Temperature in London?")];
    messages.extend(response.messages.clone());
    messages.push(Message::new(
        Role::Tool,
        vec![Content::FunctionResult(weft_core::FunctionResult::ok(
            call.call_id.clone(),
            json!({"temperature": 12}),
        ))],
    ));
    let body = client.request_body(&ChatRequest::new(messages, ChatOptions::default()));
    assert_eq!(
        body["contents"][1],
        json!({"role": "model", "parts": [
            {"text": "**Checking the weather**\n\nThe user wants London's temperature.", "thought": true},
            {"functionCall": {"name": "get_current_temperature", "args": {"location": "London"}},
             "thoughtSignature": "CiIBVKhc7oDtvWKGzvbqx0cf1BgNfKSz6lZ2Avn9y5D2"},
        ]})
    );
    assert_eq!(
        body["contents"][2]["parts"][0]["functionResponse"],
        json!({"name": "get_current_temperature", "response": {"temperature": 12}})
    );
}

#[tokio::test]
async fn a_blocked_prompt_is_an_error_naming_the_category_and_a_cut_answer_a_content_filter() {
    let blocked = r#"{
  "promptFeedback": {
    "blockReason": "SAFETY",
    "safetyRatings": [
      {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
      {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
      {"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": true},
      {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "NEGLIGIBLE"}
    ]
  },
  "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8},
  "modelVersion": "gemini-2.5-flash"
}"#;
    let mock = Mock::start(vec![json_answer(200, blocked)]).await;
    let client = mock.builder().build().unwrap().chat();
    for stream in [false, true] {
        let err = if stream {
            collect_stream(client.get_streaming_response(ask("…"))).await.unwrap_err()
        } else {
            client.get_response(ask("…")).await.unwrap_err()
        };
        assert_eq!((err.kind(), err.code()), (ChatErrorKind::BadRequest, Some("SAFETY")), "{err}");
        assert!(
            err.message().contains("the prompt") && err.message().contains("HARM_CATEGORY_HARASSMENT"),
            "{err}"
        );
        assert!(!err.is_retryable());
    }
    let cut = "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Once upon\"}],\"role\": \"model\"},\"index\": 0}]}\n\n\
data: {\"candidates\": [{\"content\": {\"parts\": [],\"role\": \"model\"},\"finishReason\": \"SAFETY\",\"index\": 0,\"safetyRatings\": [{\"category\": \"HARM_CATEGORY_DANGEROUS_CONTENT\",\"probability\": \"HIGH\",\"blocked\": true}]}]}\n\n";
    let filtered = "{\"candidates\": [{\"finishReason\": \"SAFETY\",\"index\": 0,\"safetyRatings\": [{\"category\": \"HARM_CATEGORY_DANGEROUS_CONTENT\",\"probability\": \"HIGH\",\"blocked\": true}]}]}";
    let mock = Mock::start(vec![sse(cut), json_answer(200, filtered)]).await;
    let client = mock.builder().build().unwrap().chat();
    let response = collect_stream(client.get_streaming_response(ask("A story"))).await.unwrap();
    assert_eq!(
        (response.text_content().as_str(), response.finish_reason),
        ("Once upon", Some(FinishReason::ContentFilter))
    );
    let err = client.get_response(ask("A story")).await.unwrap_err();
    assert_eq!(err.code(), Some("SAFETY"));
    assert!(err.message().contains("the answer (SAFETY): HARM_CATEGORY_DANGEROUS_CONTENT"), "{err}");
}

#[tokio::test]
async fn a_429_waits_its_retry_delay_and_a_500_is_retried_then_reported() {
    let exhausted = r#"{
  "error": {
    "code": 429,
    "message": "You exceeded your current quota, please check your plan and billing details.",
    "status": "RESOURCE_EXHAUSTED",
    "details": [
      {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.05s"}
    ]
  }
}"#;
    let internal = r#"{
  "error": {
    "code": 500,
    "message": "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
    "status": "INTERNAL"
  }
}"#;
    let mock =
        Mock::start(vec![json_answer(429, exhausted), json_answer(500, internal), sse(TEXT_STREAM)]).await;
    let client = mock.builder().build().unwrap().chat();
    let response = collect_stream(client.get_streaming_response(ask("Why?"))).await.unwrap();
    assert_eq!(response.text_content(), "The sky is blue because of Rayleigh scattering.");
    assert_eq!(mock.requests().len(), 3);

    let mock = Mock::start(vec![json_answer(500, internal)]).await;
    let client = mock.builder().max_retries(1).build().unwrap().chat();
    let err = client.get_response(ask("Why?")).await.unwrap_err();
    assert_eq!((err.kind(), err.status(), err.code()), (ChatErrorKind::Server, Some(500), Some("INTERNAL")));
    assert!(err.message().starts_with("An internal error has occurred"), "{err}");
    assert_eq!(mock.requests().len(), 2);
}

#[tokio::test]
async fn an_unknown_key_is_an_authentication_error_that_never_shows_the_key() {
    let invalid = r#"{
  "error": {
    "code": 400,
    "message": "API key not valid. Please pass a valid API key. (AIza-test-key)",
    "status": "INVALID_ARGUMENT",
    "details": [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID",
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"}
      }
    ]
  }
}"#;
    let mock = Mock::start(vec![json_answer(400, invalid)]).await;
    let client = mock.builder().build().unwrap().chat();
    let err = client.get_response(ask("Hi")).await.unwrap_err();
    assert_eq!(err.kind(), ChatErrorKind::Authentication);
    assert!(!err.to_string().contains("AIza-test-key"), "{err}");
    assert_eq!(mock.requests().len(), 1, "not retried");
}

#[tokio::test]
async fn a_cut_stream_malformed_json_and_an_error_event_end_the_stream_with_an_error() {
    let cut = "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"The\"}],\"role\": \"model\"},\"index\": 0}]}\n\n";
    let malformed = "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"The\"}\n\n";
    let error_event = "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"The\"}],\"role\": \"model\"},\"index\": 0}]}\n\n\
data: {\"error\": {\"code\": 503, \"message\": \"The model is overloaded. Please try again later.\", \"status\": \"UNAVAILABLE\"}}\n\n";
    let mock = Mock::start(vec![sse(cut), sse(malformed), sse(error_event)]).await;
    let client = mock.builder().max_retries(0).build().unwrap().chat();
    let err = collect_stream(client.get_streaming_response(ask("Why?"))).await.unwrap_err();
    assert_eq!(err.kind(), ChatErrorKind::StreamEnded, "{err}");
    assert!(err.message().contains("finishReason"), "{err}");
    let err = collect_stream(client.get_streaming_response(ask("Why?"))).await.unwrap_err();
    assert_eq!(err.kind(), ChatErrorKind::Decode, "{err}");
    let err = collect_stream(client.get_streaming_response(ask("Why?"))).await.unwrap_err();
    assert_eq!((err.kind(), err.code()), (ChatErrorKind::Server, Some("UNAVAILABLE")), "{err}");
    assert!(err.message().contains("overloaded"), "{err}");
}

#[tokio::test]
async fn vertex_ai_asks_the_token_source_before_each_request() {
    let mock = Mock::start(vec![json_answer(200, TEXT_ANSWER), sse(TEXT_STREAM)]).await;
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = calls.clone();
    let vertex = weft_gemini::Gemini::builder()
        .vertex("my-project", "us-central1")
        .base_url(&mock.base_url)
        .model("gemini-2.5-flash")
        .token_source(move || {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            async move { Ok::<_, std::io::Error>(format!("ya29.token-{n}")) }
        })
        .build()
        .unwrap()
        .chat();
    assert_eq!(vertex.info().provider, "vertex_ai");
    vertex.get_response(ask("Hi")).await.unwrap();
    collect_stream(vertex.get_streaming_response(ask("Hi"))).await.unwrap();
    let requests = mock.requests();
    let path = "/v1/projects/my-project/locations/us-central1/publishers/google/models/gemini-2.5-flash";
    assert_eq!(requests[0].uri, format!("{path}:generateContent"));
    assert_eq!(requests[1].uri, format!("{path}:streamGenerateContent?alt=sse"));
    assert_eq!(requests[0].headers["authorization"], "Bearer ya29.token-1");
    assert_eq!(requests[1].headers["authorization"], "Bearer ya29.token-2");
    // A source that fails fails the call, before any request.
    let failing = weft_gemini::Gemini::builder()
        .vertex("p", "us-central1")
        .base_url(&mock.base_url)
        .model("m")
        .token_source(|| async { Err::<String, _>(std::io::Error::other("gcloud is not logged in")) })
        .build()
        .unwrap()
        .chat();
    let err = collect_stream(failing.get_streaming_response(ask("Hi"))).await.unwrap_err();
    assert_eq!(err.kind(), ChatErrorKind::Authentication);
    assert!(err.message().contains("gcloud is not logged in"), "{err}");
    assert_eq!(mock.requests().len(), 2);
}

#[tokio::test]
async fn a_call_the_server_named_keeps_its_id_both_ways() {
    let answer = r#"{"candidates": [{"content": {"parts": [{"functionCall": {"id": "fc-1", "name": "f", "args": {}}}], "role": "model"}, "finishReason": "STOP"}]}"#;
    let mock = Mock::start(vec![json_answer(200, answer)]).await;
    let client = mock.builder().build().unwrap().chat();
    let response = client.get_response(ask("Call f")).await.unwrap();
    assert_eq!(
        response.messages[0].contents,
        vec![Content::FunctionCall(FunctionCall::new("fc-1", "f", json!({})))]
    );
    let mut messages = response.messages.clone();
    messages.push(Message::new(
        Role::Tool,
        vec![Content::FunctionResult(weft_core::FunctionResult::ok("fc-1", json!(3)))],
    ));
    let body = client.request_body(&ChatRequest::new(messages, ChatOptions::default()));
    assert_eq!(body["contents"][0]["parts"][0]["functionCall"]["id"], "fc-1");
    assert_eq!(
        body["contents"][1]["parts"][0]["functionResponse"],
        json!({"name": "f", "response": {"result": 3}, "id": "fc-1"})
    );
}
