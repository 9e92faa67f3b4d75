//! A reference model of the local-business directory (crate `cloud`), the user actions
//! on it (`arb_*`), and what the model expects of the app after each action.
//!
//! The model is small on purpose: users (who moderates, who owns, how many reviews
//! each wrote), addresses (country, postal code, location), businesses (owner, status,
//! name, category, phone, address, location, and the rating counters as "reviews the
//! model does not follow" plus the reviews it does) and reviews (business, author,
//! stars, text). It is written from the app's documented rules (`cloud/src/lib.rs` and
//! the module docs), not from its code: phone numbers and postal codes come from fixed
//! tables of inputs with their written forms, so the model never normalises anything
//! itself.
//!
//! For every action the model predicts an [`Outcome`] (accepted with a status, or
//! refused with a status and an error code), which objects the action touches
//! ([`touched`]) and what those objects must look like afterwards ([`expectation`]).
//! `tests/app_model/` drives the app with the same [`request_of`] and compares; the
//! Gherkin writer ([`feature`]) turns the same predictions into a scenario of the
//! system suite, so a failing sequence becomes a regression QA can keep.
//!
//! # Layout
//!
//! - [`state`]: the model's state (the fixture universe, users, addresses, businesses, reviews).
//! - [`actions`]: who sends, the inputs as typed, the [`Step`]s.
//! - [`predict`]: the [`Outcome`] of a step and the state after it.
//! - [`requests`]: the request a step sends, the objects it touches, what they must hold.
//! - [`strategies`]: the steps a sequence may take (`arb_*`) and the state machine.
//! - [`gherkin`]: a sequence as a scenario of the system suite.

mod actions;
mod gherkin;
mod predict;
mod requests;
mod state;
mod strategies;

pub use actions::*;
pub use gherkin::*;
pub use predict::*;
pub use requests::*;
pub use state::*;
pub use strategies::*;

/// The fixture folder the app's targets load (and a deployed test app imports).
pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/database_settings");

/// The fixture users the sequences act as: a moderator, two owners, two customers.
pub const FIXTURE_USERS: [&str; 5] = [
    "mei.lin",
    "chen.wei",
    "maria.garcia",
    "li.na",
    "anna.schmidt",
];

/// The fixture users in the `Moderators` role (of [`FIXTURE_USERS`]).
pub const MODERATORS: [&str; 1] = ["mei.lin"];

/// The fixture businesses the sequences may act on (on an app of their own only): active
/// ones with and without reviews (some by the users above, so second reviews are
/// refused), a pending and a suspended one.
pub const FIXTURE_BUSINESSES: [&str; 5] = [
    "Fuxing Lane Coffee",
    "Kuanzhai Hot Pot",
    "Pearl River Print Shop",
    "Mission Grind",
    "Congress Avenue Cuts",
];

/// How many users a sequence may sign up.
pub const FRESH_USERS: usize = 3;

/// The password every user of a sequence has (as the fixtures' users do).
pub fn password_of(username: &str) -> String {
    format!("{username}-pass")
}

/// The business categories, in their written form.
pub const CATEGORIES: [&str; 8] = [
    "cafe",
    "restaurant",
    "bar",
    "bakery",
    "grocery",
    "salon",
    "repair",
    "other",
];

/// A country the app serves, with inputs whose written forms are known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Country {
    pub code: &'static str,
    /// A postal code already in its written form.
    pub postal: &'static str,
    /// A postal code the app accepts and rewrites, and what it becomes.
    pub loose_postal: (&'static str, &'static str),
    /// A postal code the app refuses.
    pub bad_postal: &'static str,
    /// A national phone number and its E.164 form.
    pub national_phone: (&'static str, &'static str),
    /// Where the country's generated addresses are (spots are offsets from here).
    pub origin: (f64, f64),
}

pub const COUNTRIES: [Country; 6] = [
    Country {
        code: "CN",
        postal: "200025",
        loose_postal: (" 200025 ", "200025"),
        bad_postal: "20002",
        national_phone: ("010 6552 9988", "+861065529988"),
        origin: (31.23, 121.47),
    },
    Country {
        code: "US",
        postal: "94110",
        loose_postal: (" 94110-1234", "94110-1234"),
        bad_postal: "9411",
        national_phone: ("(415) 555-0142", "+14155550142"),
        origin: (37.77, -122.42),
    },
    Country {
        code: "DE",
        postal: "10115",
        loose_postal: (" 10115 ", "10115"),
        bad_postal: "1011A",
        national_phone: ("030 1234567", "+49301234567"),
        origin: (52.52, 13.4),
    },
    Country {
        code: "GB",
        postal: "SW1A 1AA",
        loose_postal: ("sw1a1aa", "SW1A 1AA"),
        bad_postal: "SW1A",
        national_phone: ("020 7946 0958", "+442079460958"),
        origin: (51.5, -0.14),
    },
    Country {
        code: "FR",
        postal: "75001",
        loose_postal: (" 75001", "75001"),
        bad_postal: "7500",
        national_phone: ("01 23 45 67 89", "+33123456789"),
        origin: (48.86, 2.35),
    },
    Country {
        code: "JP",
        postal: "100-0001",
        loose_postal: ("1000001", "100-0001"),
        bad_postal: "100-00012",
        national_phone: ("03-1234-5678", "+81312345678"),
        origin: (35.68, 139.76),
    },
];

fn country(code: &str) -> Option<&'static Country> {
    COUNTRIES.iter().find(|c| c.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use leancloud::error::code;

    #[test]
    fn averages_round_half_up_to_two_decimals() {
        assert_eq!(rating_avg(0, 0), 0.0);
        assert_eq!(rating_avg(31, 7), 4.43);
        assert_eq!(rating_avg(33, 8), 4.13);
        assert_eq!(rating_avg(14, 3), 4.67);
        assert_eq!(rating_avg(5, 1), 5.0);
    }

    #[test]
    fn the_fixture_universe_has_its_counters() {
        let state = initial_state(false);
        let fuxing = state
            .businesses
            .iter()
            .position(|b| b.name == "Fuxing Lane Coffee")
            .unwrap();
        assert_eq!(state.counters(fuxing), (7, 31));
        let mei = 0;
        assert!(state.review_by(mei, fuxing).is_some());
        assert_eq!(state.users[mei].review_count, 4);
        let shared = initial_state(true);
        assert!(shared.businesses.is_empty() && shared.reviews.is_empty());
        assert_eq!(shared.addresses.len(), FIXTURE_BUSINESSES.len());
    }

    #[test]
    fn refused_steps_leave_the_model_as_it_was() {
        let state = initial_state(false);
        let step = Step::WriteReview {
            by: Who::User(0),
            business: 0,
            stars: StarsInput::Valid(3),
            text: TextInput::None,
        };
        assert_eq!(
            outcome(&state, &step),
            Outcome::Refused(400, code::VALIDATION_ERROR)
        );
        assert_eq!(next_state(state.clone(), &step), state);
    }
}
