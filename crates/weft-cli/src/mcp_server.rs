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

/// How to talk to the servers: headers, token, deadline.
#[derive(Debug, Clone, Args)]
pub(crate) struct ConnectOptions {
    /// An HTTP header sent to HTTP servers, as NAME:VALUE (repeatable).
    #[arg(long = "header", value_name = "K:V", value_parser = parse_header)]
    pub(crate) headers: Vec<(String, String)>,

    /// A bearer token sent to HTTP servers (`Authorization: Bearer TOKEN`).
    #[arg(long, value_name = "TOKEN")]
    pub(crate) bearer: Option<String>,

    /// The deadline, in seconds, for connecting to an MCP server and for each request to it
    /// (default 30). With `weft run`, also for the model to start answering (default 60).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) timeout: Option<u64>,
}

/// `NAME:VALUE` → (name, value), both trimmed.
fn parse_header(value: &str) -> Result<(String, String), String> {
    match value.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().into(), value.trim().into())),
        _ => Err(format!("expected NAME:VALUE such as 'X-Api-Key: abc', got {value:?}")),
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
        let display = spec.trim().to_string();
        let is_url = display.starts_with("http://") || display.starts_with("https://");
        let config = if is_url && !stdio {
            let mut server = HttpServer::new(display.clone());
            for (name, value) in &options.headers {
                server = server.header(name.clone(), value.clone());
            }
            if let Some(token) = &options.bearer {
                server = server.bearer_token(token.clone());
            }
            ServerConfig::Http(server)
        } else {
            let words = shlex::split(&display).ok_or_else(|| {
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
                UnreachableCause::HttpStatus(status) => (
                    format!("cannot reach {server}: the server answered HTTP {status}"),
                    EXIT_MCP_UNREACHABLE,
                ),
                UnreachableCause::Timeout => {
                    (format!("{server}: timed out after {secs} s waiting for initialize"), EXIT_MCP_TIMEOUT)
                }
                UnreachableCause::SpawnFailed => {
                    let detail = message.strip_prefix(&format!("{cause}: ")).unwrap_or(message);
                    (format!("cannot start {server}: {detail}"), EXIT_MCP_UNREACHABLE)
                }
                UnreachableCause::ExitedEarly => (format!("{server}: {message}"), EXIT_MCP_UNREACHABLE),
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
            _ => (format!("{server}: {message}"), EXIT_OTHER),
        };
        CliError::Mcp { line, code, source: error }
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
    fn headers_need_a_colon() {
        assert_eq!(parse_header("A: b:c").unwrap(), ("A".into(), "b:c".into()));
        assert!(parse_header("nocolon").is_err());
        assert!(parse_header(":x").is_err());
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
        let failed = McpError::new(McpErrorKind::ToolFailed, "s", "boom");
        let error = spec.error(failed, Some("fail"));
        assert_eq!(error.to_string(), "http://127.0.0.1:5999/mcp: tool 'fail' failed: boom");
        assert_eq!(error.exit_code(), EXIT_MCP_TOOL);
    }
}
