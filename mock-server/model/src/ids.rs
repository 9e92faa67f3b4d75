//! Time and identifiers, injectable so tests can be deterministic.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng, TryRngCore};
use std::sync::atomic::{AtomicI64, Ordering};

/// Source of the current time in Unix milliseconds.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// A clock that starts at a fixed instant and moves one millisecond per reading, so that
/// successive writes get distinct, ordered times.
#[derive(Debug)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    pub fn new(start_ms: i64) -> Self {
        FixedClock(AtomicI64::new(start_ms))
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        self.0.fetch_add(1, Ordering::Relaxed)
    }
}

/// Source of object ids and session tokens.
pub trait IdGen: Send + Sync {
    /// 24 lowercase hex characters, time-based so that ids sort in creation order.
    fn object_id(&mut self, now_ms: i64) -> String;
    /// 25 characters of `[0-9a-z]` (session tokens, generated usernames).
    fn token(&mut self) -> String;
    /// A generator for a fork of the app (`Store::fork`): its ids must not repeat this
    /// one's. By default a [`SeededIds`] seeded from the operating system.
    fn fork(&self) -> Box<dyn IdGen> {
        Box::new(SeededIds::random())
    }
}

/// MongoDB-style ids: 4 bytes of seconds, 5 random bytes fixed per generator, a 3-byte
/// counter. Seeded, so a given seed yields the same sequence.
#[derive(Debug)]
pub struct SeededIds {
    rng: SmallRng,
    machine: [u8; 5],
    counter: u32,
}

impl SeededIds {
    pub fn new(seed: u64) -> Self {
        let mut rng = SmallRng::seed_from_u64(seed);
        let machine = rng.random();
        let counter = rng.random::<u32>() & 0x00ff_ffff;
        SeededIds {
            rng,
            machine,
            counter,
        }
    }

    /// Seeded from the operating system: distinct across emulators.
    pub fn random() -> Self {
        SeededIds::new(rand::rngs::OsRng.try_next_u64().unwrap_or(0x5eed))
    }
}

impl IdGen for SeededIds {
    fn object_id(&mut self, now_ms: i64) -> String {
        self.counter = (self.counter + 1) & 0x00ff_ffff;
        let secs = (now_ms / 1000).clamp(0, u32::MAX as i64) as u32;
        let mut bytes = [0u8; 12];
        bytes[..4].copy_from_slice(&secs.to_be_bytes());
        bytes[4..9].copy_from_slice(&self.machine);
        bytes[9..].copy_from_slice(&self.counter.to_be_bytes()[1..]);
        hex::encode(bytes)
    }

    fn token(&mut self) -> String {
        const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        (0..25)
            .map(|_| ALPHABET[self.rng.random_range(0..ALPHABET.len())] as char)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_are_24_lowercase_hex_and_increase() {
        let mut ids = SeededIds::new(7);
        let a = ids.object_id(1_700_000_000_000);
        let b = ids.object_id(1_700_000_000_000);
        assert_eq!(a.len(), 24);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        );
        assert!(a < b, "{a} !< {b}");
    }

    #[test]
    fn tokens_have_the_real_shape_and_the_same_seed_repeats() {
        let t = SeededIds::new(1).token();
        assert_eq!(t.len(), 25);
        assert!(
            t.bytes()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
        );
        assert_eq!(t, SeededIds::new(1).token());
    }
}
