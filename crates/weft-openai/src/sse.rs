//! Server-sent events from a response body, with an idle deadline between events.

use std::time::Duration;

use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures::{Stream, StreamExt};
use weft_core::{ChatError, ChatErrorKind};

use crate::error::{timeout_error, transport_error};

/// The events of `response`'s body. Yields an error and ends when the body fails, cannot be
/// parsed, or stays silent for `idle`; simply ends when the body ends (the caller decides
/// whether its end marker was seen). Dropping the stream drops the response, closing the
/// connection.
pub(crate) fn events(
    response: reqwest::Response,
    idle: Duration,
    label: String,
    url: String,
) -> impl Stream<Item = Result<Event, ChatError>> + Send + 'static {
    async_stream::stream! {
        let mut inner = Box::pin(response.bytes_stream().eventsource());
        loop {
            match tokio::time::timeout(idle, inner.next()).await {
                Err(_) => {
                    yield Err(timeout_error(
                        &label,
                        format!(
                            "no stream event from {url} for {idle:?} (the stream idle timeout; \
                             raise it with OpenAIBuilder::stream_idle_timeout)"
                        ),
                    ));
                    return;
                }
                Ok(None) => return,
                Ok(Some(Ok(event))) => yield Ok(event),
                Ok(Some(Err(EventStreamError::Transport(err)))) => {
                    yield Err(transport_error(&label, &url, err));
                    return;
                }
                Ok(Some(Err(err))) => {
                    yield Err(ChatError::new(ChatErrorKind::Decode, format!("invalid event stream: {err}"))
                        .with_provider(label.clone()));
                    return;
                }
            }
        }
    }
}
