//! Naming an MCP server on the command line (a URL or a command line), connecting to it, and
//! turning its typed errors into one line and an exit code.

use std::time::Duration;

use clap::Args;
use weft::ApprovalMode;
use weft_mcp::{HttpServer, McpError, McpErrorKind, McpSource, ServerConfig, StdioServer, UnreachableCause};

use crate::error::{
    CliError, EXIT_MCP_AUTH, EXIT_MCP_PROTOCOL, EXIT_MCP_TIMEOUT, EXIT_MCP_TOOL, EXIT_MCP_UNREACHABLE,
    EXIT_OTHER, EXIT_USAGE,
};

/// The deadline for connecting and for each request when `--timeout` is not given.
pub(crate) const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// How to talk to the servers: headers, token, deadline. Its `Debug` hides the header values
/// and the token.
#[derive(Clone, Args)]
pub(crate) struct ConnectOptions {
    /// An HTTP header sent to HTTP servers, as NAME:VALUE (repeatable).
    #[arg(long = "header", value_name = "K:V", value_parser = HeaderParser)]
    pub(crate) headers: Vec<(String, String)>,

    /// A bearer token sent to HTTP servers (`Authorization: Bearer TOKEN`).
    #[arg(long, value_name = "TOKEN")]
    pub(crate) bearer: Option<String>,

    /// The deadline, in seconds, for connecting to an MCP server and for each request to it
    /// (default 30). With `weft run`, also for the model to start answering (default 60).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) timeout: Option<u64>,
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> =
            self.headers.iter().map(|(name, _)| (name.as_str(), weft::redact::MASK)).collect();
        f.debug_struct("ConnectOptions")
            .field("headers", &headers)
            .field("bearer", &self.bearer.as_ref().map(|_| weft::redact::MASK))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// `NAME:VALUE` → (name, value), both trimmed. The error does not show the value: it may hold a
/// credential (`Authorization Bearer …` with its colon forgotten).
fn parse_header(value: &str) -> Result<(String, String), String> {
    match value.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().into(), value.trim().into())),
        _ => Err(
            "expected NAME:VALUE such as 'X-Api-Key: abc' (the value given is not shown: it may be a secret)"
                .into(),
        ),
    }
}

/// Parses `--header` with [`parse_header`]. Unlike a plain function parser, whose errors clap
/// prefixes with the value as typed, its errors never repeat the value.
#[derive(Debug, Clone, Copy)]
struct HeaderParser;

impl clap::builder::TypedValueParser for HeaderParser {
    type Value = (String, String);

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<(String, String), clap::Error> {
        let invalid = |message: String| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid value for '--header <K:V>': {message}\n"),
            )
            .with_cmd(cmd)
        };
        let value = value.to_str().ok_or_else(|| invalid("not valid UTF-8".into()))?;
        parse_header(value).map_err(invalid)
    }
}

/// A server named on the command line.
#[derive(Debug, Clone)]
pub(crate) struct ServerSpec {
    /// How the user named it (the URL, or the command line): used in every message.
    pub(crate) display: String,
    config: ServerConfig,
    timeout: Duration,
}

impl ServerSpec {
    /// Parses `spec`: an `http://` or `https://` URL is a streamable HTTP server (unless `stdio`),
    /// anything else a command line, split like a shell would (quotes, backslashes).
    pub(crate) fn parse(spec: &str, stdio: bool, options: &ConnectOptions) -> Result<Self, CliError> {
        let spec = spec.trim();
        // Every message and log line names the server by this: without its URL secrets.
        let display = weft_mcp::redact_urls(spec).into_owned();
        let is_url = spec.starts_with("http://") || spec.starts_with("https://");
        let config = if is_url && !stdio {
            let mut server = HttpServer::new(spec);
            for (name, value) in &options.headers {
                server = server.header(name.clone(), value.clone());
            }
            if let Some(token) = &options.bearer {
                server = server.bearer_token(token.clone());
            }
            ServerConfig::Http(server)
        } else {
            let words = shlex::split(spec).ok_or_else(|| {
                CliError::Usage(format!("cannot split the server command line {display:?}"))
            })?;
            let Some((command, args)) = words.split_first() else {
                return Err(CliError::Usage("the MCP server is empty: give a URL or a command line".into()));
            };
            ServerConfig::Stdio(StdioServer::new(command).args(args.iter().cloned()))
        };
        Ok(Self {
            display,
            config,
            timeout: Duration::from_secs(options.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS)),
        })
    }

    /// Connects, with every tool of the server needing approval as `approval` says.
    pub(crate) async fn connect(&self, approval: Option<ApprovalMode>) -> Result<McpSource, CliError> {
        let mut builder = McpSource::builder(self.display.clone(), self.config.clone())
            .connect_timeout(self.timeout)
            .request_timeout(self.timeout);
        if let Some(mode) = approval {
            builder = builder.default_approval(mode);
        }
        builder.connect().await.map_err(|error| self.error(error, None))
    }

    /// One clear line and an exit code for an error of this server; `tool` names the tool
    /// called, when one was.
    pub(crate) fn error(&self, error: McpError, tool: Option<&str>) -> CliError {
        let server = &self.display;
        let secs = self.timeout.as_secs();
        let message = error.message();
        let (line, code) = match error.kind() {
            McpErrorKind::Unreachable(cause) => match cause {
                UnreachableCause::HttpStatus(401) => {
                    (format!("{server}: unauthorized (HTTP 401)"), EXIT_MCP_AUTH)
                }
                UnreachableCause::HttpStatus(403) => {
                    (format!("{server}: forbidden (HTTP 403)"), EXIT_MCP_AUTH)
                }
                UnreachableCause::HttpStatus(status) => {
                    (http_status_line(server, status), EXIT_MCP_UNREACHABLE)
                }
                UnreachableCause::Timeout => {
                    (format!("{server}: timed out after {secs} s waiting for initialize"), EXIT_MCP_TIMEOUT)
                }
                UnreachableCause::SpawnFailed => {
                    let detail = message.strip_prefix(&format!("{cause}: ")).unwrap_or(message);
                    (format!("cannot start {server}: {detail}"), EXIT_MCP_UNREACHABLE)
                }
                UnreachableCause::ExitedEarly => {
                    // rmcp's own words (a broken pipe, a closed connection) say less than the
                    // server's last stderr lines.
                    let line = match message.split_once("; stderr: ") {
                        Some((_, stderr)) => {
                            format!("{server}: exited during the handshake; stderr: {stderr}")
                        }
                        None => format!("{server}: {message}"),
                    };
                    (line, EXIT_MCP_UNREACHABLE)
                }
                UnreachableCause::Other => {
                    (format!("cannot reach {server}: {message}"), EXIT_MCP_UNREACHABLE)
                }
                other => (format!("cannot reach {server}: {other}"), EXIT_MCP_UNREACHABLE),
            },
            McpErrorKind::Timeout => {
                let what = message.split(": no answer within").next().unwrap_or(message);
                (format!("{server}: timed out after {secs} s waiting for {what}"), EXIT_MCP_TIMEOUT)
            }
            McpErrorKind::ConnectionLost => {
                (format!("{server}: connection lost: {message}"), EXIT_MCP_UNREACHABLE)
            }
            McpErrorKind::Protocol => (format!("{server}: protocol error: {message}"), EXIT_MCP_PROTOCOL),
            McpErrorKind::Server => (format!("{server}: server error: {message}"), EXIT_MCP_PROTOCOL),
            McpErrorKind::ToolFailed => {
                let tool = tool.unwrap_or("the tool");
                (format!("{server}: tool '{tool}' failed: {message}"), EXIT_MCP_TOOL)
            }
            McpErrorKind::Configuration => (format!("{server}: {message}"), EXIT_USAGE),
            McpErrorKind::MessageTooLarge { .. } => {
                (format!("{server}: answer too large: {message}"), EXIT_MCP_PROTOCOL)
            }
            _ => (format!("{server}: {message}"), EXIT_OTHER),
        };
        CliError::Mcp { line, code, source: error }
    }
}

/// What an HTTP error status at connect time means: the server was reached, but there is no
/// MCP endpoint at that URL (404), or not one that speaks streamable HTTP (405), or it failed.
fn http_status_line(server: &str, status: u16) -> String {
    let reason = http::StatusCode::from_u16(status).ok().and_then(|code| code.canonical_reason());
    let answered = match reason {
        Some(reason) => format!("the server answered HTTP {status} {reason}"),
        None => format!("the server answered HTTP {status}"),
    };
    match status {
        404 => format!("{server}: no MCP endpoint at this URL ({answered}; is the path right, e.g. /mcp?)"),
        405 => format!(
            "{server}: not a streamable HTTP MCP endpoint ({answered} to a POST; \
             legacy HTTP+SSE servers are not supported)"
        ),
        _ => format!("{server}: {answered} to initialize"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> ConnectOptions {
        ConnectOptions { headers: vec![("X-Key".into(), "abc".into())], bearer: None, timeout: Some(7) }
    }

    #[test]
    fn urls_are_http_and_the_rest_command_lines() {
        let http = ServerSpec::parse("http://127.0.0.1:1/mcp", false, &options()).unwrap();
        assert!(matches!(http.config, ServerConfig::Http(_)));
        let forced = ServerSpec::parse("http://x", true, &options()).unwrap();
        assert!(matches!(forced.config, ServerConfig::Stdio(_)));
        let stdio = ServerSpec::parse("node 'my server.js' stdio", false, &options()).unwrap();
        match &stdio.config {
            ServerConfig::Stdio(server) => {
                assert_eq!(format!("{server:?}").matches("my server.js").count(), 1)
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(stdio.timeout, Duration::from_secs(7));
        assert!(ServerSpec::parse("  ", false, &options()).is_err());
        assert!(ServerSpec::parse("node 'unclosed", false, &options()).is_err());
    }

    #[test]
    fn url_secrets_stay_out_of_the_server_name_and_error_lines() {
        let options = ConnectOptions {
            headers: vec![("X-Api-Key".into(), "hdr-secret".into())],
            bearer: Some("bearer-secret".into()),
            timeout: Some(7),
        };
        let spec =
            ServerSpec::parse("https://me:pw-secret@h.example/mcp?token=q-secret", false, &options).unwrap();
        assert_eq!(spec.display, "https://***@h.example/mcp?token=***");
        let refused = McpError::new(
            McpErrorKind::Unreachable(UnreachableCause::Other),
            spec.display.clone(),
            "error sending request for url (https://h.example/mcp?token=q-secret)",
        );
        let line = spec.error(refused, None).chain();
        let debug = format!("{spec:?} {options:?}");
        for text in [line.as_str(), debug.as_str()] {
            for secret in ["pw-secret", "q-secret", "hdr-secret", "bearer-secret"] {
                assert!(!text.contains(secret), "{secret} in {text}");
            }
        }
        // The real URL still reaches the server.
        match &spec.config {
            ServerConfig::Http(_) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn headers_need_a_colon() {
        assert_eq!(parse_header("A: b:c").unwrap(), ("A".into(), "b:c".into()));
        assert!(parse_header("nocolon").is_err());
        assert!(parse_header(":x").is_err());
        let error = parse_header("Authorization Bearer sk-header-secret").unwrap_err();
        assert!(!error.contains("sk-header-secret"), "{error}");
    }

    #[test]
    fn errors_are_one_line_with_their_code() {
        let spec = ServerSpec::parse("http://127.0.0.1:5999/mcp", false, &options()).unwrap();
        let refused = McpError::new(
            McpErrorKind::Unreachable(UnreachableCause::ConnectionRefused),
            "s",
            "connection refused: tcp connect error",
        );
        let error = spec.error(refused, None);
        assert_eq!(error.to_string(), "cannot reach http://127.0.0.1:5999/mcp: connection refused");
        assert_eq!(error.exit_code(), EXIT_MCP_UNREACHABLE);
        let auth = McpError::new(McpErrorKind::Unreachable(UnreachableCause::HttpStatus(401)), "s", "x");
        assert_eq!(spec.error(auth, None).to_string(), "http://127.0.0.1:5999/mcp: unauthorized (HTTP 401)");
        let timeout = McpError::new(McpErrorKind::Unreachable(UnreachableCause::Timeout), "s", "x");
        let error = spec.error(timeout, None);
        assert_eq!(
            error.to_string(),
            "http://127.0.0.1:5999/mcp: timed out after 7 s waiting for initialize"
        );
        assert_eq!(error.exit_code(), EXIT_MCP_TIMEOUT);
        let call = McpError::new(McpErrorKind::Timeout, "s", "tool 'sleep': no answer within 7s");
        assert_eq!(
            spec.error(call, None).to_string(),
            "http://127.0.0.1:5999/mcp: timed out after 7 s waiting for tool 'sleep'"
        );
        let missing = McpError::new(McpErrorKind::Unreachable(UnreachableCause::HttpStatus(404)), "s", "x");
        let error = spec.error(missing, None);
        assert_eq!(
            error.to_string(),
            "http://127.0.0.1:5999/mcp: no MCP endpoint at this URL (the server answered HTTP 404 Not Found; \
             is the path right, e.g. /mcp?)"
        );
        assert_eq!(error.exit_code(), EXIT_MCP_UNREACHABLE);
        let broken = McpError::new(McpErrorKind::Unreachable(UnreachableCause::HttpStatus(502)), "s", "x");
        assert_eq!(
            spec.error(broken, None).to_string(),
            "http://127.0.0.1:5999/mcp: the server answered HTTP 502 Bad Gateway to initialize"
        );
        let failed = McpError::new(McpErrorKind::ToolFailed, "s", "boom");
        let error = spec.error(failed, Some("fail"));
        assert_eq!(error.to_string(), "http://127.0.0.1:5999/mcp: tool 'fail' failed: boom");
        assert_eq!(error.exit_code(), EXIT_MCP_TOOL);
        let too_large = McpError::new(
            McpErrorKind::MessageTooLarge { limit: 16 * 1024 * 1024 },
            "s",
            "tool 'big': the server's answer is over the limit of 16777216 bytes per message and was dropped",
        );
        let error = spec.error(too_large, Some("big"));
        assert_eq!(
            error.to_string(),
            "http://127.0.0.1:5999/mcp: answer too large: tool 'big': the server's answer is over the limit \
             of 16777216 bytes per message and was dropped"
        );
        assert_eq!(error.exit_code(), EXIT_MCP_PROTOCOL);
    }
}
