//! The rating counters: a business's `ratingCount`, `ratingSum` and `ratingAvg`, and a
//! user's `reviewCount`, kept right by the Review hooks.
//!
//! # How they stay right under concurrent writes
//!
//! - **Counts and sums only move by `Increment`**, which the storage applies atomically,
//!   so two reviews saved at once both count.
//! - **The average is derived, not incremented.** The counter update asks for the
//!   counters as they are after it (`new=true`, the storage's fetch-when-save), computes
//!   the average from them, and sets `ratingAvg` only if the counters are still those
//!   (`where={"ratingCount":c,"ratingSum":s}`). If they moved, another review's hook
//!   moved them and will set the average from newer values; whichever hook wrote last,
//!   the average always matches the counters that are stored.
//! - **Each review says what it contributes**: `countedStars` is the number of stars the
//!   review adds to its business right now (absent: not counted yet). [`settle`] moves a
//!   review from what it contributes to its current stars with a compare-and-set
//!   (`where={"stars":<current>,"countedStars":<counted>}`) and applies the difference
//!   only when that write wins. So an edit racing the review's own afterSave, two quick
//!   edits, or a hook that runs twice never count a review twice or miss a change. The
//!   mark is written before the counters move: a failure in between loses one change
//!   (at most once), it never counts one twice.
//! - **Deletions take away what the review contributed** (its `countedStars` as it was
//!   when deleted). A review deleted before its afterSave counted it contributed
//!   nothing, and the afterSave then finds it gone and stops.
//! - A business that is gone (its afterDelete deletes its reviews, whose afterDelete
//!   then gets here) has no counters to fix: [`forget`] looks first and skips it, so the
//!   cascade sends no update that would fail. A business or an author that disappears
//!   between a look and an update is skipped too, not an error.

use crate::input;
use crate::rules::{self, RatingChange};
use crate::schema::{BUSINESS, REVIEW, USER};
use crate::store::{self, Written, increment, quiet};
use leancloud::client::Client;
use leancloud::cloud::CloudError;
use serde_json::{Value, json};

/// How many times [`settle`] retries when the review keeps changing under it.
const SETTLE_ATTEMPTS: usize = 8;

/// The stars a review counts now, from a stored value (a whole number from 1 to 5).
fn stars_of(review: &Value, key: &str) -> Option<i64> {
    review
        .get(key)
        .and_then(Value::as_f64)
        .and_then(|s| rules::check_stars(s).ok())
}

/// Whose counters a review moves: its business and its author (read from the review, so
/// that a malformed review is reported before anything is written).
struct Counted {
    business_id: Option<String>,
    author_id: Option<String>,
}

impl Counted {
    fn of(review: &Value) -> Result<Counted, CloudError> {
        Ok(Counted {
            business_id: input::pointer_id(review, "business", BUSINESS)?,
            author_id: input::pointer_id(review, "author", USER)?,
        })
    }
}

/// Make review `review_id` contribute its current stars to its business and author
/// (afterSave, afterUpdate). Returns the change applied.
pub async fn settle(master: &Client, review_id: &str) -> Result<RatingChange, CloudError> {
    for _ in 0..SETTLE_ATTEMPTS {
        let Some(review) = store::fetch(master, REVIEW, review_id).await? else {
            // Deleted: its afterDelete takes away whatever it contributed.
            return Ok(RatingChange::default());
        };
        let targets = Counted::of(&review)?;
        let counted = stars_of(&review, "countedStars");
        let now = stars_of(&review, "stars");
        if counted == now {
            return Ok(RatingChange::default());
        }
        let change = rules::rating_change(counted, now);
        let mark = match now {
            Some(stars) => json!({"countedStars": stars}),
            None => json!({"countedStars": {"__op": "Delete"}}),
        };
        let condition = json!({
            "stars": review.get("stars").cloned().unwrap_or(json!({"$exists": false})),
            "countedStars": review.get("countedStars").cloned().unwrap_or(json!({"$exists": false})),
        });
        match store::update_if(master, REVIEW, review_id, &quiet(mark), &condition).await? {
            Written::Done => {
                apply(master, &targets, change).await?;
                return Ok(change);
            }
            Written::Changed => continue,
            Written::Gone => return Ok(RatingChange::default()),
        }
    }
    Err(CloudError::new(format!(
        "The review kept changing; its rating was not counted after {SETTLE_ATTEMPTS} attempts."
    ))
    .with_status(500))
}

/// Take away what a deleted review contributed (afterDelete; `review` is the review as
/// it was deleted).
pub async fn forget(master: &Client, review: &Value) -> Result<RatingChange, CloudError> {
    let mut targets = Counted::of(review)?;
    let change = rules::rating_change(stars_of(review, "countedStars"), None);
    if change.is_none() {
        return Ok(change);
    }
    // When a business goes, its afterDelete deletes its reviews and their afterDelete
    // gets here: look first rather than send an update that can only fail.
    if let Some(business_id) = &targets.business_id
        && store::fetch(master, BUSINESS, business_id).await?.is_none()
    {
        targets.business_id = None;
    }
    apply(master, &targets, change).await?;
    Ok(change)
}

/// Move the counters of the review's business and author by `change`.
async fn apply(master: &Client, targets: &Counted, change: RatingChange) -> Result<(), CloudError> {
    if change.is_none() {
        return Ok(());
    }
    if let Some(business_id) = &targets.business_id {
        move_business(master, business_id, change).await?;
    }
    if change.count != 0
        && let Some(author_id) = &targets.author_id
    {
        // A user who is gone has nothing to count.
        store::update_returning(
            master,
            USER,
            author_id,
            &quiet(json!({"reviewCount": increment(change.count)})),
        )
        .await?;
    }
    Ok(())
}

/// Increment a business's counters and set its average from what they became.
pub async fn move_business(
    master: &Client,
    business_id: &str,
    change: RatingChange,
) -> Result<(), CloudError> {
    // Both counters are always in the update (by 0 if need be) so that `new=true`
    // answers both.
    let body = quiet(json!({
        "ratingCount": increment(change.count),
        "ratingSum": increment(change.sum),
    }));
    let Some(counters) = store::update_returning(master, BUSINESS, business_id, &body).await?
    else {
        return Ok(());
    };
    let (Some(count), Some(sum)) = (
        counters.get("ratingCount").and_then(Value::as_i64),
        counters.get("ratingSum").and_then(Value::as_i64),
    ) else {
        return Err(CloudError::new(
            "The business's rating counters are not whole numbers; they need repairing with the master key.",
        )
        .with_status(500));
    };
    let average = json!({"ratingAvg": rules::rating_average(sum, count)});
    let still = json!({"ratingCount": count, "ratingSum": sum});
    // Changed: a later counter update sets the average from newer counters.
    store::update_if(master, BUSINESS, business_id, &quiet(average), &still).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_stars_are_read_as_whole_numbers_or_not_at_all() {
        let review = json!({"stars": 4.0, "countedStars": 5, "odd": 7, "text": "x"});
        assert_eq!(stars_of(&review, "stars"), Some(4));
        assert_eq!(stars_of(&review, "countedStars"), Some(5));
        assert_eq!(stars_of(&review, "odd"), None);
        assert_eq!(stars_of(&review, "text"), None);
        assert_eq!(stars_of(&review, "missing"), None);
    }
}
