//! Leaderboards (`/1.1/leaderboard/...`): boards named after a statistic, each user's
//! statistic per board version, ranks, versions that roll over on a schedule, and the
//! archives of past versions. Pure: no HTTP; time comes from the caller (the app's
//! clock), so a virtual clock moves boards to their next version.
//!
//! Facts, from LeanCloud's leaderboard REST guide (leancloud/docs
//! `views/leaderboard-rest-api.md`: routes, defaults `descending`/`better`/`week`, the
//! master key for management, a user's own statistics with their session, `overwrite=1`,
//! 60 archives per board, ranks' `count`, no `email`/`mobilePhoneNumber` of ranked users
//! without the master key), from the official JavaScript SDK (`leaderboard.js`: routes, parameters, the
//! enums and their defaults: `week`, `better`) and from its recordings of the real
//! service (leancloud/javascript-sdk `recordings/Leaderboard_*`): a board's JSON
//! (`statisticName`, `order`, `updateStrategy`, `versionChangeInterval`, `version` from
//! 0, `activatedAt` and `expiredAt` as Dates, `expiredAt: null` for `never`); a weekly
//! board created on a Thursday expires on Monday 00:00 in UTC+8
//! (`2019-09-22T16:00:00.000Z`), so versions roll at midnight China time; statistics
//! answer `{"statisticName", "version", "statisticValue"}`; ranks start at 0; an unknown
//! statistic is `400 {"code":2100,"error":"statisticName '<name>' not found."}`.
//! Choices where nothing is recorded: ties rank the earlier-reached value first; an
//! archive's `status` is `completed` and its `url` is null (the service's CSV export is
//! not emulated).

use chrono::{Datelike, Duration, FixedOffset, NaiveDate, TimeZone};
use imbl::{OrdMap, Vector};
use leancloud::LcError;
use leancloud::error::code;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Boards an app may have.
pub const MAX_LEADERBOARDS: usize = 1_000;
/// The most ranks one request answers (`limit`); the default is 20.
pub const MAX_RANKS_LIMIT: usize = 1_000;
/// The ranks a request answers when it gives no `limit`.
pub const DEFAULT_RANKS_LIMIT: usize = 20;
/// Bytes in a statistic's name.
pub const MAX_STATISTIC_NAME_BYTES: usize = 128;
/// Archived versions kept per board (the guide: "每个排行榜最多保存 60 个归档文件");
/// older ones are dropped.
pub const MAX_ARCHIVES: usize = 60;
/// Members one batch read of statistics names (the guide: at most 200).
pub const MAX_STATISTICS_IDS: usize = 200;

/// Versions roll at midnight in China time, as the service's do (see the module docs).
const RESET_OFFSET_SECS: i32 = 8 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Order {
    Ascending,
    Descending,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Strategy {
    /// Keep the best value (the lowest on an ascending board).
    Better,
    /// Keep the last value.
    Last,
    /// Add every value.
    Sum,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Interval {
    Never,
    Day,
    Week,
    Month,
}

macro_rules! names {
    ($ty:ident { $($variant:ident = $name:literal),* }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $name),* }
            }
            pub fn parse(name: &str) -> Option<$ty> {
                match name { $($name => Some($ty::$variant),)* _ => None }
            }
        }
    };
}
names!(Order { Ascending = "ascending", Descending = "descending" });
names!(Strategy { Better = "better", Last = "last", Sum = "sum" });
names!(Interval { Never = "never", Day = "day", Week = "week", Month = "month" });

/// One user's statistic on one version of a board.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub value: f64,
    /// When the kept value was reached (ties rank the earlier first).
    pub reached_at: i64,
}

/// A past version of a board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Archive {
    pub version: u32,
    pub activated_at: i64,
    pub deactivated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Board {
    pub object_id: String,
    pub name: String,
    pub order: Order,
    pub strategy: Strategy,
    pub interval: Interval,
    pub version: u32,
    pub activated_at: i64,
    pub expired_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Newest first, as the archives are listed.
    pub archives: Vector<Archive>,
    /// (version, user objectId) -> the statistic.
    #[serde(with = "crate::serde_pairs")]
    pub entries: OrdMap<(u32, String), Entry>,
}

/// One row of a ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct Rank {
    pub rank: usize,
    pub user: String,
    pub value: f64,
}

/// Every board of an app, by statistic name. Persistent, so snapshots and forks of the
/// app copy nothing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Leaderboards {
    boards: OrdMap<String, Board>,
}

impl Leaderboards {
    /// Whether `other` is this very set of boards (a copy that shares its map).
    pub fn same(&self, other: &Leaderboards) -> bool {
        self.boards.ptr_eq(&other.boards)
    }
}

/// The recorded answer for a statistic no board has.
pub fn not_found(name: &str) -> LcError {
    LcError::new(
        400,
        code::STATISTIC_NOT_FOUND,
        format!("statisticName '{name}' not found."),
    )
}

/// A number as the service shows it: whole values without a fraction.
pub fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

/// When a version starting at `from` (ms) ends: the next midnight, Monday or first of
/// the month in UTC+8; `None` for `never`.
pub fn next_reset(interval: Interval, from: i64) -> Option<i64> {
    let tz = FixedOffset::east_opt(RESET_OFFSET_SECS)?;
    let local = tz.timestamp_millis_opt(from).single()?.date_naive();
    let next: NaiveDate = match interval {
        Interval::Never => return None,
        Interval::Day => local + Duration::days(1),
        Interval::Week => {
            let days = 7 - i64::from(local.weekday().num_days_from_monday());
            local + Duration::days(days)
        }
        Interval::Month => {
            let (y, m) = if local.month() == 12 {
                (local.year() + 1, 1)
            } else {
                (local.year(), local.month() + 1)
            };
            NaiveDate::from_ymd_opt(y, m, 1)?
        }
    };
    let midnight = next.and_hms_opt(0, 0, 0)?;
    Some(
        tz.from_local_datetime(&midnight)
            .single()?
            .timestamp_millis(),
    )
}

impl Board {
    /// The board as the service answers it.
    pub fn to_json(&self) -> Value {
        let date = |ms: i64| json!({"__type": "Date", "iso": leancloud::value::format_date(ms)});
        json!({
            "objectId": self.object_id,
            "statisticName": self.name,
            "memberType": "_User",
            "order": self.order.as_str(),
            "updateStrategy": self.strategy.as_str(),
            "versionChangeInterval": self.interval.as_str(),
            "version": self.version,
            "activatedAt": date(self.activated_at),
            "expiredAt": self.expired_at.map(date),
            "createdAt": leancloud::value::format_date(self.created_at),
            "updatedAt": leancloud::value::format_date(self.updated_at),
        })
    }

    /// Start the next version now: the current one is archived and its ranks kept for
    /// `version` queries.
    pub fn increment_version(&mut self, now: i64) {
        self.archive(now);
        self.version += 1;
        self.activated_at = now;
        self.expired_at = next_reset(self.interval, now);
        self.updated_at = now;
    }

    /// Archive the current version as ended at `end`, keeping [`MAX_ARCHIVES`]; an
    /// archive dropped takes its version's statistics with it.
    fn archive(&mut self, end: i64) {
        self.archives.push_front(Archive {
            version: self.version,
            activated_at: self.activated_at,
            deactivated_at: end,
        });
        while self.archives.len() > MAX_ARCHIVES {
            if let Some(old) = self.archives.pop_back() {
                let keys: Vec<(u32, String)> = self
                    .entries
                    .range((old.version, String::new())..)
                    .take_while(|((v, _), _)| *v == old.version)
                    .map(|(k, _)| k.clone())
                    .collect();
                for key in keys {
                    self.entries.remove(&key);
                }
            }
        }
    }

    /// Roll over every version whose time is up by `now`.
    fn roll(&mut self, now: i64) {
        while let Some(end) = self.expired_at.filter(|&end| end <= now) {
            self.archive(end);
            self.version += 1;
            self.activated_at = end;
            self.expired_at = next_reset(self.interval, end);
        }
    }

    fn better(&self, new: f64, old: f64) -> bool {
        match self.order {
            Order::Ascending => new < old,
            Order::Descending => new > old,
        }
    }

    /// Apply one submitted value for `user` on the current version; the value kept.
    pub fn submit(&mut self, user: &str, value: f64, overwrite: bool, now: i64) -> f64 {
        let key = (self.version, user.to_string());
        let old = self.entries.get(&key).copied();
        let kept = match (old, self.strategy) {
            (None, _) => Entry {
                value,
                reached_at: now,
            },
            (Some(_), _) if overwrite => Entry {
                value,
                reached_at: now,
            },
            (Some(old), Strategy::Better) if !self.better(value, old.value) => old,
            (Some(old), Strategy::Sum) => Entry {
                value: old.value + value,
                reached_at: now,
            },
            (Some(_), _) => Entry {
                value,
                reached_at: now,
            },
        };
        self.entries.insert(key, kept);
        kept.value
    }

    /// The statistic `user` holds on `version`.
    pub fn entry(&self, version: u32, user: &str) -> Option<Entry> {
        self.entries.get(&(version, user.to_string())).copied()
    }

    /// Every rank of `version`, best first.
    pub fn ranking(&self, version: u32) -> Vec<Rank> {
        let mut rows: Vec<(&String, Entry)> = self
            .entries
            .range((version, String::new())..)
            .take_while(|((v, _), _)| *v == version)
            .map(|((_, user), e)| (user, *e))
            .collect();
        rows.sort_by(|(ua, a), (ub, b)| {
            let by_value = match self.order {
                Order::Ascending => a.value.total_cmp(&b.value),
                Order::Descending => b.value.total_cmp(&a.value),
            };
            by_value
                .then(a.reached_at.cmp(&b.reached_at))
                .then(ua.cmp(ub))
        });
        rows.into_iter()
            .enumerate()
            .map(|(rank, (user, e))| Rank {
                rank,
                user: user.clone(),
                value: e.value,
            })
            .collect()
    }

    /// Remove `user`'s statistic from the current version.
    pub fn remove(&mut self, user: &str) {
        self.entries.remove(&(self.version, user.to_string()));
    }

    /// Forget every version's statistics of `user` (the user was deleted).
    pub fn forget(&mut self, user: &str) {
        let keys: Vec<(u32, String)> = self
            .entries
            .keys()
            .filter(|(_, u)| u == user)
            .cloned()
            .collect();
        for key in keys {
            self.entries.remove(&key);
        }
    }
}

impl Leaderboards {
    /// The board for `name` as of `now` (versions past their time rolled over).
    pub fn get_mut(&mut self, name: &str, now: i64) -> Result<&mut Board, LcError> {
        let board = self.boards.get_mut(name).ok_or_else(|| not_found(name))?;
        board.roll(now);
        Ok(board)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.boards.contains_key(name)
    }

    pub fn len(&self) -> usize {
        self.boards.len()
    }

    pub fn is_empty(&self) -> bool {
        self.boards.is_empty()
    }

    /// Every board's name, in name order.
    pub fn names(&self) -> Vec<String> {
        self.boards.keys().cloned().collect()
    }

    pub fn create(&mut self, board: Board) -> Result<&Board, LcError> {
        if self.boards.contains_key(&board.name) {
            // Not recorded: the closest documented answer for a duplicate.
            return Err(LcError::new(
                400,
                137,
                format!("A leaderboard named '{}' already exists.", board.name),
            ));
        }
        if self.boards.len() >= MAX_LEADERBOARDS {
            return Err(LcError::generic(format!(
                "An app has at most {MAX_LEADERBOARDS} leaderboards."
            )));
        }
        let name = board.name.clone();
        self.boards.insert(name.clone(), board);
        Ok(&self.boards[&name])
    }

    pub fn delete(&mut self, name: &str) -> Result<(), LcError> {
        self.boards
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| not_found(name))
    }

    /// Every board's current statistic of `user`, rolled to `now`.
    pub fn statistics_of(&mut self, user: &str, now: i64) -> Vec<(String, u32, f64)> {
        let names = self.names();
        let mut out = Vec::new();
        for name in names {
            if let Ok(board) = self.get_mut(&name, now)
                && let Some(e) = board.entry(board.version, user)
            {
                out.push((name, board.version, e.value));
            }
        }
        out
    }
}

/// Check a statistic's name as a board is created with it.
pub fn check_name(name: &str) -> Result<(), LcError> {
    if name.is_empty() || name.len() > MAX_STATISTIC_NAME_BYTES {
        return Err(LcError::invalid_json_detail(format!(
            "statisticName is 1 to {MAX_STATISTIC_NAME_BYTES} bytes"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const THU_2019_09_19: i64 = 1_568_881_497_884; // 2019-09-19T08:24:57.884Z, recorded

    fn board(order: Order, strategy: Strategy, interval: Interval) -> Board {
        Board {
            object_id: "b1".into(),
            name: "score".into(),
            order,
            strategy,
            interval,
            version: 0,
            activated_at: THU_2019_09_19,
            expired_at: next_reset(interval, THU_2019_09_19),
            created_at: THU_2019_09_19,
            updated_at: THU_2019_09_19,
            archives: Vector::new(),
            entries: OrdMap::new(),
        }
    }

    fn iso(ms: Option<i64>) -> Option<String> {
        ms.map(leancloud::value::format_date)
    }

    #[test]
    fn versions_end_at_midnight_china_time_as_recorded() {
        assert_eq!(
            iso(next_reset(Interval::Week, THU_2019_09_19)).as_deref(),
            Some("2019-09-22T16:00:00.000Z"),
            "recorded: a weekly board created that Thursday expires then"
        );
        assert_eq!(
            iso(next_reset(Interval::Day, THU_2019_09_19)).as_deref(),
            Some("2019-09-19T16:00:00.000Z")
        );
        assert_eq!(
            iso(next_reset(Interval::Month, THU_2019_09_19)).as_deref(),
            Some("2019-09-30T16:00:00.000Z")
        );
        assert_eq!(next_reset(Interval::Never, THU_2019_09_19), None);
        // A December board's month ends in the next year.
        let dec = leancloud::value::parse_date("2026-12-04T10:00:00.000Z").unwrap();
        assert_eq!(
            iso(next_reset(Interval::Month, dec)).as_deref(),
            Some("2026-12-31T16:00:00.000Z")
        );
    }

    #[test]
    fn strategies_keep_the_better_the_last_or_the_sum() {
        let mut b = board(Order::Descending, Strategy::Better, Interval::Never);
        assert_eq!(b.submit("u", 5.0, false, 1), 5.0);
        assert_eq!(
            b.submit("u", 3.0, false, 2),
            5.0,
            "lower is worse when descending"
        );
        assert_eq!(
            b.submit("u", 3.0, true, 3),
            3.0,
            "overwrite ignores the strategy"
        );
        let mut asc = board(Order::Ascending, Strategy::Better, Interval::Never);
        asc.submit("u", 5.0, false, 1);
        assert_eq!(
            asc.submit("u", 3.0, false, 2),
            3.0,
            "lower is better when ascending"
        );
        let mut last = board(Order::Descending, Strategy::Last, Interval::Never);
        last.submit("u", 5.0, false, 1);
        assert_eq!(last.submit("u", 1.0, false, 2), 1.0);
        let mut sum = board(Order::Descending, Strategy::Sum, Interval::Never);
        sum.submit("u", 5.0, false, 1);
        assert_eq!(sum.submit("u", 2.5, false, 2), 7.5);
    }

    #[test]
    fn ranks_start_at_zero_best_first_and_ties_go_to_the_earlier() {
        let mut b = board(Order::Descending, Strategy::Last, Interval::Never);
        b.submit("c", 7.0, false, 3);
        b.submit("a", 9.0, false, 1);
        b.submit("b", 7.0, false, 2);
        let ranks: Vec<(usize, String)> =
            b.ranking(0).into_iter().map(|r| (r.rank, r.user)).collect();
        assert_eq!(ranks, [(0, "a".into()), (1, "b".into()), (2, "c".into())]);
    }

    #[test]
    fn a_version_past_its_time_rolls_over_and_keeps_the_old_ranks() {
        let mut boards = Leaderboards::default();
        boards
            .create(board(Order::Descending, Strategy::Better, Interval::Day))
            .unwrap();
        let b = boards.get_mut("score", THU_2019_09_19).unwrap();
        b.submit("u", 10.0, false, THU_2019_09_19);
        // Two days later: two versions have ended.
        let later = THU_2019_09_19 + 2 * 86_400_000;
        let b = boards.get_mut("score", later).unwrap();
        assert_eq!(b.version, 2);
        assert_eq!(b.archives.len(), 2);
        assert_eq!(b.archives[0].version, 1, "newest archive first");
        assert!(b.ranking(2).is_empty(), "a new version starts empty");
        assert_eq!(b.ranking(0)[0].value, 10.0, "the old version's ranks stay");
        // Only the newest MAX_ARCHIVES archives (and their statistics) are kept.
        let b = boards.get_mut("score", later).unwrap();
        for i in 0..MAX_ARCHIVES as i64 {
            b.increment_version(later + i);
        }
        assert_eq!(b.archives.len(), MAX_ARCHIVES);
        assert!(
            b.ranking(0).is_empty(),
            "version 0 fell out with its archive"
        );
        assert_eq!(
            boards.get_mut("nope", later).unwrap_err(),
            not_found("nope")
        );
    }
}
