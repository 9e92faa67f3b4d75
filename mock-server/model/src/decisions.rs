//! The access decisions a request takes (class permissions and ACLs, allowed or refused,
//! per class and operation), for the coverage of an app's rules. The rules record each
//! decision here; the api collects those of one request with [`collect`]. Without a
//! collector (a rule called directly, in a unit test) recording costs a thread-local
//! look and nothing else.
//!
//! Decisions are kept per thread, in a stack of frames: a request that runs inside
//! another's hook (in-process cloud code runs on the same thread) collects its own.

use compact_str::CompactString;
use std::cell::RefCell;

/// Which rule decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// A class permission (`get`, `find`, `create`, `update`, `delete`, `add_fields`).
    ClassPermission,
    /// An object's ACL (`read`, `write`).
    Acl,
}

/// A kind of decision and how often it was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub rule: Rule,
    /// Inline up to 24 bytes, as nearly every class name is: a request's decisions cost
    /// no allocation each.
    pub class: CompactString,
    pub op: &'static str,
    pub allowed: bool,
    pub count: u64,
}

thread_local! {
    static FRAMES: RefCell<Vec<Vec<Decision>>> = const { RefCell::new(Vec::new()) };
}

/// Note a decision in the current frame, if any collects.
pub fn record(rule: Rule, class: &str, op: &'static str, allowed: bool) {
    FRAMES.with(|frames| {
        let mut frames = frames.borrow_mut();
        let Some(frame) = frames.last_mut() else {
            return;
        };
        // A query decides the same for row after row: the entry is usually the last.
        if let Some(d) = frame
            .iter_mut()
            .rev()
            .find(|d| d.rule == rule && d.op == op && d.allowed == allowed && d.class == class)
        {
            d.count += 1;
        } else {
            frame.push(Decision {
                rule,
                class: CompactString::from(class),
                op,
                allowed,
                count: 1,
            });
        }
    });
}

/// Run `f`, collecting the decisions it takes (not those of requests nested in it,
/// which collect their own).
pub fn collect<T>(f: impl FnOnce() -> T) -> (T, Vec<Decision>) {
    FRAMES.with(|frames| frames.borrow_mut().push(Vec::new()));
    // Popped however `f` ends, so a panic does not leave a frame behind.
    struct Pop(Option<Vec<Decision>>);
    impl Drop for Pop {
        fn drop(&mut self) {
            if self.0.is_none() {
                FRAMES.with(|frames| frames.borrow_mut().pop());
            }
        }
    }
    let mut guard = Pop(None);
    let out = f();
    let taken = FRAMES
        .with(|frames| frames.borrow_mut().pop())
        .unwrap_or_default();
    guard.0 = Some(Vec::new());
    (out, taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_are_counted_per_frame_and_nested_frames_keep_their_own() {
        record(Rule::Acl, "Lost", "read", true);
        let ((), outer) = collect(|| {
            record(Rule::Acl, "Post", "read", true);
            record(Rule::Acl, "Post", "read", true);
            let ((), inner) = collect(|| record(Rule::ClassPermission, "Log", "create", false));
            assert_eq!(inner.len(), 1);
            assert!(!inner[0].allowed);
            record(Rule::Acl, "Post", "read", false);
        });
        let counts: Vec<_> = outer
            .iter()
            .map(|d| (d.class.as_str(), d.allowed, d.count))
            .collect();
        assert_eq!(counts, vec![("Post", true, 2), ("Post", false, 1)]);
    }
}
