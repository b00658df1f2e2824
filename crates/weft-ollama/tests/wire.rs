//! The Ollama client against an in-test server that answers as Ollama's API documentation
//! (docs/api.md) shows, byte for byte where it gives the bytes: streamed and whole chats,
//! structured output, tools, images, thinking, errors (also mid-stream) and `/api/embed`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use weft_core::{
    ChatClient, ChatErrorKind, ChatOptions, ChatRequest, Content, EmbeddingClient, EmbeddingError,
    EmbeddingOptions, FinishReason, Message, ResponseFormat, Role, ToolDefinition, Usage, collect_stream,
};
use weft_ollama::{Ollama, OllamaBuilder};

/// One scripted answer: status, content type, body.
#[derive(Clone)]
struct Answer {
    status: u16,
    content_type: &'static str,
    body: String,
}

fn ndjson(body: &str) -> Answer {
    Answer { status: 200, content_type: "application/x-ndjson", body: body.to_string() }
}

fn json_answer(status: u16, body: &str) -> Answer {
    Answer { status, content_type: "application/json; charset=utf-8", body: body.to_string() }
}

#[derive(Default)]
struct Script {
    answers: Vec<Answer>,
    requests: Vec<(String, HeaderMap, Value)>,
}

/// A server on a free port giving the scripted answers in turn, stopped when dropped.
struct Mock {
    host: String,
    script: Arc<Mutex<Script>>,
    stop: CancellationToken,
    _server: tokio::task::JoinHandle<()>,
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Mock {
    async fn start(answers: Vec<Answer>) -> Self {
        let script = Arc::new(Mutex::new(Script { answers, requests: Vec::new() }));
        let app = Router::new()
            .route("/api/chat", post(|state, headers, body| answer("/api/chat", state, headers, body)))
            .route("/api/embed", post(|state, headers, body| answer("/api/embed", state, headers, body)))
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = format!("http://{}", listener.local_addr().unwrap());
        let stop = CancellationToken::new();
        let shutdown = stop.clone();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await.unwrap();
        });
        Self { host, script, stop, _server: server }
    }

    fn builder(&self) -> OllamaBuilder {
        Ollama::builder().host(&self.host).model("llama3.2").initial_retry_delay(Duration::from_millis(5))
    }

    fn ollama(&self) -> Ollama {
        self.builder().build().unwrap()
    }

    fn requests(&self) -> Vec<(String, HeaderMap, Value)> {
        self.script.lock().unwrap().requests.clone()
    }
}

async fn answer(
    path: &'static str,
    State(script): State<Arc<Mutex<Script>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut script = script.lock().unwrap();
    script.requests.push((path.to_string(), headers, serde_json::from_slice(&body).unwrap_or(Value::Null)));
    let answer = if script.answers.len() > 1 { script.answers.remove(0) } else { script.answers[0].clone() };
    (StatusCode::from_u16(answer.status).unwrap(), [("content-type", answer.content_type)], answer.body)
        .into_response()
}

fn ask(text: &str) -> ChatRequest {
    ChatRequest::new(vec![Message::user(text)], ChatOptions::default())
}

/// The documented stream ("Chat Request (Streaming)"): its first line, two more of the same
/// shape, and its final line (which has no `message`).
const STREAM: &str = r#"{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"The","images":null},"done":false}
{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":" sky","images":null},"done":false}
{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":" is blue.","images":null},"done":false}
{"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","done":true,"total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}
"#;

#[tokio::test]
async fn the_documented_stream() {
    let mock = Mock::start(vec![ndjson(STREAM)]).await;
    let client = mock.ollama().chat();
    let mut stream = client.get_streaming_response(ask("why is the sky blue?"));
    let mut texts = Vec::new();
    let mut last = None;
    while let Some(update) = stream.next().await {
        let update = update.unwrap();
        if !update.text_content().is_empty() {
            texts.push(update.text_content());
        }
        last = Some(update);
    }
    assert_eq!(texts, ["The", " sky", " is blue."]);
    let last = last.unwrap();
    assert_eq!(last.finish_reason, Some(FinishReason::Stop));
    assert_eq!(last.contents, vec![Content::Usage(Usage::new(26, 282))]);
    assert_eq!(last.model.as_deref(), Some("llama3.2"));
    let (path, headers, body) = mock.requests().remove(0);
    assert_eq!(path, "/api/chat");
    assert_eq!(headers["accept"], "application/x-ndjson");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(
        body,
        json!({"model": "llama3.2", "messages": [{"role": "user", "content": "why is the sky blue?"}], "stream": true})
    );
}

#[tokio::test]
async fn the_documented_whole_answer() {
    let mock = Mock::start(vec![json_answer(
        200,
        r#"{
  "model": "llama3.2",
  "created_at": "2023-12-12T14:13:43.416799Z",
  "message": {
    "role": "assistant",
    "content": "Hello! How are you today?"
  },
  "done": true,
  "total_duration": 5191566416,
  "load_duration": 2154458,
  "prompt_eval_count": 26,
  "prompt_eval_duration": 383809000,
  "eval_count": 298,
  "eval_duration": 4799921000
}"#,
    )])
    .await;
    let response = mock.ollama().chat().get_response(ask("why is the sky blue?")).await.unwrap();
    assert_eq!(response.text_content(), "Hello! How are you today?");
    assert_eq!(response.messages[0].role, Role::Assistant);
    assert_eq!(response.finish_reason, Some(FinishReason::Stop));
    assert_eq!(response.usage, Some(Usage::new(26, 298)));
    assert_eq!(response.model.as_deref(), Some("llama3.2"));
    let (_, headers, body) = mock.requests().remove(0);
    assert_eq!(headers["accept"], "application/json");
    assert_eq!(body["stream"], json!(false));
}

#[tokio::test]
async fn the_documented_structured_output() {
    let mock = Mock::start(vec![json_answer(
        200,
        r#"{
  "model": "llama3.1",
  "created_at": "2024-12-06T00:46:58.265747Z",
  "message": { "role": "assistant", "content": "{\"age\": 22, \"available\": false}" },
  "done_reason": "stop",
  "done": true,
  "total_duration": 2254970291,
  "load_duration": 574751416,
  "prompt_eval_count": 34,
  "prompt_eval_duration": 1502000000,
  "eval_count": 12,
  "eval_duration": 175000000
}"#,
    )])
    .await;
    let schema: Value = serde_json::from_str(
        r#"{
    "type": "object",
    "properties": {
      "age": {
        "type": "integer"
      },
      "available": {
        "type": "boolean"
      }
    },
    "required": [
      "age",
      "available"
    ]
  }"#,
    )
    .unwrap();
    let options = ChatOptions {
        model: Some("llama3.1".into()),
        temperature: Some(0.0),
        response_format: Some(ResponseFormat::JsonSchema {
            name: "x".into(),
            schema: schema.clone(),
            strict: true,
        }),
        ..ChatOptions::default()
    };
    let text = "Ollama is 22 years old and busy saving the world. Return a JSON object with the age and availability.";
    let request = ChatRequest::new(vec![Message::user(text)], options);
    let response = mock.ollama().chat().get_response(request).await.unwrap();
    let answer: Value = serde_json::from_str(&response.text_content()).unwrap();
    assert_eq!(answer, json!({"age": 22, "available": false}));
    // The documented request, field for field.
    let (_, _, body) = mock.requests().remove(0);
    assert_eq!(
        body,
        json!({"model": "llama3.1", "messages": [{"role": "user", "content": text}], "format": schema,
            "options": {"temperature": 0.0}, "stream": false})
    );
}

/// The documented tool call answer ("Chat request (with tools)").
const TOOL_ANSWER: &str = r#"{
  "model": "llama3.2",
  "created_at": "2024-07-22T20:33:28.123648Z",
  "message": {
    "role": "assistant",
    "content": "",
    "tool_calls": [
      {
        "function": {
          "name": "get_current_weather",
          "arguments": {
            "format": "celsius",
            "location": "Paris, FR"
          }
        }
      }
    ]
  },
  "done_reason": "stop",
  "done": true,
  "total_duration": 885095291,
  "load_duration": 3753500,
  "prompt_eval_count": 122,
  "prompt_eval_duration": 328493000,
  "eval_count": 33,
  "eval_duration": 552222000
}"#;

fn weather_tool() -> ToolDefinition {
    ToolDefinition::new(
        "get_current_weather",
        "Get the current weather for a location",
        json!({
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The location to get the weather for, e.g. San Francisco, CA"},
                "format": {"type": "string", "description": "The format to return the weather in, e.g. 'celsius' or 'fahrenheit'", "enum": ["celsius", "fahrenheit"]}
            },
            "required": ["location", "format"]
        }),
    )
}

#[tokio::test]
async fn the_documented_tool_call_and_its_result_going_back() {
    let mock = Mock::start(vec![json_answer(200, TOOL_ANSWER)]).await;
    let client = mock.ollama().chat();
    let options = ChatOptions { tools: vec![weather_tool()], ..ChatOptions::default() };
    let question = Message::user("What is the weather today in Paris?");
    let response =
        client.get_response(ChatRequest::new(vec![question.clone()], options.clone())).await.unwrap();
    let calls: Vec<_> = response.function_calls_requested().cloned().collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].name, "get_current_weather");
    assert_eq!(calls[0].arguments, json!({"format": "celsius", "location": "Paris, FR"}));
    assert!(calls[0].call_id.starts_with("call_"), "an id is made up: {:?}", calls[0].call_id);
    assert_eq!(response.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(response.usage, Some(Usage::new(122, 33)));
    let (_, _, body) = mock.requests().remove(0);
    assert_eq!(
        body["tools"],
        json!([{"type": "function", "function": {
            "name": "get_current_weather", "description": "Get the current weather for a location",
            "parameters": weather_tool().parameters
        }}])
    );
    // The result goes back as a `tool` message naming its tool.
    let result = weft_core::FunctionResult::ok(calls[0].call_id.clone(), json!("22 degrees, sunny"));
    let history = vec![
        question,
        response.messages[0].clone(),
        Message::new(Role::Tool, vec![Content::FunctionResult(result)]),
    ];
    client.get_response(ChatRequest::new(history, options)).await.unwrap();
    let (_, _, body) = mock.requests().remove(1);
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": "What is the weather today in Paris?"},
            {"role": "assistant", "content": "", "tool_calls": [{"function": {
                "name": "get_current_weather", "arguments": {"format": "celsius", "location": "Paris, FR"}}}]},
            {"role": "tool", "content": "22 degrees, sunny", "tool_name": "get_current_weather"},
        ])
    );
}

#[tokio::test]
async fn images_go_as_base64_and_thinking_comes_back_as_reasoning() {
    // A thinking model's stream: `thinking` deltas, then `content`.
    let stream = concat!(
        r#"{"model":"qwen3","created_at":"2025-05-29T09:35:56.836222Z","message":{"role":"assistant","content":"","thinking":"Let me look"},"done":false}"#,
        "\n",
        r#"{"model":"qwen3","created_at":"2025-05-29T09:35:56.836222Z","message":{"role":"assistant","content":"","thinking":" at it."},"done":false}"#,
        "\n",
        r#"{"model":"qwen3","created_at":"2025-05-29T09:35:56.836222Z","message":{"role":"assistant","content":"A pig."},"done":false}"#,
        "\n",
        r#"{"model":"qwen3","created_at":"2025-05-29T09:35:57.836222Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"prompt_eval_count":26,"eval_count":9}"#,
        "\n",
    );
    let mock = Mock::start(vec![ndjson(stream)]).await;
    let client = mock.builder().think(true).keep_alive("10m").num_ctx(8192).build().unwrap().chat();
    let image = Content::Data {
        media_type: "image/png".into(),
        base64: "iVBORw0KGgoAAAANSUhEUgAAAG0AAABmCAYAAADBPx".into(),
    };
    let request = ChatRequest::new(
        vec![Message::new(Role::User, vec![Content::text("what is in this image?"), image])],
        ChatOptions::default(),
    );
    let response = collect_stream(client.get_streaming_response(request)).await.unwrap();
    assert_eq!(response.text_content(), "A pig.");
    let reasoning: String = response.messages[0]
        .contents
        .iter()
        .filter_map(|content| match content {
            Content::Reasoning { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(reasoning, "Let me look at it.");
    let (_, _, body) = mock.requests().remove(0);
    assert_eq!(
        body,
        json!({"model": "llama3.2", "messages": [{"role": "user", "content": "what is in this image?",
            "images": ["iVBORw0KGgoAAAANSUhEUgAAAG0AAABmCAYAAADBPx"]}],
            "options": {"num_ctx": 8192}, "stream": true, "keep_alive": "10m", "think": true})
    );
}

#[tokio::test]
async fn errors_whole_and_mid_stream() {
    // A model that is not pulled: 404 and Ollama's `{"error": …}`.
    let mock = Mock::start(vec![json_answer(
        404,
        r#"{"error":"model \"llama9\" not found, try pulling it first"}"#,
    )])
    .await;
    for stream in [false, true] {
        let client = mock.ollama().chat();
        let err = if stream {
            collect_stream(client.get_streaming_response(ask("hi"))).await.unwrap_err()
        } else {
            client.get_response(ask("hi")).await.unwrap_err()
        };
        assert_eq!(err.kind(), ChatErrorKind::BadRequest, "{err}");
        assert_eq!(err.status(), Some(404));
        assert!(err.to_string().contains("model \"llama9\" not found, try pulling it first"), "{err}");
        assert!(err.to_string().contains("ollama http://127.0.0.1:"), "names the endpoint: {err}");
    }
    // An error line mid-stream ends the stream with it, after what came before.
    let stream = concat!(
        r#"{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"The"},"done":false}"#,
        "\n",
        r#"{"error":"an error was encountered while running the model: unexpected EOF"}"#,
        "\n",
    );
    let mock = Mock::start(vec![ndjson(stream)]).await;
    let mut updates = mock.ollama().chat().get_streaming_response(ask("hi"));
    assert_eq!(updates.next().await.unwrap().unwrap().text_content(), "The");
    let err = updates.next().await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ChatErrorKind::Server, "{err}");
    assert!(err.to_string().contains("unexpected EOF"), "{err}");
    assert!(updates.next().await.is_none());
    // A 200 whose body is an error object.
    let mock = Mock::start(vec![json_answer(200, r#"{"error":"unexpected server status"}"#)]).await;
    let err = mock.ollama().chat().get_response(ask("hi")).await.unwrap_err();
    assert!(err.to_string().contains("unexpected server status"), "{err}");
    // No model anywhere: a configuration error before anything is sent.
    let err =
        Ollama::builder().host(&mock.host).build().unwrap().chat().get_response(ask("hi")).await.unwrap_err();
    assert_eq!(err.kind(), ChatErrorKind::Configuration, "{err}");
}

/// The documented `/api/embed` answer for two inputs.
const EMBED: &str = r#"{
  "model": "all-minilm",
  "embeddings": [[
    0.010071029, -0.0017594862, 0.05007221, 0.04692972, 0.054916814,
    0.008599704, 0.105441414, -0.025878139, 0.12958129, 0.031952348
  ],[
    -0.0098027075, 0.06042469, 0.025257962, -0.006364387, 0.07272725,
    0.017194884, 0.09032035, -0.051705178, 0.09951512, 0.09072481
  ]]
}"#;

/// The documented `/api/embed` answer for one input, with its counts.
const EMBED_ONE: &str = r#"{
  "model": "all-minilm",
  "embeddings": [[
    0.010071029, -0.0017594862, 0.05007221, 0.04692972, 0.054916814,
    0.008599704, 0.105441414, -0.025878139, 0.12958129, 0.031952348
  ]],
  "total_duration": 14143917,
  "load_duration": 1019500,
  "prompt_eval_count": 8
}"#;

fn texts() -> Vec<String> {
    vec!["Why is the sky blue?".to_string(), "Why is the grass green?".to_string()]
}

#[tokio::test]
async fn embeddings_in_one_batch_and_in_several() {
    let mock = Mock::start(vec![json_answer(200, EMBED)]).await;
    let embedder = mock.ollama().embeddings("all-minilm");
    let answer = embedder.embed(texts(), EmbeddingOptions::default()).await.unwrap();
    assert_eq!(answer.len(), 2);
    assert_eq!(answer.dimensions(), Some(10));
    assert_eq!(answer.vectors[1][0], -0.0098027075);
    assert_eq!(answer.model, "all-minilm");
    assert_eq!(answer.usage, None);
    let (path, _, body) = mock.requests().remove(0);
    assert_eq!(path, "/api/embed");
    assert_eq!(
        body,
        json!({"model": "all-minilm", "input": ["Why is the sky blue?", "Why is the grass green?"]})
    );
    // One text a request: two requests, the usage summed.
    let mock = Mock::start(vec![json_answer(200, EMBED_ONE)]).await;
    let embedder = mock.ollama().embeddings("all-minilm").max_batch_size(1).truncate(false).dimensions(10);
    let answer = embedder.embed(texts(), EmbeddingOptions::default()).await.unwrap();
    assert_eq!(answer.len(), 2);
    assert_eq!(answer.usage.map(|usage| usage.input_tokens), Some(16));
    let requests = mock.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1].2,
        json!({"model": "all-minilm", "input": ["Why is the grass green?"], "dimensions": 10, "truncate": false})
    );
    assert!(embedder.embed(Vec::new(), EmbeddingOptions::default()).await.unwrap().is_empty());
}

#[tokio::test]
async fn embedding_failures() {
    // One vector for two texts.
    let mock = Mock::start(vec![json_answer(200, EMBED_ONE)]).await;
    let err =
        mock.ollama().embeddings("all-minilm").embed(texts(), EmbeddingOptions::default()).await.unwrap_err();
    assert!(matches!(err, EmbeddingError::CountMismatch { expected: 2, actual: 1, .. }), "{err}");
    // Vectors of another size than asked.
    let mock = Mock::start(vec![json_answer(200, EMBED)]).await;
    let options = EmbeddingOptions::with_model("all-minilm").dimensions(384);
    let err = mock.ollama().embeddings("x").embed(texts(), options).await.unwrap_err();
    assert!(matches!(err, EmbeddingError::DimensionMismatch { expected: 384, actual: 10, .. }), "{err}");
    // Ollama's error body, with truncate off.
    let mock =
        Mock::start(vec![json_answer(400, r#"{"error":"the input length exceeds the context length"}"#)])
            .await;
    let err = mock
        .ollama()
        .embeddings("all-minilm")
        .truncate(false)
        .embed(texts(), EmbeddingOptions::default())
        .await
        .unwrap_err();
    let chat = err.chat_error().unwrap();
    assert_eq!(chat.kind(), ChatErrorKind::BadRequest, "{err}");
    assert!(err.to_string().contains("exceeds the context length"), "{err}");
    // No model.
    let err = mock.ollama().embeddings(" ").embed(texts(), EmbeddingOptions::default()).await.unwrap_err();
    assert_eq!(err.chat_error().map(|err| err.kind()), Some(ChatErrorKind::Configuration));
}
