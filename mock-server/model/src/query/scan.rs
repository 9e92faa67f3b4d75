//! The filtering pass over a class: every row through the matcher, sort keys read for the
//! rows that match.
//!
//! On a large class the pass is memory-bound (each row's fields live in their own heap
//! blocks), so it is split across the available cores, in contiguous runs of rows so that
//! concatenating the parts keeps creation order. The caller's `visible` is not `Sync`; it
//! runs afterwards, on the calling thread, over the matching rows only.

use super::Matcher;
use super::values::SortKey;
use crate::store::StoredObject;
use std::sync::OnceLock;

/// Below this many rows per thread a second thread costs more than it saves.
const MIN_ROWS_PER_THREAD: usize = 16 * 1024;
/// More threads than this bring nothing on a memory-bound pass.
const MAX_THREADS: usize = 4;

fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_THREADS)
    })
}

/// Appends one matching row's sort keys.
pub(crate) type Extract<'e, 's> = &'e (dyn Fn(&'s StoredObject, &mut Vec<SortKey<'s>>) + Sync);

type Part<'s> = (Vec<&'s StoredObject>, Vec<SortKey<'s>>);

/// The rows that match, in creation order, with their sort keys (`extract`'s output for
/// each, concatenated) when `extract` is given.
pub(crate) fn matching<'s>(
    objects: &[&'s StoredObject],
    matcher: &Matcher,
    extract: Option<Extract<'_, 's>>,
) -> Part<'s> {
    let run = |start: usize, len: usize| -> Part<'s> {
        let mut rows = Vec::new();
        let mut keys = Vec::new();
        let end = start.saturating_add(len).min(objects.len());
        for &obj in &objects[start.min(end)..end] {
            if matcher.matches(obj) {
                rows.push(obj);
                if let Some(extract) = extract {
                    extract(obj, &mut keys);
                }
            }
        }
        (rows, keys)
    };
    let n = objects.len();
    let parts = threads().min(n / MIN_ROWS_PER_THREAD).max(1);
    if parts == 1 {
        return run(0, n);
    }
    let chunk = n.div_ceil(parts);
    let run = &run;
    std::thread::scope(|scope| {
        let mut workers = Vec::with_capacity(parts - 1);
        let mut inline = Vec::new();
        for i in 1..parts {
            let spawned = std::thread::Builder::new()
                .name("lc-query-scan".into())
                .spawn_scoped(scope, move || run(i * chunk, chunk));
            match spawned {
                Ok(handle) => workers.push(handle),
                // No thread to be had: do that part here.
                Err(_) => inline.push(i),
            }
        }
        let (mut rows, mut keys) = run(0, chunk);
        let mut done = Vec::with_capacity(parts - 1);
        for handle in workers {
            match handle.join() {
                Ok(part) => done.push(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        let mut done = done.into_iter();
        for i in 1..parts {
            let (r, k) = if inline.contains(&i) {
                run(i * chunk, chunk)
            } else {
                done.next().unwrap_or_default()
            };
            rows.extend(r);
            keys.extend(k);
        }
        (rows, keys)
    })
}

/// Drop the rows the caller may not see, with their `width` sort keys each.
pub(crate) fn retain_visible<'s>(
    rows: &mut Vec<&'s StoredObject>,
    keys: &mut Vec<SortKey<'s>>,
    width: usize,
    visible: impl Fn(&StoredObject) -> bool,
) {
    let mut kept = 0;
    for i in 0..rows.len() {
        if visible(rows[i]) {
            rows.swap(kept, i);
            if width > 0 {
                for j in 0..width {
                    keys.swap(kept * width + j, i * width + j);
                }
            }
            kept += 1;
        }
    }
    rows.truncate(kept);
    keys.truncate(kept * width);
}
