//! Progress bars on the terminal while MCP tools report progress (`notifications/progress`):
//! one bar per running request, drawn by indicatif on stderr, and only when stderr is a
//! terminal (pipes and files get nothing).

use std::collections::HashMap;
use std::future::Future;
use std::io::IsTerminal;

use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::broadcast;
use weft_mcp::{McpEvent, McpSource};

/// Positions are kept in thousandths of the total, as indicatif counts in whole units and MCP
/// progress may be fractional (0.25 of 1.0).
const SCALE: f64 = 1000.0;

/// The bars of the requests that reported progress.
pub(crate) struct ProgressBars {
    multi: MultiProgress,
    bars: HashMap<String, ProgressBar>,
}

impl ProgressBars {
    /// Bars drawn on `target`.
    pub(crate) fn new(target: ProgressDrawTarget) -> Self {
        Self { multi: MultiProgress::with_draw_target(target), bars: HashMap::new() }
    }

    /// Shows one event: a progress event moves (or starts) its request's bar, and a bar that
    /// reached its total goes away; other events are not shown.
    pub(crate) fn event(&mut self, event: &McpEvent) {
        let McpEvent::Progress { server, token, progress, total, message } = event else { return };
        let key = format!("{server}\u{0}{token}");
        let bar = self.bars.entry(key.clone()).or_insert_with(|| {
            let bar = self.multi.add(ProgressBar::no_length());
            bar.set_prefix(short(server));
            bar
        });
        let text = message.clone().unwrap_or_default();
        match total.filter(|total| *total > 0.0) {
            Some(total) => {
                bar.set_style(
                    ProgressStyle::with_template("{prefix} [{bar:30}] {percent:>3}% {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
                bar.set_length(SCALE as u64);
                bar.set_position(((progress / total).clamp(0.0, 1.0) * SCALE) as u64);
                bar.set_message(format!("{} {text}", amount(*progress, Some(total))));
                if *progress >= total {
                    bar.finish_and_clear();
                    self.bars.remove(&key);
                }
            }
            None => {
                bar.set_style(
                    ProgressStyle::with_template("{prefix} {spinner} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_message(format!("{} {text}", amount(*progress, None)));
                bar.tick();
            }
        }
    }

    /// Clears every bar.
    pub(crate) fn finish(&mut self) {
        for (_, bar) in self.bars.drain() {
            bar.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}

/// `2/4`, `0.5/1`, or `3` without a total.
fn amount(progress: f64, total: Option<f64>) -> String {
    let number = |value: f64| {
        if value.fract() == 0.0 { format!("{value:.0}") } else { format!("{value:.2}") }
    };
    match total {
        Some(total) => format!("{}/{}", number(progress), number(total)),
        None => number(progress),
    }
}

/// The server's name, cut to 40 characters (a long command line would push the bar away).
fn short(server: &str) -> String {
    match server.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &server[..cut]),
        None => server.to_string(),
    }
}

/// Runs `work`, showing the progress the `sources` report meanwhile on a terminal; the bars
/// are cleared when it ends.
pub(crate) async fn while_running<T>(sources: &[McpSource], work: impl Future<Output = T>) -> T {
    if sources.is_empty() || !std::io::stderr().is_terminal() {
        return work.await;
    }
    let events = futures::stream::select_all(sources.iter().map(|source| events(source.subscribe())));
    let mut bars = ProgressBars::new(ProgressDrawTarget::stderr());
    tokio::pin!(work);
    tokio::pin!(events);
    let output = loop {
        tokio::select! {
            output = &mut work => break output,
            Some(event) = events.next() => bars.event(&event),
        }
    };
    bars.finish();
    output
}

/// The events of one receiver as a stream, skipping over the ones it lagged behind on.
fn events(receiver: broadcast::Receiver<McpEvent>) -> impl futures::Stream<Item = McpEvent> + Unpin {
    Box::pin(futures::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(event) => return Some((event, receiver)),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_short() {
        assert_eq!(amount(2.0, Some(4.0)), "2/4");
        assert_eq!(amount(0.5, Some(1.0)), "0.50/1");
        assert_eq!(amount(3.0, None), "3");
    }

    #[test]
    fn a_bar_per_request_gone_at_its_total() {
        let mut bars = ProgressBars::new(ProgressDrawTarget::hidden());
        let event = |token: &str, progress: f64| McpEvent::Progress {
            server: "s".into(),
            token: token.into(),
            progress,
            total: Some(2.0),
            message: None,
        };
        bars.event(&event("a", 1.0));
        bars.event(&event("b", 1.0));
        assert_eq!(bars.bars.len(), 2);
        bars.event(&event("a", 2.0));
        assert_eq!(bars.bars.len(), 1);
        bars.finish();
        assert!(bars.bars.is_empty());
    }
}
