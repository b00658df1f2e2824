//! An in-test Bedrock runtime: it checks every request's SigV4 signature (recomputing it with
//! `aws-sigv4` from what arrived) and gives scripted answers.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use weft_bedrock::{Bedrock, BedrockBuilder, Credentials};
use weft_provider::eventstream::{HeaderValue, Message};

pub const ACCESS_KEY: &str = "AKIDTESTEXAMPLE";
pub const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
pub const SESSION_TOKEN: &str = "FwoGZXIvYXdzEXAMPLEsessiontoken";
pub const REGION: &str = "us-west-2";

/// One scripted answer.
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

pub fn json_answer(status: u16, body: Value) -> Answer {
    Answer {
        status,
        headers: Vec::new(),
        content_type: "application/json",
        body: body.to_string().into_bytes(),
    }
}

/// An error as Bedrock sends it: the status, `x-amzn-ErrorType`, and `{"message": …}`.
pub fn aws_error(status: u16, exception: &str, message: &str) -> Answer {
    let mut answer = json_answer(status, serde_json::json!({"message": message}));
    answer.headers.push((
        "x-amzn-errortype",
        format!("{exception}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
    ));
    answer
}

/// An event-stream answer made of these bytes.
pub fn event_stream(bytes: Vec<u8>) -> Answer {
    Answer {
        status: 200,
        headers: vec![("x-amzn-requestid", "d6e9b0c1-0000-4000-8000-000000000000".into())],
        content_type: "application/vnd.amazon.eventstream",
        body: bytes,
    }
}

/// One event as ConverseStream frames it: `:event-type`, `:content-type`, `:message-type`
/// headers, and the JSON with the `p` padding AWS adds.
pub fn event(kind: &str, payload: &str) -> Vec<u8> {
    Message {
        headers: vec![
            (":event-type".into(), HeaderValue::String(kind.into())),
            (":content-type".into(), HeaderValue::String("application/json".into())),
            (":message-type".into(), HeaderValue::String("event".into())),
        ],
        payload: payload.as_bytes().to_vec().into(),
    }
    .encode()
}

/// An exception message (`:message-type: exception`), as a stream sends one mid-way.
pub fn exception(kind: &str, message: &str) -> Vec<u8> {
    Message {
        headers: vec![
            (":exception-type".into(), HeaderValue::String(kind.into())),
            (":content-type".into(), HeaderValue::String("application/json".into())),
            (":message-type".into(), HeaderValue::String("exception".into())),
        ],
        payload: serde_json::json!({"message": message}).to_string().into_bytes().into(),
    }
    .encode()
}

/// How the mock answers: in turn from a list (the last again when it runs out), or computed
/// from each request's body.
#[derive(Clone)]
pub enum Script {
    Answers(Vec<Answer>),
    Computed(Arc<dyn Fn(&Value) -> Answer + Send + Sync>),
}

/// What one request brought.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
    /// Why its signature is wrong, if it is.
    pub signature_problem: Option<String>,
}

struct Shared {
    script: Script,
    received: Vec<Received>,
}

/// The mock, on a free port of 127.0.0.1, stopped when dropped.
pub struct Mock {
    pub endpoint: String,
    shared: Arc<Mutex<Shared>>,
    stop: CancellationToken,
    _server: tokio::task::JoinHandle<()>,
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Mock {
    pub async fn start(script: Script) -> Self {
        let shared = Arc::new(Mutex::new(Shared { script, received: Vec::new() }));
        let app = Router::new().route("/model/{model}/{action}", post(answer)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let stop = CancellationToken::new();
        let shutdown = stop.clone();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await.unwrap();
        });
        Self { endpoint, shared, stop, _server: server }
    }

    pub async fn answers(answers: Vec<Answer>) -> Self {
        Self::start(Script::Answers(answers)).await
    }

    pub fn builder(&self) -> BedrockBuilder {
        Bedrock::builder()
            .credentials(Credentials::new(ACCESS_KEY, SECRET_KEY, Some(SESSION_TOKEN.to_string())))
            .region(REGION)
            .endpoint_url(&self.endpoint)
            .model("anthropic.claude-3-haiku-20240307-v1:0")
            .initial_retry_delay(Duration::from_millis(10))
    }

    pub fn bedrock(&self) -> Bedrock {
        self.builder().build().unwrap()
    }

    /// Every request so far, unchecked.
    pub fn received_unchecked(&self) -> Vec<Received> {
        self.shared.lock().unwrap().received.clone()
    }

    /// Every request so far, each checked: a wrong signature fails the test here.
    pub fn received(&self) -> Vec<Received> {
        let received = self.shared.lock().unwrap().received.clone();
        for request in &received {
            assert_eq!(request.signature_problem, None, "{} was not signed right", request.path);
        }
        received
    }
}

async fn answer(
    State(shared): State<Arc<Mutex<Shared>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let signature_problem = check_signature(&method, &uri, &headers, &body).err();
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut shared = shared.lock().unwrap();
    shared.received.push(Received {
        path: uri.path().to_string(),
        headers: headers.clone(),
        body: json.clone(),
        signature_problem,
    });
    let answer = match &mut shared.script {
        Script::Answers(answers) if answers.len() > 1 => answers.remove(0),
        Script::Answers(answers) => answers[0].clone(),
        Script::Computed(compute) => compute(&json),
    };
    let mut response =
        (StatusCode::from_u16(answer.status).unwrap(), [("content-type", answer.content_type)], answer.body)
            .into_response();
    for (name, value) in answer.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

/// Checks the `Authorization` header's shape (`AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/
/// bedrock/aws4_request, SignedHeaders=…, Signature=…`), `x-amz-date` and
/// `x-amz-security-token`, then signs what arrived again and compares.
pub fn check_signature(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<(), String> {
    let header = |name: &str| {
        headers.get(name).and_then(|value| value.to_str().ok()).ok_or_else(|| format!("no {name} header"))
    };
    let authorization = header("authorization")?;
    let date = header("x-amz-date")?;
    if header("x-amz-security-token")? != SESSION_TOKEN {
        return Err("the wrong x-amz-security-token".into());
    }
    if date.len() != 16 || &date[8..9] != "T" || !date.ends_with('Z') {
        return Err(format!("x-amz-date {date:?} is not YYYYMMDDTHHMMSSZ"));
    }
    let rest = authorization
        .strip_prefix("AWS4-HMAC-SHA256 Credential=")
        .ok_or_else(|| format!("not a SigV4 authorization: {authorization}"))?;
    let (scope, rest) = rest.split_once(", SignedHeaders=").ok_or("no SignedHeaders")?;
    let (signed, signature) = rest.split_once(", Signature=").ok_or("no Signature")?;
    let expected_scope = format!("{ACCESS_KEY}/{}/{REGION}/bedrock/aws4_request", &date[..8]);
    if scope != expected_scope {
        return Err(format!("credential scope {scope:?}, expected {expected_scope:?}"));
    }
    if signature.len() != 64 || !signature.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("signature {signature:?} is not 64 hex digits"));
    }
    for needed in ["host", "x-amz-date", "x-amz-security-token"] {
        if !signed.split(';').any(|name| name == needed) {
            return Err(format!("{needed} is not signed ({signed})"));
        }
    }
    // Signed again from what arrived, at the time it names.
    let pairs: Vec<(&str, &str)> = signed
        .split(';')
        .filter(|name| !matches!(*name, "x-amz-date" | "x-amz-security-token"))
        .map(|name| Ok((name, header(name)?)))
        .collect::<Result<_, String>>()?;
    let url =
        format!("http://{}{}", header("host")?, uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let identity = aws_credential_types::Credentials::new(
        ACCESS_KEY,
        SECRET_KEY,
        Some(SESSION_TOKEN.to_string()),
        None,
        "test",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("bedrock")
        .time(parse_amz_date(date))
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable =
        SignableRequest::new(method.as_str(), url, pairs.into_iter(), SignableBody::Bytes(body)).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let again =
        instructions.headers().find(|(name, _)| *name == "authorization").map(|(_, value)| value.to_string());
    if again.as_deref() != Some(authorization) {
        return Err(format!("signature mismatch: got {authorization}, computed {again:?}"));
    }
    Ok(())
}

/// `20150830T123600Z` as a time.
fn parse_amz_date(date: &str) -> SystemTime {
    let number = |range: std::ops::Range<usize>| date[range].parse::<i64>().unwrap();
    let (year, month, day) = (number(0..4), number(4..6), number(6..8));
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + number(9..11) * 3600 + number(11..13) * 60 + number(13..15);
    SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).unwrap())
}
