//! Waiting for what after-hooks do on a target that cannot say when they are done:
//! [`eventually`] and [`try_eventually`].

use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

/// Poll `check` until it answers `Ok`, at growing intervals (from 20 ms up to 500 ms),
/// and return its value; panic once `timeout` has passed, with the last `Err` it gave.
/// For checks that depend on after-hooks on a target without [`TestApp::idle`](crate::TestApp::idle):
///
/// ```no_run
/// # async fn example(app: &harness::TestApp) {
/// use harness::Caller;
/// use std::time::Duration;
///
/// let path = "/1.1/classes/Business/65cba6a06c63004400000005";
/// let count = harness::eventually(Duration::from_secs(10), || async {
///     let business = app.send(&Caller::Master, "GET", path, None).await;
///     match business.body["ratingCount"].as_i64() {
///         Some(n) if n > 0 => Ok(n),
///         other => Err(format!("ratingCount is {other:?}, expected more than 0")),
///     }
/// })
/// .await;
/// assert!(count > 0);
/// # }
/// ```
pub async fn eventually<T, E, F, Fut>(timeout: Duration, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: fmt::Display,
{
    match try_eventually(timeout, check).await {
        Ok(value) => value,
        Err(e) => panic!("{e}"),
    }
}

/// [`eventually`], with the timeout as an error: `still not so after <timeout> (<n>
/// tries): <last Err>`.
pub async fn try_eventually<T, E, F, Fut>(timeout: Duration, mut check: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: fmt::Display,
{
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(20);
    let mut tries = 0u32;
    loop {
        tries += 1;
        let last = match check().await {
            Ok(value) => return Ok(value),
            Err(e) => e.to_string(),
        };
        let now = Instant::now();
        if now >= deadline {
            return Err(format!(
                "still not so after {timeout:?} ({tries} tries): {last}"
            ));
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(Duration::from_millis(500));
    }
}
