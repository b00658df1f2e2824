//! Deadlines on reused timers.
//!
//! A fresh tokio timer per HTTP attempt (`tokio::time::timeout_at`) costs more than its
//! bookkeeping: between two sequential requests the runtime's timer wheel is empty, and
//! registering a timer in an empty wheel unparks the thread that drives time (an eventfd write,
//! an epoll wake-up and a context switch, per request; per body chunk for a stream's idle
//! deadline). A timer that stays registered after its request and is moved to a later deadline
//! for the next one is updated in place instead (an atomic compare-and-swap), and the driver
//! already sleeps until the earlier deadline. So each client keeps a few idle timers and every
//! attempt borrows one: [`TimerPool::deadline`].
//!
//! A timer belongs to the runtime that created it and may not be polled once that runtime has
//! shut down, so a pooled timer is reused only on the runtime it came from.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use tokio::runtime::{Handle, Id};
use tokio::time::{Instant, Sleep};

/// The most idle timers a client keeps (one per request it ran at once, up to this).
const MAX_IDLE: usize = 16;

/// A timer of one runtime.
struct Timer {
    runtime: Option<Id>,
    sleep: Pin<Box<Sleep>>,
}

/// A client's idle timers.
#[derive(Default)]
pub struct TimerPool {
    idle: Mutex<Vec<Timer>>,
}

impl std::fmt::Debug for TimerPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let idle = self.idle.lock().map(|idle| idle.len()).unwrap_or(0);
        f.debug_struct("TimerPool").field("idle", &idle).finish()
    }
}

/// The runtime this code runs on, if any.
fn current_runtime() -> Option<Id> {
    Handle::try_current().ok().map(|handle| handle.id())
}

impl TimerPool {
    /// A deadline at `at` on a timer of this pool (or a new one), returned to the pool when
    /// the deadline is dropped.
    pub fn deadline(self: &Arc<Self>, at: Instant) -> Deadline {
        let runtime = current_runtime();
        let reused = runtime.and_then(|runtime| {
            let mut idle = self.idle.lock().ok()?;
            let position = idle.iter().rposition(|timer| timer.runtime == Some(runtime))?;
            Some(idle.swap_remove(position))
        });
        let timer = match reused {
            Some(mut timer) => {
                timer.sleep.as_mut().reset(at);
                timer
            }
            None => Timer { runtime, sleep: Box::pin(tokio::time::sleep_until(at)) },
        };
        Deadline { at, timer: Some(timer), pool: Arc::clone(self) }
    }

    fn put_back(&self, timer: Timer) {
        if timer.runtime.is_none() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            // Timers of runtimes that have shut down can only be dropped: make room with them.
            if idle.len() >= MAX_IDLE {
                let runtime = current_runtime();
                idle.retain(|timer| timer.runtime == runtime);
            }
            if idle.len() < MAX_IDLE {
                idle.push(timer);
            }
        }
    }
}

/// The outcome of work that outlived its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

/// A point in time that work must finish by, on a borrowed timer.
pub struct Deadline {
    at: Instant,
    /// Always `Some` until dropped.
    timer: Option<Timer>,
    pool: Arc<TimerPool>,
}

impl std::fmt::Debug for Deadline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deadline").field("at", &self.at).finish_non_exhaustive()
    }
}

impl Deadline {
    /// Moves the deadline (later is cheap: the timer is updated in place).
    pub fn reset(&mut self, at: Instant) {
        self.at = at;
        if let Some(timer) = &mut self.timer {
            timer.sleep.as_mut().reset(at);
        }
    }

    /// Runs `work` until it finishes or the deadline passes. The work is polled first, so work
    /// that is ready is not failed by a deadline that passed meanwhile.
    pub async fn run<F: Future>(&mut self, work: F) -> Result<F::Output, Elapsed> {
        let mut work = std::pin::pin!(work);
        let mut sleep = self.timer.as_mut().map(|timer| timer.sleep.as_mut());
        poll_fn(move |cx| {
            if let Poll::Ready(output) = work.as_mut().poll(cx) {
                return Poll::Ready(Ok(output));
            }
            match sleep.as_mut() {
                Some(sleep) => sleep.as_mut().poll(cx).map(|()| Err(Elapsed)),
                None => Poll::Pending,
            }
        })
        .await
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        if let Some(timer) = self.timer.take() {
            self.pool.put_back(timer);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn work_that_finishes_in_time_is_not_cut() {
        let pool = Arc::new(TimerPool::default());
        let mut deadline = pool.deadline(Instant::now() + Duration::from_secs(5));
        assert_eq!(deadline.run(async { 7 }).await, Ok(7));
        drop(deadline);
        // The timer went back to the pool and serves the next deadline.
        assert_eq!(pool.idle.lock().unwrap().len(), 1);
        let mut deadline = pool.deadline(Instant::now() + Duration::from_secs(5));
        assert_eq!(pool.idle.lock().unwrap().len(), 0);
        assert_eq!(deadline.run(async { 8 }).await, Ok(8));
    }

    #[tokio::test(start_paused = true)]
    async fn a_reused_timer_still_fires() {
        let pool = Arc::new(TimerPool::default());
        drop(pool.deadline(Instant::now() + Duration::from_secs(600)));
        let mut deadline = pool.deadline(Instant::now() + Duration::from_millis(50));
        let started = Instant::now();
        assert_eq!(deadline.run(futures::future::pending::<()>()).await, Err(Elapsed));
        assert_eq!(started.elapsed(), Duration::from_millis(50));
        // Moved later, then waited on again.
        deadline.reset(Instant::now() + Duration::from_millis(20));
        assert_eq!(deadline.run(futures::future::pending::<()>()).await, Err(Elapsed));
        assert_eq!(started.elapsed(), Duration::from_millis(70));
    }

    #[test]
    fn timers_are_not_reused_across_runtimes() {
        let pool = Arc::new(TimerPool::default());
        for _ in 0..3 {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
            runtime.block_on(async {
                let mut deadline = pool.deadline(Instant::now() + Duration::from_millis(10));
                assert_eq!(deadline.run(futures::future::pending::<()>()).await, Err(Elapsed));
            });
            drop(runtime);
        }
        // Each runtime made its own timer; the old ones were never polled after their runtime
        // shut down (that would panic).
        assert_eq!(pool.idle.lock().unwrap().len(), 3);
    }
}
