//! The stdio transport: rmcp's line transport over the child's stdin/stdout, with the child's
//! stdout watched for lines over rmcp's size limit.
//!
//! rmcp's [`AsyncRwTransport`] drops a line longer than its limit (16 MiB) and keeps reading,
//! logging only at `error` under its own target: the request that line answered never gets an
//! answer and would wait for the request timeout. rmcp says nothing else about it, so
//! [`LineWatch`] counts the length of the current line as the bytes pass (one `memchr` per
//! read, no copy) and signals every line that reaches the limit. The source then ends the
//! requests waiting on that connection at once with [`crate::McpErrorKind::MessageTooLarge`].
//!
//! Which request the lost line answered cannot be known (a server may write the `id` after a
//! 16 MiB `result`), so every request waiting at that moment ends; the connection itself stays
//! usable, since rmcp resumes at the next line. [`TokioChildProcess`](rmcp::transport::TokioChildProcess)
//! cannot be given a wrapped stdout, hence [`ChildTransport`], which closes the child the same way.

use std::io;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use process_wrap::tokio::{ChildWrapper, CommandWrap};
use rmcp::RoleClient;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::transport::async_rw::{AsyncRwTransport, DEFAULT_MAX_LINE_LENGTH};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::process::{ChildStderr, ChildStdin, ChildStdout};
use tokio::sync::watch;

use crate::error::human_size;

/// How long closing waits for the child to exit after its stdin closed, and again after
/// `SIGTERM` (as rmcp's `TokioChildProcess`).
const EXIT_WAIT: Duration = Duration::from_secs(3);

/// The longest stdio line (one message, its newline included) rmcp accepts.
pub(crate) const LINE_LIMIT: usize = DEFAULT_MAX_LINE_LENGTH;

/// Counts the lines over the limit seen on a connection; the source watches it.
pub(crate) type OversizedLines = watch::Receiver<u64>;

/// A reader that passes bytes through and signals each line whose length reaches `limit`.
pub(crate) struct LineWatch<R> {
    inner: R,
    /// Bytes of the current line so far (its newline not counted).
    line: usize,
    /// Whether the current line was already signalled.
    signalled: bool,
    limit: usize,
    server: Arc<str>,
    signal: watch::Sender<u64>,
}

impl<R> LineWatch<R> {
    pub(crate) fn new(inner: R, limit: usize, server: Arc<str>) -> (Self, OversizedLines) {
        let (signal, lines) = watch::channel(0);
        (Self { inner, line: 0, signalled: false, limit, server, signal }, lines)
    }

    fn observe(&mut self, mut bytes: &[u8]) {
        while let Some(newline) = memchr::memchr(b'\n', bytes) {
            // rmcp counts the newline: a line is dropped when its text is `limit` bytes or more.
            self.extend(newline);
            self.line = 0;
            self.signalled = false;
            bytes = &bytes[newline + 1..];
        }
        self.extend(bytes.len());
    }

    fn extend(&mut self, bytes: usize) {
        self.line = self.line.saturating_add(bytes);
        if self.line >= self.limit && !self.signalled {
            self.signalled = true;
            tracing::warn!(
                server = %self.server,
                limit = self.limit,
                "MCP server sent a message over the {} limit; it is dropped and the requests waiting fail",
                human_size(self.limit)
            );
            self.signal.send_modify(|count| *count += 1);
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for LineWatch<R> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        this.observe(&buf.filled()[before..]);
        Poll::Ready(Ok(()))
    }
}

/// A child process speaking MCP on stdio: rmcp's line transport over its pipes, the child
/// closed gracefully by [`Transport::close`] (stdin closed, then `SIGTERM`, then killed) and
/// killed when dropped.
pub(crate) struct ChildTransport {
    child: Option<Box<dyn ChildWrapper>>,
    transport: AsyncRwTransport<RoleClient, LineWatch<ChildStdout>, ChildStdin>,
}

/// A spawned child: its transport, its stderr, its pid, and the count of its oversized lines.
pub(crate) struct Spawned {
    pub(crate) transport: ChildTransport,
    pub(crate) stderr: Option<ChildStderr>,
    pub(crate) pid: Option<u32>,
    pub(crate) oversized: OversizedLines,
}

impl ChildTransport {
    /// Starts `command` with piped stdin, stdout and stderr.
    pub(crate) fn spawn(mut command: CommandWrap, server: Arc<str>) -> io::Result<Spawned> {
        command.command_mut().stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn()?;
        let pipes = (child.stdin().take(), child.stdout().take(), child.stderr().take());
        let (Some(stdin), Some(stdout), stderr) = pipes else {
            let _ = child.start_kill();
            return Err(io::Error::other("the child's stdin or stdout is not a pipe"));
        };
        let pid = child.id();
        let (stdout, oversized) = LineWatch::new(stdout, LINE_LIMIT, server);
        let transport = AsyncRwTransport::new_client(stdout, stdin);
        Ok(Spawned { transport: ChildTransport { child: Some(child), transport }, stderr, pid, oversized })
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        let Some(child) = self.child.as_mut() else { return Ok(()) };
        self.transport.close().await?;
        if tokio::time::timeout(EXIT_WAIT, child.wait()).await.is_ok() {
            self.child = None;
            return Ok(());
        }
        #[cfg(unix)]
        if child.signal(nix::sys::signal::Signal::SIGTERM as i32).is_ok()
            && tokio::time::timeout(EXIT_WAIT, child.wait()).await.is_ok()
        {
            self.child = None;
            return Ok(());
        }
        let killed = Box::into_pin(child.kill()).await;
        self.child = None;
        killed
    }
}

impl Drop for ChildTransport {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // tokio reaps a killed child that is dropped without being waited for.
            let _ = child.start_kill();
        }
    }
}

impl Transport<RoleClient> for ChildTransport {
    type Error = io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        self.transport.send(item)
    }

    fn receive(&mut self) -> impl Future<Output = Option<RxJsonRpcMessage<RoleClient>>> + Send {
        self.transport.receive()
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.shutdown()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use tokio::io::AsyncReadExt;

    async fn count(input: &[u8], limit: usize, chunk: usize) -> u64 {
        let (reader, lines) = LineWatch::new(input, limit, Arc::from("t"));
        let mut reader = tokio::io::BufReader::with_capacity(chunk, reader);
        let mut sink = Vec::new();
        reader.read_to_end(&mut sink).await.unwrap();
        assert_eq!(sink, input, "bytes pass through unchanged");
        *lines.borrow()
    }

    #[tokio::test]
    async fn lines_reaching_the_limit_are_signalled_once_each() {
        // rmcp drops a line when its text (without the newline) is `limit` bytes or more.
        assert_eq!(count(b"abc\nde\n", 4, 2).await, 0);
        assert_eq!(count(b"abcd\nde\n", 4, 2).await, 1);
        assert_eq!(count(b"abcdefghij\nx\nabcdefgh", 4, 3).await, 2);
        assert_eq!(count(b"abcdefghij\nx\nabcdefgh", 4, 64).await, 2);
        assert_eq!(count(b"\n\n\n", 1, 1).await, 0);
    }
}
