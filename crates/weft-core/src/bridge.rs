//! Streams the updates of a piece of work while it runs, without spawning a task.
//!
//! Middleware see a streamed call as one future that returns the folded result; the caller
//! sees the updates as they are produced. The work sends its updates into a bounded channel, and
//! the returned stream polls the work and the channel together, so dropping the stream drops
//! the work (structured concurrency: nothing is left running).

use std::future::Future;

use futures::stream::BoxStream;
use tokio::sync::mpsc;

/// The capacity of the channel between the work and the stream: enough to batch a burst of
/// deltas, small enough to keep back-pressure.
const UPDATE_BUFFER: usize = 64;

/// Where streamed work sends its updates.
///
/// The channel carries each update boxed: a bounded tokio channel allocates its slots in blocks
/// of 32 on its first send, so with the update inline (about 150 bytes) every streamed run held
/// about 4.8 KiB for the channel alone; boxed, a block is 32 pointers.
pub(crate) struct UpdateSink<U>(mpsc::Sender<Box<U>>);

impl<U> Clone for UpdateSink<U> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

/// The stream that reads a sink's updates is gone: the run is being dropped.
#[derive(Debug)]
pub(crate) struct StreamDropped;

impl<U> UpdateSink<U> {
    /// Sends `update` to the stream, waiting for room; fails when the stream was dropped.
    pub(crate) async fn send(&self, update: U) -> Result<(), StreamDropped> {
        self.0.send(Box::new(update)).await.map_err(|_| StreamDropped)
    }
}

/// Runs the future made by `work`, yielding each update it sends, then the items `finish`
/// makes of its output.
pub(crate) fn bridge<'a, U, O, E, W, Fut, F>(work: W, finish: F) -> BoxStream<'a, Result<U, E>>
where
    U: Send + 'a,
    O: Send + 'a,
    E: Send + 'a,
    W: FnOnce(UpdateSink<U>) -> Fut,
    Fut: Future<Output = O> + Send + 'a,
    F: FnOnce(O) -> Vec<Result<U, E>> + Send + 'a,
{
    let (sender, mut receiver) = mpsc::channel(UPDATE_BUFFER);
    let work = work(UpdateSink(sender));
    Box::pin(async_stream::stream! {
        enum Step<U, O> {
            Update(U),
            Done(O),
        }
        let mut work = std::pin::pin!(work);
        let output = loop {
            let step = tokio::select! {
                biased;
                Some(update) = receiver.recv() => Step::Update(*update),
                output = &mut work => Step::Done(output),
            };
            match step {
                Step::Update(update) => yield Ok(update),
                Step::Done(output) => break output,
            }
        };
        while let Ok(update) = receiver.try_recv() {
            yield Ok(*update);
        }
        for item in finish(output) {
            yield item;
        }
    })
}
