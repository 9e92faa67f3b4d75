//! Runs a handler so that nothing it does takes the caller down: a panic becomes a 500
//! answer, a handler that outlives the timeout becomes 503 code 124 (and is dropped).
//!
//! The runtime works on any executor (the emulator may drive hooks from wiremock's
//! responder, the engine from tokio), so the timeout uses its own timer: one thread that
//! wakes sleeping futures at their deadlines.

use super::CloudError;
use futures::FutureExt;
use futures::future::{BoxFuture, Either};
use std::any::Any;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Call `handler` and await its future; a panic (in the call or in the future) becomes
/// [`CloudError::uncaught`] with the panic's message, running past `timeout` becomes
/// [`CloudError::timed_out`].
pub(crate) async fn guarded<T>(
    timeout: Duration,
    start: impl FnOnce() -> BoxFuture<'static, Result<T, CloudError>>,
) -> Result<T, CloudError> {
    let future = match std::panic::catch_unwind(AssertUnwindSafe(start)) {
        Ok(future) => future,
        Err(panic) => return Err(CloudError::uncaught(panic_message(panic.as_ref()))),
    };
    let caught = AssertUnwindSafe(future).catch_unwind();
    match futures::future::select(Box::pin(caught), sleep(timeout)).await {
        Either::Left((Ok(result), _)) => result,
        Either::Left((Err(panic), _)) => Err(CloudError::uncaught(panic_message(panic.as_ref()))),
        Either::Right(((), _)) => Err(CloudError::timed_out()),
    }
}

/// The text of a panic (`panic!("...")` gives a `&str` or a `String`).
fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "cloud code panicked".to_string()
    }
}

// ---- timer ------------------------------------------------------------------------------

/// One sleeper's state, shared with the timer thread.
#[derive(Default)]
struct Alarm {
    rung: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Alarm {
    fn ring(&self) {
        self.rung.store(true, Ordering::Release);
        let waker = self.waker.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

struct Entry {
    deadline: Instant,
    seq: u64,
    alarm: Arc<Alarm>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.deadline, self.seq) == (other.deadline, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.deadline, self.seq).cmp(&(other.deadline, other.seq))
    }
}

/// Deadlines, earliest first, watched by one thread started on first use.
struct Timer {
    queue: Mutex<BinaryHeap<Reverse<Entry>>>,
    changed: Condvar,
    seq: AtomicU64,
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<&'static Timer> = OnceLock::new();
    TIMER.get_or_init(|| {
        let timer: &'static Timer = Box::leak(Box::new(Timer {
            queue: Mutex::new(BinaryHeap::new()),
            changed: Condvar::new(),
            seq: AtomicU64::new(0),
        }));
        std::thread::Builder::new()
            .name("cloud-timer".into())
            .spawn(move || timer.run())
            .expect("the cloud-code timer thread starts");
        timer
    })
}

impl Timer {
    fn add(&self, deadline: Instant, alarm: Arc<Alarm>) {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        queue.push(Reverse(Entry {
            deadline,
            seq,
            alarm,
        }));
        self.changed.notify_one();
    }

    fn run(&self) {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let now = Instant::now();
            let mut due = Vec::new();
            while queue.peek().is_some_and(|Reverse(e)| e.deadline <= now) {
                if let Some(Reverse(entry)) = queue.pop() {
                    due.push(entry.alarm);
                }
            }
            if !due.is_empty() {
                // Wake outside the lock: a woken task may sleep again at once.
                drop(queue);
                due.iter().for_each(|alarm| alarm.ring());
                queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                continue;
            }
            queue = match queue.peek().map(|Reverse(e)| e.deadline) {
                Some(deadline) => {
                    let wait = deadline.saturating_duration_since(now);
                    self.changed
                        .wait_timeout(queue, wait)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
                None => self.changed.wait(queue).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }
}

/// A future that is ready after `duration`, on any executor.
pub(crate) fn sleep(duration: Duration) -> Sleep {
    Sleep {
        deadline: Instant::now() + duration,
        alarm: None,
    }
}

pub(crate) struct Sleep {
    deadline: Instant,
    alarm: Option<Arc<Alarm>>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        let deadline = self.deadline;
        let alarm = self.alarm.get_or_insert_with(|| {
            let alarm = Arc::new(Alarm::default());
            timer().add(deadline, alarm.clone());
            alarm
        });
        *alarm.waker.lock().unwrap_or_else(|e| e.into_inner()) = Some(cx.waker().clone());
        if alarm.rung.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    #[test]
    fn sleep_waits_at_least_its_duration_on_any_executor() {
        let start = Instant::now();
        block_on(sleep(Duration::from_millis(30)));
        assert!(start.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn sleeps_ring_in_deadline_order_whatever_order_they_start_in() {
        let start = Instant::now();
        let (long, short) = block_on(async {
            let long = async {
                sleep(Duration::from_millis(60)).await;
                start.elapsed()
            };
            let short = async {
                sleep(Duration::from_millis(10)).await;
                start.elapsed()
            };
            futures::join!(long, short)
        });
        assert!(short < long, "{short:?} {long:?}");
        assert!(long < Duration::from_secs(2), "{long:?}");
    }

    #[test]
    fn a_panic_while_starting_or_running_becomes_a_500() {
        let err =
            block_on(guarded::<()>(Duration::from_secs(5), || panic!("at start"))).unwrap_err();
        assert_eq!(err, CloudError::uncaught("at start"));
        let err = block_on(guarded::<()>(Duration::from_secs(5), || {
            async { panic!("running {}", 42) }.boxed()
        }))
        .unwrap_err();
        assert_eq!(err, CloudError::uncaught("running 42"));
    }

    #[test]
    fn a_handler_past_its_timeout_is_a_503_with_code_124() {
        let err = block_on(guarded::<()>(Duration::from_millis(20), || {
            futures::future::pending().boxed()
        }))
        .unwrap_err();
        assert_eq!(
            (err.status, err.code, err.message.as_str()),
            (503, 124, "The request timed out on the server.")
        );
    }
}
