//! [`RedisHistoryStore`]: histories in Redis lists.

use async_trait::async_trait;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use weft_core::Message;
use weft_core::history::{HistoryError, HistoryLimits, HistoryStore, HistoryWindow, decode_message};

/// Appends `ARGV[2..]` to the list `KEYS[1]` unless that takes it past `ARGV[1]` messages.
/// A script runs atomically on the server, so the check and the push are one step: no other
/// append interleaves. Returns `{1, new length}`, or `{0, length}` when refused.
const APPEND_SCRIPT: &str = r"
local len = redis.call('LLEN', KEYS[1])
if len + #ARGV - 1 > tonumber(ARGV[1]) then
  return {0, len}
end
for i = 2, #ARGV do
  redis.call('RPUSH', KEYS[1], ARGV[i])
end
return {1, len + #ARGV - 1}
";

/// The default prefix of the keys.
pub const DEFAULT_KEY_PREFIX: &str = "weft:history:";

/// Histories in Redis: one list per session, under the key `weft:history:<session id>`, each
/// element a message as JSON. An append is one server-side script (the size check and the
/// pushes together), so concurrent writers never interleave or lose a message. The
/// connection reconnects by itself after a failure.
///
/// ```no_run
/// # async fn demo() -> Result<(), weft_core::history::HistoryError> {
/// use std::sync::Arc;
/// use weft_history::RedisHistoryStore;
///
/// let store = Arc::new(RedisHistoryStore::connect("redis://127.0.0.1:6379").await?);
/// # let _ = store; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisHistoryStore {
    id: String,
    connection: ConnectionManager,
    prefix: String,
    limits: HistoryLimits,
    append: redis::Script,
}

impl std::fmt::Debug for RedisHistoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisHistoryStore").field("id", &self.id).field("prefix", &self.prefix).finish()
    }
}

impl RedisHistoryStore {
    /// Connects to the server at `url` (`redis://[user:password@]host:port[/db]`). The store's
    /// id is `redis`. Errors never show the password.
    pub async fn connect(url: &str) -> Result<Self, HistoryError> {
        let redact = |error: redis::RedisError| {
            HistoryError::backend("redis", weft_core::redact::redact_urls(&error.to_string()).into_owned())
        };
        let client = redis::Client::open(url).map_err(redact)?;
        let connection = ConnectionManager::new(client).await.map_err(redact)?;
        Ok(Self {
            id: "redis".into(),
            connection,
            prefix: DEFAULT_KEY_PREFIX.into(),
            limits: HistoryLimits::default(),
            append: redis::Script::new(APPEND_SCRIPT),
        })
    }

    /// This store under another id.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// This store with other limits.
    pub fn with_limits(mut self, limits: HistoryLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Keys begin with `prefix` instead of [`DEFAULT_KEY_PREFIX`].
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    fn key(&self, session: &str) -> String {
        format!("{}{session}", self.prefix)
    }

    fn backend(&self, error: redis::RedisError) -> HistoryError {
        HistoryError::backend(&self.id, error)
    }

    fn decode(&self, session: &str, start: u64, bodies: &[String]) -> Result<Vec<Message>, HistoryError> {
        (start..).zip(bodies).map(|(position, body)| decode_message(session, position, body)).collect()
    }
}

/// A list index for Redis (signed 64-bit).
fn index(position: u64) -> isize {
    isize::try_from(position).unwrap_or(isize::MAX)
}

#[async_trait]
impl HistoryStore for RedisHistoryStore {
    fn id(&self) -> &str {
        &self.id
    }

    fn limits(&self) -> HistoryLimits {
        self.limits
    }

    async fn append(&self, session: &str, messages: &[Message]) -> Result<u64, HistoryError> {
        let bodies = self.limits.encode(session, messages)?;
        if bodies.is_empty() {
            return self.len(session).await;
        }
        let mut invocation = self.append.key(self.key(session));
        invocation.arg(self.limits.max_session_messages);
        for body in &bodies {
            invocation.arg(body);
        }
        let mut connection = self.connection.clone();
        let (appended, len): (u8, u64) =
            invocation.invoke_async(&mut connection).await.map_err(|e| self.backend(e))?;
        if appended == 0 {
            self.limits.check_room(session, len, bodies.len())?;
        }
        Ok(len)
    }

    async fn load(&self, session: &str, window: HistoryWindow) -> Result<Vec<Message>, HistoryError> {
        let key = self.key(session);
        let mut connection = self.connection.clone();
        let (start, bodies): (u64, Vec<String>) = match window {
            HistoryWindow::Last(0) => return Ok(Vec::new()),
            HistoryWindow::Last(n) => {
                // The length and the range in one transaction, so positions are exact.
                let (len, bodies): (u64, Vec<String>) = redis::pipe()
                    .atomic()
                    .llen(&key)
                    .lrange(&key, -index(n), -1)
                    .query_async(&mut connection)
                    .await
                    .map_err(|e| self.backend(e))?;
                (len.saturating_sub(bodies.len() as u64), bodies)
            }
            HistoryWindow::All | HistoryWindow::Range { .. } => {
                let (start, end) = window.bounds(u64::MAX);
                if start >= end {
                    return Ok(Vec::new());
                }
                let last = if end == u64::MAX { -1 } else { index(end - 1) };
                let bodies: Vec<String> =
                    connection.lrange(&key, index(start), last).await.map_err(|e| self.backend(e))?;
                (start, bodies)
            }
        };
        self.decode(session, start, &bodies)
    }

    async fn len(&self, session: &str) -> Result<u64, HistoryError> {
        let mut connection = self.connection.clone();
        connection.llen(self.key(session)).await.map_err(|e| self.backend(e))
    }

    async fn clear(&self, session: &str) -> Result<(), HistoryError> {
        let mut connection = self.connection.clone();
        let _: () = connection.del(self.key(session)).await.map_err(|e| self.backend(e))?;
        Ok(())
    }
}
