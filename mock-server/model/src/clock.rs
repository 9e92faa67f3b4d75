//! The app's clock: the one source of "now" for everything the app stamps or times
//! (createdAt and updatedAt, the time part of object ids, log-in lockouts, what the
//! outbox sends, `GET /1.1/date`, and any service that expires or schedules). Read it as
//! `store.clock.now_ms()`.
//!
//! It follows a base clock (the wall clock, or one a test injects) until a test moves
//! it: [`AppClock::freeze`] stops it, [`AppClock::set`] puts it at an instant,
//! [`AppClock::advance`] moves it forward, [`AppClock::resume`] lets it run again from
//! where it stands, and [`AppClock::real`] puts it back on its base clock.
//! `POST /__mock/clock` does the same over HTTP.
//!
//! What is not app time stays on real time: hook and function timeouts, `POST
//! /__mock/idle`'s wait, the engine's answers.

use crate::ids::Clock;
use std::sync::{Arc, Mutex};

/// The latest instant the clock shows, 9999-12-31T23:59:59.999Z (the last a
/// `{"__type":"Date"}` can hold in its four-digit year); it never shows one before
/// 1970-01-01T00:00:00.000Z either. A clock set or advanced past either stops there.
pub const MAX_CLOCK_MS: i64 = 253_402_300_799_999;

/// How far the clock stands from its base, or where it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Setting {
    /// Where the clock stopped, when frozen.
    frozen_at: Option<i64>,
    /// Added to the base clock while running.
    offset_ms: i64,
}

/// The app's clock (see the module docs). Cheap to read; shared by reference.
pub struct AppClock {
    base: Arc<dyn Clock>,
    setting: Mutex<Setting>,
}

/// What the clock shows and how it runs, as `GET /__mock/clock` answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockState {
    /// Now, in Unix milliseconds.
    pub now_ms: i64,
    /// Whether it stands still.
    pub frozen: bool,
    /// How far ahead of its base clock it runs (negative: behind); 0 on real time and
    /// when frozen.
    pub offset_ms: i64,
}

impl std::fmt::Debug for AppClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppClock")
            .field("setting", &self.setting())
            .finish()
    }
}

impl AppClock {
    /// A clock on `base`, not moved.
    pub fn new(base: Arc<dyn Clock>) -> Self {
        AppClock {
            base,
            setting: Mutex::default(),
        }
    }

    fn setting(&self) -> Setting {
        *self.setting.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn change(&self, f: impl FnOnce(&mut Setting, &dyn Clock)) {
        let mut setting = self.setting.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut setting, self.base.as_ref());
    }

    /// Now, in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        let setting = self.setting();
        let now = match setting.frozen_at {
            Some(at) => at,
            None => self.base.now_ms().saturating_add(setting.offset_ms),
        };
        now.clamp(0, MAX_CLOCK_MS)
    }

    /// What it shows and how it runs.
    pub fn state(&self) -> ClockState {
        let setting = self.setting();
        ClockState {
            now_ms: self.now_ms(),
            frozen: setting.frozen_at.is_some(),
            offset_ms: if setting.frozen_at.is_some() {
                0
            } else {
                setting.offset_ms
            },
        }
    }

    /// Stop at the instant it shows now; every reading gives it until it is moved.
    pub fn freeze(&self) {
        self.change(|s, base| {
            if s.frozen_at.is_none() {
                s.frozen_at = Some(base.now_ms().saturating_add(s.offset_ms));
            }
        });
    }

    /// Show `ms` now: frozen there when frozen, else running on from there.
    pub fn set(&self, ms: i64) {
        self.change(|s, base| match s.frozen_at {
            Some(_) => s.frozen_at = Some(ms),
            None => s.offset_ms = ms.saturating_sub(base.now_ms()),
        });
    }

    /// Move forward by `ms` (backward when negative), frozen or running.
    pub fn advance(&self, ms: i64) {
        self.change(|s, _| match &mut s.frozen_at {
            Some(at) => *at = at.saturating_add(ms),
            None => s.offset_ms = s.offset_ms.saturating_add(ms),
        });
    }

    /// Run again from the instant it shows, at the base clock's pace.
    pub fn resume(&self) {
        self.change(|s, base| {
            if let Some(at) = s.frozen_at.take() {
                s.offset_ms = at.saturating_sub(base.now_ms());
            }
        });
    }

    /// Back on the base clock (the wall clock, unless a test injected another): not
    /// frozen, no offset. A reset does this.
    pub fn real(&self) {
        self.change(|s, _| *s = Setting::default());
    }

    /// A clock for a fork of the app: the same base and setting now, moved apart from
    /// this one from then on.
    pub fn fork(&self) -> AppClock {
        AppClock {
            base: self.base.clone(),
            setting: Mutex::new(self.setting()),
        }
    }
}

impl Clock for AppClock {
    fn now_ms(&self) -> i64 {
        AppClock::now_ms(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::FixedClock;

    fn clock() -> AppClock {
        // The fixed clock moves 1 ms per reading, like time passing between readings.
        AppClock::new(Arc::new(FixedClock::new(1_000_000)))
    }

    #[test]
    fn it_follows_its_base_until_moved() {
        let c = clock();
        let a = c.now_ms();
        assert!(c.now_ms() > a);
        assert_eq!(c.state().offset_ms, 0);
        assert!(!c.state().frozen);
    }

    #[test]
    fn frozen_it_stands_still_and_moves_only_when_told() {
        let c = clock();
        c.freeze();
        let at = c.now_ms();
        assert_eq!(c.now_ms(), at);
        c.advance(60_000);
        assert_eq!(c.now_ms(), at + 60_000);
        c.set(5);
        assert_eq!(c.now_ms(), 5);
        assert!(c.state().frozen);
        c.advance(i64::MAX);
        assert_eq!(
            c.now_ms(),
            MAX_CLOCK_MS,
            "it stops at the last date there is"
        );
        c.set(-5);
        assert_eq!(c.now_ms(), 0);
    }

    #[test]
    fn running_it_keeps_a_set_or_advance_as_an_offset() {
        let c = clock();
        c.set(2_000_000_000_000);
        let a = c.now_ms();
        assert!((2_000_000_000_000..2_000_000_000_010).contains(&a), "{a}");
        c.advance(1_000);
        assert!(c.now_ms() >= a + 1_000);
        assert!(c.state().offset_ms > 0);
    }

    #[test]
    fn resume_runs_on_from_where_it_stood_and_real_goes_back() {
        let c = clock();
        c.freeze();
        c.advance(3_600_000);
        let at = c.now_ms();
        c.resume();
        let after = c.now_ms();
        assert!(after >= at && after < at + 10, "{at} {after}");
        assert!(c.now_ms() > after, "it runs again");
        c.real();
        assert!(c.now_ms() < at, "back on the base clock");
        assert_eq!(c.state().offset_ms, 0);
    }

    #[test]
    fn a_fork_starts_where_the_original_stands_and_moves_on_its_own() {
        let c = clock();
        c.freeze();
        let f = c.fork();
        assert_eq!(f.now_ms(), c.now_ms());
        f.advance(10);
        assert_eq!(f.now_ms(), c.now_ms() + 10);
    }
}
