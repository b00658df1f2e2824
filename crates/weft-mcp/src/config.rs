//! Where a server is and how to reach it: a child process on stdio, or streamable HTTP.

use std::path::PathBuf;
use std::time::Duration;

/// A server run as a child process speaking MCP on its stdin/stdout. Its stderr is logged
/// through `tracing` (target `weft_mcp::stderr`). The child is started as the leader of its own
/// process group, so that closing the source also ends grandchildren (`npx`, `sh -c`). Its
/// `Debug` hides the values of the environment variables and the secrets of URLs in arguments.
#[derive(Clone)]
pub struct StdioServer {
    pub(crate) command: PathBuf,
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) env_clear: bool,
    pub(crate) cwd: Option<PathBuf>,
}

impl StdioServer {
    /// Runs `command` (a path, or a name looked up on `PATH`).
    pub fn new(command: impl Into<PathBuf>) -> Self {
        Self { command: command.into(), args: Vec::new(), env: Vec::new(), env_clear: false, cwd: None }
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable of the child.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Starts the child with only the variables set by [`env`](Self::env).
    pub fn env_clear(mut self) -> Self {
        self.env_clear = true;
        self
    }

    /// Sets the child's working directory.
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }
}

impl std::fmt::Debug for StdioServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let args: Vec<_> = self.args.iter().map(|arg| crate::redact_urls(arg)).collect();
        let env: Vec<(&str, &str)> =
            self.env.iter().map(|(name, _)| (name.as_str(), weft_core::redact::MASK)).collect();
        f.debug_struct("StdioServer")
            .field("command", &self.command)
            .field("args", &args)
            .field("env", &env)
            .field("env_clear", &self.env_clear)
            .field("cwd", &self.cwd)
            .finish()
    }
}

/// A server reached over streamable HTTP. Its `Debug` hides the header values, the bearer
/// token and the secrets of the URL.
#[derive(Clone)]
pub struct HttpServer {
    pub(crate) url: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) bearer: Option<String>,
    pub(crate) sse_read_timeout: Duration,
    pub(crate) terminate_on_close: bool,
    pub(crate) client: Option<reqwest::Client>,
}

impl HttpServer {
    /// The server's MCP endpoint, e.g. `http://127.0.0.1:8000/mcp`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            headers: Vec::new(),
            bearer: None,
            sse_read_timeout: Duration::from_secs(300),
            terminate_on_close: true,
            client: None,
        }
    }

    /// Adds a header sent with every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sends `Authorization: Bearer <token>` with every request.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer = Some(token.into());
        self
    }

    /// The longest silence accepted on a server-sent-event stream before it is dropped and
    /// reopened (default 300 s). Applies to the client the source builds itself.
    pub fn sse_read_timeout(mut self, timeout: Duration) -> Self {
        self.sse_read_timeout = timeout;
        self
    }

    /// Whether closing the source ends the session with an HTTP DELETE (default true).
    pub fn terminate_on_close(mut self, terminate: bool) -> Self {
        self.terminate_on_close = terminate;
        self
    }

    /// Uses the caller's `reqwest::Client` instead of building one. The source uses it and
    /// never closes it; its own timeouts and pool settings apply.
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> =
            self.headers.iter().map(|(name, _)| (name.as_str(), weft_core::redact::MASK)).collect();
        f.debug_struct("HttpServer")
            .field("url", &crate::redact_urls(&self.url))
            .field("headers", &headers)
            .field("bearer", &self.bearer.as_ref().map(|_| weft_core::redact::MASK))
            .field("sse_read_timeout", &self.sse_read_timeout)
            .field("terminate_on_close", &self.terminate_on_close)
            .field("client", &self.client.is_some())
            .finish()
    }
}

/// How to reach a server: stdio or streamable HTTP.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ServerConfig {
    /// A child process on stdio.
    Stdio(StdioServer),
    /// Streamable HTTP.
    Http(HttpServer),
}

impl From<StdioServer> for ServerConfig {
    fn from(server: StdioServer) -> Self {
        ServerConfig::Stdio(server)
    }
}

impl From<HttpServer> for ServerConfig {
    fn from(server: HttpServer) -> Self {
        ServerConfig::Http(server)
    }
}
