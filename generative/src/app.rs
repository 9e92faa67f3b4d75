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
//! `tests/app_model.rs` drives the app with the same [`request_of`] and compares; the
//! Gherkin writer ([`feature`]) turns the same predictions into a scenario of the
//! system suite, so a failing sequence becomes a regression QA can keep.

use leancloud::error::code;
use proptest::prelude::*;
use proptest::strategy::Union;
use proptest_state_machine::ReferenceStateMachine;
use serde_json::{Value, json};
use std::fmt;
use std::fmt::Write as _;

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

// ---------------------------------------------------------------------------------------
// The model's state
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Active,
    Suspended,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Pending, Status::Active, Status::Suspended];

    pub fn name(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Active => "active",
            Status::Suspended => "suspended",
        }
    }

    fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.name() == text)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// The username: a fixture user's, or the base of a signed-up one (the test puts the
    /// run's prefix in front on the target; a generated feature uses it as it is).
    pub username: String,
    pub fixture: bool,
    pub moderator: bool,
    /// Fixture users exist from the start; others once their sign-up is accepted.
    pub exists: bool,
    /// `customer` or `owner`.
    pub role: &'static str,
    pub review_count: i64,
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    /// How scenarios name it: a fixture address by its street, others `address N`.
    pub label: String,
    pub fixture: bool,
    pub country: &'static str,
    pub postal_code: String,
    pub location: (f64, f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Business {
    /// How scenarios name it: a fixture business by its name, others `business N`.
    pub label: String,
    pub fixture: bool,
    pub exists: bool,
    pub name: String,
    pub category: String,
    pub phone: Option<String>,
    pub address: usize,
    pub location: (f64, f64),
    pub owner: usize,
    pub status: Status,
    /// Reviews the model does not follow one by one (fixture reviews by other users).
    pub base_count: i64,
    pub base_sum: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    /// How scenarios name it (`review N`); fixture reviews cannot be named by a scenario.
    pub label: String,
    pub fixture: bool,
    pub exists: bool,
    pub business: usize,
    pub author: usize,
    pub stars: i64,
    pub text: Option<String>,
}

/// The reference model: what the app holds, as far as the sequences can change it.
#[derive(Clone, PartialEq)]
pub struct AppState {
    /// The run shares its app with others (a deployed app, a shared stack): fixture
    /// businesses are left alone and fixture addresses never move.
    pub shared: bool,
    pub users: Vec<User>,
    pub addresses: Vec<Address>,
    pub businesses: Vec<Business>,
    pub reviews: Vec<Review>,
}

impl fmt::Debug for AppState {
    /// Short: the initial state is printed with every failing case.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AppState {{ {}, {} users, {} addresses, {} businesses, {} reviews }}",
            if self.shared {
                "shared app"
            } else {
                "app of its own"
            },
            self.users.len(),
            self.addresses.len(),
            self.businesses.len(),
            self.reviews.len()
        )
    }
}

impl AppState {
    /// The business's `ratingCount` and `ratingSum`: the reviews the model does not
    /// follow plus the ones it does that still exist.
    pub fn counters(&self, business: usize) -> (i64, i64) {
        let b = &self.businesses[business];
        self.reviews
            .iter()
            .filter(|r| r.exists && r.business == business)
            .fold((b.base_count, b.base_sum), |(n, s), r| (n + 1, s + r.stars))
    }

    /// The review `author` has of `business`, if any.
    pub fn review_by(&self, author: usize, business: usize) -> Option<usize> {
        self.reviews
            .iter()
            .position(|r| r.exists && r.author == author && r.business == business)
    }

    fn can_act(&self, who: Who) -> bool {
        match who {
            Who::Master => true,
            Who::User(u) => self.users.get(u).is_some_and(|u| u.exists),
        }
    }

    /// Objects of the model that exist now or did (deleted ones stay, so that actions on
    /// them can be tried): every one a full check reads.
    pub fn everything(&self) -> Vec<ObjRef> {
        let mut all = Vec::new();
        all.extend(
            (0..self.users.len())
                .filter(|&u| self.users[u].exists)
                .map(ObjRef::User),
        );
        all.extend((0..self.addresses.len()).map(ObjRef::Address));
        all.extend((0..self.businesses.len()).map(ObjRef::Business));
        all.extend((0..self.reviews.len()).map(ObjRef::Review));
        all
    }
}

/// `ratingAvg` as the app defines it: `sum / count` rounded half up to 2 decimals, 0
/// without ratings.
pub fn rating_avg(sum: i64, count: i64) -> f64 {
    if count <= 0 {
        return 0.0;
    }
    // Whole hundredths, rounded half up, in integers.
    let hundredths = (sum * 200 + count) / (2 * count);
    hundredths as f64 / 100.0
}

fn read_population(class: &str) -> Vec<Value> {
    let path = format!("{FIXTURES}/{class}/population.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    match serde_json::from_str(&text) {
        Ok(Value::Array(rows)) => rows,
        _ => panic!("{path} is not a JSON array"),
    }
}

fn pointer_id(row: &Value, key: &str) -> String {
    row[key]["objectId"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn geo(value: &Value) -> (f64, f64) {
    (
        value["latitude"].as_f64().unwrap_or_default(),
        value["longitude"].as_f64().unwrap_or_default(),
    )
}

/// The model's starting point, from the fixture files: the users of [`FIXTURE_USERS`],
/// the addresses of [`FIXTURE_BUSINESSES`], and (on an app of the run's own) those
/// businesses with the fixture reviews the users above wrote. `shared`: the run shares
/// its app, so fixture businesses stay out.
pub fn initial_state(shared: bool) -> AppState {
    let user_rows = read_population("_User");
    let address_rows = read_population("Address");
    let business_rows = read_population("Business");
    let review_rows = read_population("Review");
    let mut user_ids = Vec::new();
    let mut users = Vec::new();
    for name in FIXTURE_USERS {
        let row = user_rows
            .iter()
            .find(|r| r["username"] == name)
            .unwrap_or_else(|| panic!("no fixture user {name}"));
        user_ids.push(row["objectId"].as_str().unwrap_or_default().to_string());
        users.push(User {
            username: name.to_string(),
            fixture: true,
            moderator: MODERATORS.contains(&name),
            exists: true,
            role: if row["role"] == "owner" {
                "owner"
            } else {
                "customer"
            },
            review_count: row["reviewCount"].as_i64().unwrap_or_default(),
            display_name: row["displayName"].as_str().map(str::to_string),
        });
    }
    for i in 1..=FRESH_USERS {
        users.push(User {
            username: format!("new.user{i}"),
            fixture: false,
            moderator: false,
            exists: false,
            role: "customer",
            review_count: 0,
            display_name: None,
        });
    }
    let mut state = AppState {
        shared,
        users,
        addresses: Vec::new(),
        businesses: Vec::new(),
        reviews: Vec::new(),
    };
    let mut address_ids: Vec<String> = Vec::new();
    for name in FIXTURE_BUSINESSES {
        let row = business_rows
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no fixture business {name}"));
        let address_id = pointer_id(row, "address");
        let address = address_rows
            .iter()
            .find(|a| a["objectId"] == address_id.as_str())
            .unwrap_or_else(|| panic!("no fixture address {address_id}"));
        address_ids.push(address_id.clone());
        let country = address["country"].as_str().unwrap_or_default();
        state.addresses.push(Address {
            label: address["street"].as_str().unwrap_or_default().to_string(),
            fixture: true,
            country: country_code(country),
            postal_code: address["postalCode"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            location: geo(&address["location"]),
        });
        if shared {
            continue;
        }
        let id = row["objectId"].as_str().unwrap_or_default();
        let owner_id = pointer_id(row, "owner");
        let owner = user_ids
            .iter()
            .position(|u| *u == owner_id)
            .unwrap_or_else(|| panic!("the owner of {name} is not one of FIXTURE_USERS"));
        let index = state.businesses.len();
        let (mut base_count, mut base_sum) = (0, 0);
        for review in review_rows
            .iter()
            .filter(|r| pointer_id(r, "business") == id)
        {
            let stars = review["stars"].as_i64().unwrap_or_default();
            let author_id = pointer_id(review, "author");
            match user_ids.iter().position(|u| *u == author_id) {
                Some(author) => state.reviews.push(Review {
                    label: format!("the review of {name} by {}", FIXTURE_USERS[author]),
                    fixture: true,
                    exists: true,
                    business: index,
                    author,
                    stars,
                    text: review["text"].as_str().map(str::to_string),
                }),
                None => {
                    base_count += 1;
                    base_sum += stars;
                }
            }
        }
        state.businesses.push(Business {
            label: name.to_string(),
            fixture: true,
            exists: true,
            name: name.to_string(),
            category: row["category"].as_str().unwrap_or_default().to_string(),
            phone: row["phone"].as_str().map(str::to_string),
            address: state.addresses.len() - 1,
            location: geo(&row["location"]),
            owner,
            status: Status::parse(row["status"].as_str().unwrap_or_default())
                .unwrap_or_else(|| panic!("{name} has an unknown status")),
            base_count,
            base_sum,
        });
    }
    state
}

fn country_code(code: &str) -> &'static str {
    country(code)
        .map(|c| c.code)
        .unwrap_or_else(|| panic!("a fixture address is in {code}, which the model does not know"))
}

/// Whether the run shares its app with others, as the harness reads `LC_TARGET` and
/// `LC_STACK`: `remote`, or `stack` with `LC_STACK=shared`.
pub fn shared_target() -> bool {
    let var = |name: &str| std::env::var(name).unwrap_or_default().trim().to_string();
    match var("LC_TARGET").as_str() {
        "remote" => true,
        "stack" => var("LC_STACK") == "shared",
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// Actions and their inputs
// ---------------------------------------------------------------------------------------

/// Who sends a request: the master key, or a user of the model (an index into
/// [`AppState::users`]) with their session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Master,
    User(usize),
}

/// A business name as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameInput {
    /// `Corner Shop N`: already written the app's way.
    Plain(u8),
    /// With spaces around: trimmed on create, refused on update.
    Padded(u8),
    /// 80 characters: the longest name.
    Longest,
    /// 81 characters.
    TooLong,
    /// Only spaces.
    Blank,
}

impl NameInput {
    pub fn text(self) -> String {
        match self {
            NameInput::Plain(n) => format!("Corner Shop {n}"),
            NameInput::Padded(n) => format!("  Corner Shop {n}  "),
            NameInput::Longest => "x".repeat(80),
            NameInput::TooLong => "x".repeat(81),
            NameInput::Blank => "   ".into(),
        }
    }

    /// The stored name when a create accepts it.
    fn on_create(self) -> Option<String> {
        match self {
            NameInput::Plain(_) | NameInput::Longest => Some(self.text()),
            NameInput::Padded(_) => Some(self.text().trim().to_string()),
            NameInput::TooLong | NameInput::Blank => None,
        }
    }

    /// The stored name when an update accepts it (only the written form).
    fn on_update(self) -> Option<String> {
        match self {
            NameInput::Plain(_) | NameInput::Longest => Some(self.text()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategoryInput {
    /// A category as written (`cafe`).
    Exact(usize),
    /// In another case (`Cafe`): accepted on create, refused on update.
    Capitalised(usize),
    Unknown,
}

impl CategoryInput {
    pub fn text(self) -> String {
        match self {
            CategoryInput::Exact(i) => CATEGORIES[i].to_string(),
            CategoryInput::Capitalised(i) => {
                let c = CATEGORIES[i];
                c[..1].to_uppercase() + &c[1..]
            }
            CategoryInput::Unknown => "spaceship".into(),
        }
    }

    fn written(self) -> Option<&'static str> {
        match self {
            CategoryInput::Exact(i) | CategoryInput::Capitalised(i) => Some(CATEGORIES[i]),
            CategoryInput::Unknown => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneInput {
    /// The national number of the business's country ([`Country::national_phone`]).
    National,
    /// `+44 20 7946 0958`: international, with spaces.
    Spaced,
    /// `+14155550142`: already E.164.
    E164,
    /// `call me`.
    Letters,
    /// `+12`: too few digits.
    TooShort,
}

const SPACED_PHONE: (&str, &str) = ("+44 20 7946 0958", "+442079460958");
const E164_PHONE: &str = "+14155550142";

impl PhoneInput {
    /// The text sent, for a business in `country` (`None`: no address).
    pub fn text(self, country: Option<&str>) -> String {
        match self {
            // Without a country a national number is still a national number: the
            // first country's is as good as any.
            PhoneInput::National => country
                .and_then(self::country)
                .unwrap_or(&COUNTRIES[0])
                .national_phone
                .0
                .into(),
            PhoneInput::Spaced => SPACED_PHONE.0.into(),
            PhoneInput::E164 => E164_PHONE.into(),
            PhoneInput::Letters => "call me".into(),
            PhoneInput::TooShort => "+12".into(),
        }
    }

    /// The stored number when a create in `country` accepts it.
    fn on_create(self, country: Option<&str>) -> Option<String> {
        match self {
            PhoneInput::National => country
                .and_then(self::country)
                .map(|c| c.national_phone.1.to_string()),
            PhoneInput::Spaced => Some(SPACED_PHONE.1.into()),
            PhoneInput::E164 => Some(E164_PHONE.into()),
            PhoneInput::Letters | PhoneInput::TooShort => None,
        }
    }

    /// The stored number when an update accepts it (E.164 only).
    fn on_update(self) -> Option<String> {
        match self {
            PhoneInput::E164 => Some(E164_PHONE.into()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountryInput {
    /// `DE` (an index into [`COUNTRIES`]).
    Exact(usize),
    /// `de`: accepted and written `DE`.
    Lower(usize),
    /// `BR`: a country the app does not serve.
    Unserved,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostalInput {
    Written,
    Loose,
    Invalid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StarsInput {
    Valid(i64),
    Zero,
    Six,
    Half,
    /// Not sent on create; `null` on update.
    Missing,
    /// `"five"`.
    Word,
}

impl StarsInput {
    fn valid(self) -> Option<i64> {
        match self {
            StarsInput::Valid(n) => Some(n),
            _ => None,
        }
    }

    fn json(self) -> Option<Value> {
        match self {
            StarsInput::Valid(n) => Some(json!(n)),
            StarsInput::Zero => Some(json!(0)),
            StarsInput::Six => Some(json!(6)),
            StarsInput::Half => Some(json!(4.5)),
            StarsInput::Missing => None,
            StarsInput::Word => Some(json!("five")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextInput {
    None,
    Short(u8),
    /// 2,000 characters: the longest review.
    Longest,
    /// 2,001 characters.
    TooLong,
}

impl TextInput {
    fn text(self) -> Option<String> {
        match self {
            TextInput::None => None,
            TextInput::Short(n) => Some(format!("Visited {n} times, would go again.")),
            TextInput::Longest => Some("x".repeat(2000)),
            TextInput::TooLong => Some("x".repeat(2001)),
        }
    }

    fn valid(self) -> bool {
        self != TextInput::TooLong
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusInput {
    Valid(Status),
    /// `closed`.
    Unknown,
}

impl StatusInput {
    fn text(self) -> &'static str {
        match self {
            StatusInput::Valid(s) => s.name(),
            StatusInput::Unknown => "closed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayNameInput {
    None,
    Plain(u8),
    Padded(u8),
    Blank,
    /// 41 characters.
    TooLong,
}

impl DisplayNameInput {
    fn text(self) -> Option<String> {
        match self {
            DisplayNameInput::None => None,
            DisplayNameInput::Plain(n) => Some(format!("Guest {n}")),
            DisplayNameInput::Padded(n) => Some(format!("  Guest {n}  ")),
            DisplayNameInput::Blank => Some("  ".into()),
            DisplayNameInput::TooLong => Some("x".repeat(41)),
        }
    }

    /// `Err(())` when the app refuses it; else the stored name.
    fn stored(self) -> Result<Option<String>, ()> {
        match self {
            DisplayNameInput::Blank | DisplayNameInput::TooLong => Err(()),
            other => Ok(other.text().map(|t| t.trim().to_string())),
        }
    }
}

/// What an update of a business changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusinessChange {
    Name(NameInput),
    Category(CategoryInput),
    Phone(PhoneInput),
    Status(StatusInput),
    /// Another address (an index into [`AppState::addresses`]).
    Address(usize),
    /// Another owner (a user of the model).
    Owner(usize),
    /// `ratingCount` set by a user (the app's field).
    RatingCount(i64),
    /// `location` set by a user (it follows the address).
    Location(u8),
}

/// What an update of a review changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewChange {
    Stars(StarsInput),
    Text(TextInput),
    /// `countedStars`, the app's own field.
    CountedStars(i64),
}

/// One user action. Objects are indexes into the model's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    SignUp {
        user: usize,
        display_name: DisplayNameInput,
    },
    CreateAddress {
        by: Who,
        country: CountryInput,
        postal: PostalInput,
        spot: u8,
    },
    /// The address's `location` moves to another spot of its country.
    MoveAddress {
        by: Who,
        address: usize,
        spot: u8,
    },
    CreateBusiness {
        by: Who,
        /// The `owner` sent (the master key must send one).
        owner: Option<usize>,
        name: NameInput,
        category: CategoryInput,
        phone: Option<PhoneInput>,
        address: Option<usize>,
    },
    EditBusiness {
        by: Who,
        business: usize,
        change: BusinessChange,
    },
    /// `moderateBusiness`.
    Moderate {
        by: Who,
        business: usize,
        status: StatusInput,
    },
    WriteReview {
        by: Who,
        business: usize,
        stars: StarsInput,
        text: TextInput,
    },
    EditReview {
        by: Who,
        review: usize,
        change: ReviewChange,
    },
    DeleteReview {
        by: Who,
        review: usize,
    },
    DeleteBusiness {
        by: Who,
        business: usize,
    },
}

/// A spot of a country: its origin moved by `spot` hundredths of a degree north.
pub fn spot_location(country: &str, spot: u8) -> (f64, f64) {
    let origin = self::country(country).map_or((0.0, 0.0), |c| c.origin);
    // Rounded to the hundredth, so that the JSON of the sum is short and exact enough.
    let latitude = ((origin.0 * 100.0).round() + f64::from(spot)) / 100.0;
    (latitude, origin.1)
}

// ---------------------------------------------------------------------------------------
// What the model predicts
// ---------------------------------------------------------------------------------------

/// The answer the model predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted, with this HTTP status.
    Accepted(u16),
    /// Refused, with this HTTP status and LeanCloud error code.
    Refused(u16, i64),
}

impl Outcome {
    pub fn accepted(self) -> bool {
        matches!(self, Outcome::Accepted(_))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Accepted(status) => write!(f, "accepted (HTTP {status})"),
            Outcome::Refused(status, code) => write!(f, "refused (HTTP {status}, code {code})"),
        }
    }
}

/// A before-hook's refusal: the platform answers 400 with code 142 whatever the hook's
/// own status.
const HOOK_REFUSED: Outcome = Outcome::Refused(400, code::VALIDATION_ERROR);
/// A class permission refuses the operation.
const CLASS_PERMISSION: Outcome = Outcome::Refused(403, code::FORBIDDEN);
/// The object's ACL refuses the write.
const ACL_REFUSED: Outcome = Outcome::Refused(403, code::FORBIDDEN);
/// A user changed a read-only column.
const READ_ONLY: Outcome = Outcome::Refused(400, code::READ_ONLY_KEY);
/// A value of the wrong type for its column.
const WRONG_TYPE: Outcome = Outcome::Refused(400, code::INCORRECT_TYPE);
/// An update of an object that is gone.
const GONE: Outcome = Outcome::Refused(400, code::GENERIC);

/// Whether `who` is a moderator (the master key counts as one for the app's rules).
fn moderates(state: &AppState, who: Who) -> bool {
    match who {
        Who::Master => true,
        Who::User(u) => state.users[u].moderator,
    }
}

/// What the app answers to `step` in `state`, by the rules in the order the app and
/// the platform apply them: class permissions, the object's existence, its ACL,
/// read-only columns, then the cloud code's checks in the order the hook makes them.
pub fn outcome(state: &AppState, step: &Step) -> Outcome {
    match *step {
        Step::SignUp { user, display_name } => {
            if state.users[user].exists {
                Outcome::Refused(400, code::USERNAME_TAKEN)
            } else if display_name.stored().is_err() {
                HOOK_REFUSED
            } else {
                Outcome::Accepted(201)
            }
        }
        Step::CreateAddress {
            country, postal, ..
        } => {
            if country == CountryInput::Unserved || postal == PostalInput::Invalid {
                HOOK_REFUSED
            } else {
                Outcome::Accepted(201)
            }
        }
        Step::MoveAddress { by, .. } => match by {
            // Nobody but the master key updates addresses (class permission).
            Who::User(_) => CLASS_PERMISSION,
            Who::Master => Outcome::Accepted(200),
        },
        Step::CreateBusiness {
            by,
            owner,
            name,
            category,
            phone,
            address,
        } => {
            if name.on_create().is_none() || category.written().is_none() {
                return HOOK_REFUSED;
            }
            match (by, owner) {
                (Who::User(me), Some(named)) if named != me => return HOOK_REFUSED,
                (Who::Master, None) => return HOOK_REFUSED,
                _ => {}
            }
            let country = address.map(|a| state.addresses[a].country);
            if let Some(phone) = phone
                && phone.on_create(country).is_none()
            {
                return HOOK_REFUSED;
            }
            if address.is_none() {
                // The hook passed; the column is required.
                return Outcome::Refused(400, code::MISSING_REQUIRED_KEY);
            }
            Outcome::Accepted(201)
        }
        Step::EditBusiness {
            by,
            business,
            change,
        } => {
            let b = &state.businesses[business];
            if !b.exists {
                return GONE;
            }
            if let Who::User(u) = by {
                if b.owner != u && !state.users[u].moderator {
                    return ACL_REFUSED;
                }
                if matches!(
                    change,
                    BusinessChange::Owner(_)
                        | BusinessChange::RatingCount(_)
                        | BusinessChange::Location(_)
                ) {
                    return READ_ONLY;
                }
            }
            let valid = match change {
                BusinessChange::Name(n) => n.on_update().is_some(),
                BusinessChange::Category(c) => matches!(c, CategoryInput::Exact(_)),
                BusinessChange::Phone(p) => p.on_update().is_some(),
                BusinessChange::Status(s) => moderates(state, by) && s != StatusInput::Unknown,
                BusinessChange::Address(_) | BusinessChange::Owner(_) => true,
                // Only the master key gets here, and the sequences never send these
                // with it (see `arb_edit_business`).
                BusinessChange::RatingCount(_) | BusinessChange::Location(_) => true,
            };
            if valid {
                Outcome::Accepted(200)
            } else {
                HOOK_REFUSED
            }
        }
        Step::Moderate {
            by,
            business,
            status,
        } => {
            if !moderates(state, by) {
                Outcome::Refused(403, code::FORBIDDEN)
            } else if status == StatusInput::Unknown {
                Outcome::Refused(400, code::VALIDATION_ERROR)
            } else if !state.businesses[business].exists {
                Outcome::Refused(404, code::OBJECT_NOT_FOUND)
            } else {
                Outcome::Accepted(200)
            }
        }
        Step::WriteReview {
            by,
            business,
            stars,
            text,
        } => {
            let Who::User(author) = by else {
                return HOOK_REFUSED;
            };
            let b = &state.businesses[business];
            let refused = stars.valid().is_none()
                || !text.valid()
                || !b.exists
                || b.status != Status::Active
                || b.owner == author
                || state.review_by(author, business).is_some();
            if refused {
                HOOK_REFUSED
            } else {
                Outcome::Accepted(201)
            }
        }
        Step::EditReview { by, review, change } => {
            let r = &state.reviews[review];
            if !r.exists {
                return GONE;
            }
            if let Who::User(u) = by {
                if u != r.author {
                    return ACL_REFUSED;
                }
                if matches!(change, ReviewChange::CountedStars(_)) {
                    return READ_ONLY;
                }
            }
            // An update is checked against the column types before its beforeUpdate
            // runs (a create only after its beforeSave, which may rewrite the object).
            if change == ReviewChange::Stars(StarsInput::Word) {
                return WRONG_TYPE;
            }
            let valid = match change {
                ReviewChange::Stars(s) => s.valid().is_some(),
                ReviewChange::Text(t) => t.valid(),
                ReviewChange::CountedStars(_) => false,
            };
            if valid {
                Outcome::Accepted(200)
            } else {
                HOOK_REFUSED
            }
        }
        Step::DeleteReview { by, .. } | Step::DeleteBusiness { by, .. } => match by {
            Who::User(_) => CLASS_PERMISSION,
            Who::Master => Outcome::Accepted(200),
        },
    }
}

fn address_label(index: usize) -> String {
    format!("address {}", index + 1)
}

fn business_label(index: usize) -> String {
    format!("business {}", index + 1)
}

fn review_label(index: usize) -> String {
    format!("review {}", index + 1)
}

/// The state after `step` (unchanged when the model predicts a refusal).
pub fn next_state(mut state: AppState, step: &Step) -> AppState {
    if !outcome(&state, step).accepted() {
        return state;
    }
    match *step {
        Step::SignUp { user, display_name } => {
            let u = &mut state.users[user];
            u.exists = true;
            u.role = "customer";
            u.review_count = 0;
            u.display_name = display_name.stored().ok().flatten();
        }
        Step::CreateAddress {
            country,
            postal,
            spot,
            ..
        } => {
            let c = match country {
                CountryInput::Exact(i) | CountryInput::Lower(i) => &COUNTRIES[i],
                CountryInput::Unserved => unreachable!("refused"),
            };
            let postal_code = match postal {
                PostalInput::Written => c.postal,
                PostalInput::Loose => c.loose_postal.1,
                PostalInput::Invalid => unreachable!("refused"),
            };
            let index = state.addresses.len();
            state.addresses.push(Address {
                label: address_label(index),
                fixture: false,
                country: c.code,
                postal_code: postal_code.to_string(),
                location: spot_location(c.code, spot),
            });
        }
        Step::MoveAddress { address, spot, .. } => {
            let location = spot_location(state.addresses[address].country, spot);
            state.addresses[address].location = location;
            for b in state.businesses.iter_mut() {
                if b.exists && b.address == address {
                    b.location = location;
                }
            }
        }
        Step::CreateBusiness {
            by,
            owner,
            name,
            category,
            phone,
            address,
        } => {
            let address = address.expect("accepted creates have an address");
            let owner = match (by, owner) {
                (_, Some(o)) => o,
                (Who::User(me), None) => me,
                (Who::Master, None) => unreachable!("refused"),
            };
            let country = state.addresses[address].country;
            let index = state.businesses.len();
            state.businesses.push(Business {
                label: business_label(index),
                fixture: false,
                exists: true,
                name: name.on_create().expect("accepted"),
                category: category.written().expect("accepted").to_string(),
                phone: phone.and_then(|p| p.on_create(Some(country))),
                address,
                location: state.addresses[address].location,
                owner,
                status: Status::Pending,
                base_count: 0,
                base_sum: 0,
            });
            state.users[owner].role = "owner";
        }
        Step::EditBusiness {
            business, change, ..
        } => {
            let location_of = |a: usize| state.addresses[a].location;
            let new_location = match change {
                BusinessChange::Address(a) => Some(location_of(a)),
                _ => None,
            };
            let b = &mut state.businesses[business];
            match change {
                BusinessChange::Name(n) => b.name = n.on_update().expect("accepted"),
                BusinessChange::Category(c) => {
                    b.category = c.written().expect("accepted").to_string()
                }
                BusinessChange::Phone(p) => b.phone = p.on_update(),
                BusinessChange::Status(StatusInput::Valid(s)) => b.status = s,
                BusinessChange::Status(StatusInput::Unknown) => unreachable!("refused"),
                BusinessChange::Address(a) => {
                    b.address = a;
                    b.location = new_location.expect("set above");
                }
                BusinessChange::Owner(u) => {
                    b.owner = u;
                    state.users[u].role = "owner";
                }
                BusinessChange::RatingCount(_) | BusinessChange::Location(_) => {
                    unreachable!("only users send these, and they are refused")
                }
            }
        }
        Step::Moderate {
            business, status, ..
        } => {
            if let StatusInput::Valid(s) = status {
                state.businesses[business].status = s;
            }
        }
        Step::WriteReview {
            by,
            business,
            stars,
            text,
        } => {
            let Who::User(author) = by else {
                unreachable!("refused")
            };
            let index = state.reviews.len();
            state.reviews.push(Review {
                label: review_label(index),
                fixture: false,
                exists: true,
                business,
                author,
                stars: stars.valid().expect("accepted"),
                text: text.text(),
            });
            state.users[author].review_count += 1;
        }
        Step::EditReview { review, change, .. } => {
            let r = &mut state.reviews[review];
            match change {
                ReviewChange::Stars(s) => r.stars = s.valid().expect("accepted"),
                ReviewChange::Text(t) => r.text = t.text(),
                ReviewChange::CountedStars(_) => unreachable!("refused"),
            }
        }
        Step::DeleteReview { review, .. } => {
            let r = &mut state.reviews[review];
            if r.exists {
                r.exists = false;
                let author = r.author;
                state.users[author].review_count -= 1;
            }
        }
        Step::DeleteBusiness { business, .. } => {
            if state.businesses[business].exists {
                state.businesses[business].exists = false;
                // Its reviews go with it, and their authors' counts follow.
                for r in state.reviews.iter_mut() {
                    if r.exists && r.business == business {
                        r.exists = false;
                        state.users[r.author].review_count -= 1;
                    }
                }
            }
        }
    }
    state
}

/// Whether `step` makes sense in `state`: its objects exist in the model's lists, the
/// users acting have signed up, and a shared app's fixture rows are left alone (its
/// fixture users neither become owners nor write reviews, which would change their
/// `role` and `reviewCount` for every run sharing the app).
/// Shrinking removes steps, so a later step may lose what it relied on; this says so.
pub fn valid_step(state: &AppState, step: &Step) -> bool {
    let user_ok = |u: usize| state.users.get(u).is_some_and(|u| u.exists);
    // On a shared app, a user whose row the step may change must be the run's own.
    let may_change = |u: usize| !(state.shared && state.users[u].fixture);
    let address_ok = |a: usize| a < state.addresses.len();
    let business_ok = |b: usize| b < state.businesses.len();
    let review_ok = |r: usize| state.reviews.get(r).is_some_and(|r| !r.fixture);
    match *step {
        Step::SignUp { user, .. } => user < state.users.len() && !state.users[user].fixture,
        Step::CreateAddress { by, .. } => state.can_act(by),
        Step::MoveAddress { by, address, .. } => {
            state.can_act(by)
                && address_ok(address)
                && !(state.shared && state.addresses[address].fixture)
        }
        Step::CreateBusiness {
            by, owner, address, ..
        } => {
            let owner_ok = match (owner, by) {
                (Some(o), _) => user_ok(o) && may_change(o),
                (None, Who::User(me)) => may_change(me),
                (None, Who::Master) => true,
            };
            state.can_act(by) && owner_ok && address.is_none_or(address_ok)
        }
        Step::EditBusiness {
            by,
            business,
            change,
        } => {
            let change_ok = match change {
                BusinessChange::Address(a) => address_ok(a),
                BusinessChange::Owner(u) => user_ok(u) && may_change(u),
                BusinessChange::RatingCount(_) | BusinessChange::Location(_) => by != Who::Master,
                _ => true,
            };
            state.can_act(by) && business_ok(business) && change_ok
        }
        Step::WriteReview { by, business, .. } => {
            let author_ok = match by {
                Who::User(u) => may_change(u),
                Who::Master => true,
            };
            state.can_act(by) && author_ok && business_ok(business)
        }
        Step::Moderate { by, business, .. } | Step::DeleteBusiness { by, business } => {
            state.can_act(by) && business_ok(business)
        }
        Step::EditReview { by, review, .. } | Step::DeleteReview { by, review } => {
            state.can_act(by) && review_ok(review)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Requests, touched objects, expectations
// ---------------------------------------------------------------------------------------

/// An object of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjRef {
    User(usize),
    Address(usize),
    Business(usize),
    Review(usize),
}

impl ObjRef {
    pub fn class(self) -> &'static str {
        match self {
            ObjRef::User(_) => "_User",
            ObjRef::Address(_) => "Address",
            ObjRef::Business(_) => "Business",
            ObjRef::Review(_) => "Review",
        }
    }

    /// How a scenario names it (`None`: a scenario cannot, e.g. a fixture review).
    pub fn label(self, state: &AppState) -> Option<String> {
        match self {
            ObjRef::User(u) => Some(state.users[u].username.clone()),
            ObjRef::Address(a) => Some(state.addresses[a].label.clone()),
            ObjRef::Business(b) => Some(state.businesses[b].label.clone()),
            ObjRef::Review(r) => {
                let r = &state.reviews[r];
                (!r.fixture).then(|| r.label.clone())
            }
        }
    }
}

/// A value in a request or an expectation.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Json(Value),
    /// A pointer to the object.
    Pointer(ObjRef),
    /// The object's id, as a string.
    IdOf(ObjRef),
}

/// A request as the test sends it and a scenario writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    SignUp {
        user: usize,
        fields: Vec<(String, Cell)>,
    },
    /// Create an object; `label` names it in a scenario.
    Create {
        class: &'static str,
        label: String,
        fields: Vec<(String, Cell)>,
    },
    Update {
        target: ObjRef,
        fields: Vec<(String, Cell)>,
    },
    Delete {
        target: ObjRef,
    },
    Call {
        function: &'static str,
        params: Vec<(String, Cell)>,
    },
}

fn json_cell(value: impl Into<Value>) -> Cell {
    Cell::Json(value.into())
}

fn geo_cell((latitude, longitude): (f64, f64)) -> Cell {
    Cell::Json(json!({"__type": "GeoPoint", "latitude": latitude, "longitude": longitude}))
}

fn street_of(index: usize) -> String {
    format!("{} Generated Street", index + 1)
}

/// Who sends `step`'s request (`None`: nobody signed in, for a sign-up).
pub fn sender(step: &Step) -> Option<Who> {
    match *step {
        Step::SignUp { .. } => None,
        Step::CreateAddress { by, .. }
        | Step::MoveAddress { by, .. }
        | Step::CreateBusiness { by, .. }
        | Step::EditBusiness { by, .. }
        | Step::Moderate { by, .. }
        | Step::WriteReview { by, .. }
        | Step::EditReview { by, .. }
        | Step::DeleteReview { by, .. }
        | Step::DeleteBusiness { by, .. } => Some(by),
    }
}

/// The request `step` sends, in `state` (before the step).
pub fn request_of(state: &AppState, step: &Step) -> Request {
    match *step {
        Step::SignUp { user, display_name } => {
            let mut fields = Vec::new();
            if let Some(name) = display_name.text() {
                fields.push(("displayName".into(), json_cell(name)));
            }
            Request::SignUp { user, fields }
        }
        Step::CreateAddress {
            country,
            postal,
            spot,
            ..
        } => {
            let (code, c) = match country {
                CountryInput::Exact(i) => (COUNTRIES[i].code.to_string(), &COUNTRIES[i]),
                CountryInput::Lower(i) => (COUNTRIES[i].code.to_lowercase(), &COUNTRIES[i]),
                CountryInput::Unserved => ("BR".to_string(), &COUNTRIES[0]),
            };
            let postal_code = match postal {
                PostalInput::Written => c.postal,
                PostalInput::Loose => c.loose_postal.0,
                PostalInput::Invalid => c.bad_postal,
            };
            let index = state.addresses.len();
            Request::Create {
                class: "Address",
                label: address_label(index),
                fields: vec![
                    ("street".into(), json_cell(street_of(index))),
                    ("city".into(), json_cell("Testville")),
                    ("postalCode".into(), json_cell(postal_code)),
                    ("country".into(), json_cell(code)),
                    ("location".into(), geo_cell(spot_location(c.code, spot))),
                ],
            }
        }
        Step::MoveAddress { address, spot, .. } => Request::Update {
            target: ObjRef::Address(address),
            fields: vec![(
                "location".into(),
                geo_cell(spot_location(state.addresses[address].country, spot)),
            )],
        },
        Step::CreateBusiness {
            owner,
            name,
            category,
            phone,
            address,
            ..
        } => {
            let mut fields = vec![
                ("name".to_string(), json_cell(name.text())),
                ("category".to_string(), json_cell(category.text())),
            ];
            if let Some(a) = address {
                fields.push(("address".into(), Cell::Pointer(ObjRef::Address(a))));
            }
            if let Some(p) = phone {
                let country = address.map(|a| state.addresses[a].country);
                fields.push(("phone".into(), json_cell(p.text(country))));
            }
            if let Some(o) = owner {
                fields.push(("owner".into(), Cell::Pointer(ObjRef::User(o))));
            }
            Request::Create {
                class: "Business",
                label: business_label(state.businesses.len()),
                fields,
            }
        }
        Step::EditBusiness {
            business, change, ..
        } => {
            let b = &state.businesses[business];
            let country = state.addresses[b.address].country;
            let field = match change {
                BusinessChange::Name(n) => ("name", json_cell(n.text())),
                BusinessChange::Category(c) => ("category", json_cell(c.text())),
                BusinessChange::Phone(p) => ("phone", json_cell(p.text(Some(country)))),
                BusinessChange::Status(s) => ("status", json_cell(s.text())),
                BusinessChange::Address(a) => ("address", Cell::Pointer(ObjRef::Address(a))),
                BusinessChange::Owner(u) => ("owner", Cell::Pointer(ObjRef::User(u))),
                BusinessChange::RatingCount(n) => ("ratingCount", json_cell(n)),
                BusinessChange::Location(spot) => {
                    ("location", geo_cell(spot_location(country, spot)))
                }
            };
            Request::Update {
                target: ObjRef::Business(business),
                fields: vec![(field.0.to_string(), field.1)],
            }
        }
        Step::Moderate {
            business, status, ..
        } => Request::Call {
            function: "moderateBusiness",
            params: vec![
                ("businessId".into(), Cell::IdOf(ObjRef::Business(business))),
                ("status".into(), json_cell(status.text())),
            ],
        },
        Step::WriteReview {
            business,
            stars,
            text,
            ..
        } => {
            let mut fields = vec![(
                "business".to_string(),
                Cell::Pointer(ObjRef::Business(business)),
            )];
            if let Some(stars) = stars.json() {
                fields.push(("stars".into(), Cell::Json(stars)));
            }
            if let Some(text) = text.text() {
                fields.push(("text".into(), json_cell(text)));
            }
            Request::Create {
                class: "Review",
                label: review_label(state.reviews.len()),
                fields,
            }
        }
        Step::EditReview { review, change, .. } => {
            let field = match change {
                ReviewChange::Stars(s) => ("stars", Cell::Json(s.json().unwrap_or(Value::Null))),
                ReviewChange::Text(t) => (
                    "text",
                    Cell::Json(t.text().map_or(Value::Null, Value::from)),
                ),
                ReviewChange::CountedStars(n) => ("countedStars", json_cell(n)),
            };
            Request::Update {
                target: ObjRef::Review(review),
                fields: vec![(field.0.to_string(), field.1)],
            }
        }
        Step::DeleteReview { review, .. } => Request::Delete {
            target: ObjRef::Review(review),
        },
        Step::DeleteBusiness { business, .. } => Request::Delete {
            target: ObjRef::Business(business),
        },
    }
}

/// The objects `step` may change (in `before`, the state before it): what the test
/// reads after the step, and compares with what it read before when the step is
/// refused. A create that is accepted adds the new object (the next index).
pub fn touched(before: &AppState, step: &Step) -> Vec<ObjRef> {
    let accepted = outcome(before, step).accepted();
    let mut out = Vec::new();
    if let Some(Who::User(u)) = sender(step) {
        out.push(ObjRef::User(u));
    }
    match *step {
        Step::SignUp { user, .. } => {
            if accepted || before.users[user].exists {
                out.push(ObjRef::User(user));
            }
        }
        Step::CreateAddress { .. } => {
            if accepted {
                out.push(ObjRef::Address(before.addresses.len()));
            }
        }
        Step::MoveAddress { address, .. } => {
            out.push(ObjRef::Address(address));
            out.extend(
                (0..before.businesses.len())
                    .filter(|&b| before.businesses[b].address == address)
                    .map(ObjRef::Business),
            );
        }
        Step::CreateBusiness { owner, address, .. } => {
            if let Some(o) = owner {
                out.push(ObjRef::User(o));
            }
            if let Some(a) = address {
                out.push(ObjRef::Address(a));
            }
            if accepted {
                out.push(ObjRef::Business(before.businesses.len()));
            }
        }
        Step::EditBusiness {
            business, change, ..
        } => {
            let b = &before.businesses[business];
            out.push(ObjRef::Business(business));
            out.push(ObjRef::User(b.owner));
            match change {
                BusinessChange::Owner(u) => out.push(ObjRef::User(u)),
                BusinessChange::Address(a) => out.push(ObjRef::Address(a)),
                _ => {}
            }
        }
        Step::Moderate { business, .. } => out.push(ObjRef::Business(business)),
        Step::WriteReview { business, .. } => {
            out.push(ObjRef::Business(business));
            if accepted {
                out.push(ObjRef::Review(before.reviews.len()));
            }
        }
        Step::EditReview { review, .. } | Step::DeleteReview { review, .. } => {
            let r = &before.reviews[review];
            out.extend([
                ObjRef::Review(review),
                ObjRef::Business(r.business),
                ObjRef::User(r.author),
            ]);
        }
        Step::DeleteBusiness { business, .. } => {
            out.push(ObjRef::Business(business));
            out.push(ObjRef::User(before.businesses[business].owner));
            for (i, r) in before.reviews.iter().enumerate() {
                if r.business == business {
                    out.push(ObjRef::Review(i));
                    out.push(ObjRef::User(r.author));
                }
            }
        }
    }
    let mut seen = Vec::new();
    out.retain(|o| {
        let new = !seen.contains(o);
        seen.push(*o);
        new
    });
    out
}

/// What the model says of one object.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// The object exists and these fields (dotted paths) have these values.
    Has(ObjRef, Vec<(String, Cell)>),
    /// The object does not exist (any more).
    Gone(ObjRef),
}

fn location_fields(fields: &mut Vec<(String, Cell)>, (latitude, longitude): (f64, f64)) {
    fields.push(("location.latitude".into(), json_cell(latitude)));
    fields.push(("location.longitude".into(), json_cell(longitude)));
}

/// What `state` says of `object`.
pub fn expectation(state: &AppState, object: ObjRef) -> Expect {
    let mut fields: Vec<(String, Cell)> = Vec::new();
    match object {
        ObjRef::User(u) => {
            let u = &state.users[u];
            if !u.exists {
                return Expect::Gone(object);
            }
            fields.push(("role".into(), json_cell(u.role)));
            fields.push(("reviewCount".into(), json_cell(u.review_count)));
            if !u.fixture {
                fields.push((
                    "displayName".into(),
                    Cell::Json(u.display_name.clone().map_or(Value::Null, Value::from)),
                ));
            }
        }
        ObjRef::Address(a) => {
            let a = &state.addresses[a];
            fields.push(("country".into(), json_cell(a.country)));
            fields.push(("postalCode".into(), json_cell(a.postal_code.clone())));
            location_fields(&mut fields, a.location);
        }
        ObjRef::Business(i) => {
            let b = &state.businesses[i];
            if !b.exists {
                return Expect::Gone(object);
            }
            let (count, sum) = state.counters(i);
            fields.push(("name".into(), json_cell(b.name.clone())));
            fields.push(("category".into(), json_cell(b.category.clone())));
            fields.push((
                "phone".into(),
                Cell::Json(b.phone.clone().map_or(Value::Null, Value::from)),
            ));
            fields.push(("status".into(), json_cell(b.status.name())));
            fields.push(("owner.objectId".into(), Cell::IdOf(ObjRef::User(b.owner))));
            fields.push((
                "address.objectId".into(),
                Cell::IdOf(ObjRef::Address(b.address)),
            ));
            location_fields(&mut fields, b.location);
            fields.push(("ratingCount".into(), json_cell(count)));
            fields.push(("ratingSum".into(), json_cell(sum)));
            fields.push(("ratingAvg".into(), json_cell(rating_avg(sum, count))));
        }
        ObjRef::Review(i) => {
            let r = &state.reviews[i];
            if !r.exists {
                return Expect::Gone(object);
            }
            fields.push(("stars".into(), json_cell(r.stars)));
            fields.push((
                "text".into(),
                Cell::Json(r.text.clone().map_or(Value::Null, Value::from)),
            ));
            fields.push((
                "business.objectId".into(),
                Cell::IdOf(ObjRef::Business(r.business)),
            ));
            fields.push(("author.objectId".into(), Cell::IdOf(ObjRef::User(r.author))));
        }
    }
    Expect::Has(object, fields)
}

/// What the answer to an accepted `step` must hold besides its status (dotted paths):
/// `moderateBusiness` answers the new and the previous status.
pub fn answer_expectations(before: &AppState, step: &Step) -> Vec<(String, Cell)> {
    match *step {
        Step::Moderate {
            business,
            status: StatusInput::Valid(status),
            ..
        } if outcome(before, step).accepted() => vec![
            ("result.status".into(), json_cell(status.name())),
            (
                "result.previousStatus".into(),
                json_cell(before.businesses[business].status.name()),
            ),
        ],
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------

/// The users who can act now (fixture users, and users who signed up).
fn acting_users(state: &AppState) -> Vec<Who> {
    (0..state.users.len())
        .filter(|&u| state.users[u].exists)
        .map(Who::User)
        .collect()
}

/// The users who can act now and whose rows a step may change (on a shared app, the
/// run's own users only).
fn changeable_users(state: &AppState) -> Vec<usize> {
    (0..state.users.len())
        .filter(|&u| state.users[u].exists && !(state.shared && state.users[u].fixture))
        .collect()
}

/// A signed-in user whose row the step may change, now and then the master key.
fn arb_changeable(state: &AppState) -> BoxedStrategy<Who> {
    let users: Vec<Who> = changeable_users(state).into_iter().map(Who::User).collect();
    if users.is_empty() {
        return Just(Who::Master).boxed();
    }
    prop_oneof![
        6 => proptest::sample::select(users),
        1 => Just(Who::Master),
    ]
    .boxed()
}

/// A signed-in user, now and then the master key.
pub fn arb_who(state: &AppState) -> BoxedStrategy<Who> {
    let users = acting_users(state);
    prop_oneof![
        6 => proptest::sample::select(users),
        1 => Just(Who::Master),
    ]
    .boxed()
}

/// A signed-in user.
pub fn arb_user(state: &AppState) -> BoxedStrategy<Who> {
    proptest::sample::select(acting_users(state)).boxed()
}

/// Who may do what only the master key may (delete, move addresses): half the time the
/// master key, else any signed-in user.
pub fn arb_master_or_user(state: &AppState) -> BoxedStrategy<Who> {
    prop_oneof![Just(Who::Master), arb_user(state)].boxed()
}

/// Who moderates: mostly a moderator or the master key, else anybody.
pub fn arb_moderator(state: &AppState) -> BoxedStrategy<Who> {
    let mut moderators: Vec<Who> = (0..state.users.len())
        .filter(|&u| state.users[u].exists && state.users[u].moderator)
        .map(Who::User)
        .collect();
    moderators.push(Who::Master);
    prop_oneof![
        2 => proptest::sample::select(moderators),
        1 => arb_who(state),
    ]
    .boxed()
}

pub fn arb_name() -> impl Strategy<Value = NameInput> {
    prop_oneof![
        6 => (0u8..4).prop_map(NameInput::Plain),
        2 => (0u8..4).prop_map(NameInput::Padded),
        1 => Just(NameInput::Longest),
        1 => Just(NameInput::TooLong),
        1 => Just(NameInput::Blank),
    ]
}

pub fn arb_category() -> impl Strategy<Value = CategoryInput> {
    prop_oneof![
        6 => (0..CATEGORIES.len()).prop_map(CategoryInput::Exact),
        2 => (0..CATEGORIES.len()).prop_map(CategoryInput::Capitalised),
        1 => Just(CategoryInput::Unknown),
    ]
}

pub fn arb_phone() -> impl Strategy<Value = PhoneInput> {
    prop_oneof![
        3 => Just(PhoneInput::National),
        2 => Just(PhoneInput::Spaced),
        3 => Just(PhoneInput::E164),
        1 => Just(PhoneInput::Letters),
        1 => Just(PhoneInput::TooShort),
    ]
}

pub fn arb_country() -> impl Strategy<Value = CountryInput> {
    prop_oneof![
        6 => (0..COUNTRIES.len()).prop_map(CountryInput::Exact),
        2 => (0..COUNTRIES.len()).prop_map(CountryInput::Lower),
        1 => Just(CountryInput::Unserved),
    ]
}

pub fn arb_postal() -> impl Strategy<Value = PostalInput> {
    prop_oneof![
        5 => Just(PostalInput::Written),
        3 => Just(PostalInput::Loose),
        1 => Just(PostalInput::Invalid),
    ]
}

pub fn arb_stars() -> impl Strategy<Value = StarsInput> {
    prop_oneof![
        20 => (1i64..=5).prop_map(StarsInput::Valid),
        1 => Just(StarsInput::Zero),
        1 => Just(StarsInput::Six),
        1 => Just(StarsInput::Half),
        1 => Just(StarsInput::Missing),
        1 => Just(StarsInput::Word),
    ]
}

pub fn arb_text() -> impl Strategy<Value = TextInput> {
    prop_oneof![
        4 => Just(TextInput::None),
        6 => (0u8..5).prop_map(TextInput::Short),
        1 => Just(TextInput::Longest),
        1 => Just(TextInput::TooLong),
    ]
}

pub fn arb_status() -> impl Strategy<Value = StatusInput> {
    prop_oneof![
        3 => Just(StatusInput::Valid(Status::Active)),
        1 => Just(StatusInput::Valid(Status::Pending)),
        1 => Just(StatusInput::Valid(Status::Suspended)),
        1 => Just(StatusInput::Unknown),
    ]
}

pub fn arb_display_name() -> impl Strategy<Value = DisplayNameInput> {
    prop_oneof![
        3 => Just(DisplayNameInput::None),
        3 => (0u8..4).prop_map(DisplayNameInput::Plain),
        1 => (0u8..4).prop_map(DisplayNameInput::Padded),
        1 => Just(DisplayNameInput::Blank),
        1 => Just(DisplayNameInput::TooLong),
    ]
}

/// A sign-up of one of the users the sequences may add (again, now and then: refused).
pub fn arb_sign_up(state: &AppState) -> BoxedStrategy<Step> {
    let fresh: Vec<usize> = (0..state.users.len())
        .filter(|&u| !state.users[u].fixture)
        .collect();
    (proptest::sample::select(fresh), arb_display_name())
        .prop_map(|(user, display_name)| Step::SignUp { user, display_name })
        .boxed()
}

pub fn arb_create_address(state: &AppState) -> BoxedStrategy<Step> {
    (arb_who(state), arb_country(), arb_postal(), 0u8..3)
        .prop_map(|(by, country, postal, spot)| Step::CreateAddress {
            by,
            country,
            postal,
            spot,
        })
        .boxed()
}

/// A move of an address the run may move (on a shared app, only its own).
pub fn arb_move_address(state: &AppState) -> Option<BoxedStrategy<Step>> {
    let movable: Vec<usize> = (0..state.addresses.len())
        .filter(|&a| !(state.shared && state.addresses[a].fixture))
        .collect();
    if movable.is_empty() {
        return None;
    }
    Some(
        (
            arb_master_or_user(state),
            proptest::sample::select(movable),
            0u8..3,
        )
            .prop_map(|(by, address, spot)| Step::MoveAddress { by, address, spot })
            .boxed(),
    )
}

/// A new listing: by a user (whose own it is, or, now and then, someone else's), or by
/// the master key naming its owner. `None` when nobody could own it (a shared app
/// before the run signed anybody up).
pub fn arb_create_business(state: &AppState) -> Option<BoxedStrategy<Step>> {
    let owners = changeable_users(state);
    let first_owner = *owners.first()?;
    let addresses = state.addresses.len();
    let step = (
        arb_changeable(state),
        // Mostly: a user lists their own business, the master key names its owner.
        prop_oneof![4 => Just(None), 1 => proptest::sample::select(owners).prop_map(Some)],
        arb_name(),
        arb_category(),
        proptest::option::weighted(0.6, arb_phone()),
        proptest::option::weighted(0.9, 0..addresses),
    )
        .prop_map(move |(by, owner, name, category, phone, address)| {
            let owner = match (by, owner) {
                (Who::Master, None) => Some(first_owner),
                (Who::Master, Some(o)) => Some(o),
                (Who::User(_), o) => o,
            };
            Step::CreateBusiness {
                by,
                owner,
                name,
                category,
                phone,
                address,
            }
        })
        .boxed();
    Some(step)
}

/// Businesses a sequence may act on: all of the model's.
fn businesses(state: &AppState) -> Option<BoxedStrategy<usize>> {
    (!state.businesses.is_empty()).then(|| (0..state.businesses.len()).boxed())
}

/// A business to review: mostly an active one (the others refuse reviews).
fn reviewable(state: &AppState) -> Option<BoxedStrategy<usize>> {
    let any = businesses(state)?;
    let active: Vec<usize> = (0..state.businesses.len())
        .filter(|&b| state.businesses[b].exists && state.businesses[b].status == Status::Active)
        .collect();
    if active.is_empty() {
        return Some(any);
    }
    Some(prop_oneof![3 => proptest::sample::select(active), 1 => any].boxed())
}

pub fn arb_edit_business(state: &AppState) -> Option<BoxedStrategy<Step>> {
    let business = businesses(state)?;
    let owners_to_be = changeable_users(state);
    let new_owner = if owners_to_be.is_empty() {
        Just(None).boxed()
    } else {
        proptest::sample::select(owners_to_be)
            .prop_map(Some)
            .boxed()
    };
    let addresses = state.addresses.len();
    // Changes anyone may try, the master key included (an owner change with nobody to
    // hand the business to becomes a name change).
    let any = prop_oneof![
        3 => arb_name().prop_map(BusinessChange::Name),
        2 => arb_category().prop_map(BusinessChange::Category),
        2 => arb_phone().prop_map(BusinessChange::Phone),
        3 => arb_status().prop_map(BusinessChange::Status),
        1 => (0..addresses).prop_map(BusinessChange::Address),
        1 => (new_owner, 0u8..4).prop_map(|(owner, n)| match owner {
            Some(u) => BusinessChange::Owner(u),
            None => BusinessChange::Name(NameInput::Plain(n)),
        }),
    ];
    // The app's own fields, tried by users only (the master key may set anything).
    let tamper = prop_oneof![
        (0i64..100).prop_map(BusinessChange::RatingCount),
        (0u8..3).prop_map(BusinessChange::Location),
    ];
    // Mostly the business's owner (`None`, resolved below), else anybody.
    let owners: Vec<usize> = state.businesses.iter().map(|b| b.owner).collect();
    let by = prop_oneof![2 => Just(None), 1 => arb_who(state).prop_map(Some)];
    let user = prop_oneof![2 => Just(None), 1 => arb_user(state).prop_map(Some)];
    Some(
        prop_oneof![
            6 => (by, business.clone(), any),
            1 => (user, business, tamper),
        ]
        .prop_map(move |(by, business, change)| Step::EditBusiness {
            by: by.unwrap_or(Who::User(owners[business])),
            business,
            change,
        })
        .boxed(),
    )
}

pub fn arb_moderate(state: &AppState) -> Option<BoxedStrategy<Step>> {
    Some(
        (arb_moderator(state), businesses(state)?, arb_status())
            .prop_map(|(by, business, status)| Step::Moderate {
                by,
                business,
                status,
            })
            .boxed(),
    )
}

pub fn arb_write_review(state: &AppState) -> Option<BoxedStrategy<Step>> {
    Some(
        (
            arb_changeable(state),
            reviewable(state)?,
            arb_stars(),
            arb_text(),
        )
            .prop_map(|(by, business, stars, text)| Step::WriteReview {
                by,
                business,
                stars,
                text,
            })
            .boxed(),
    )
}

/// Reviews a scenario can name: the sequence's own.
fn own_reviews(state: &AppState) -> Option<BoxedStrategy<usize>> {
    let own: Vec<usize> = (0..state.reviews.len())
        .filter(|&r| !state.reviews[r].fixture)
        .collect();
    (!own.is_empty()).then(|| proptest::sample::select(own).boxed())
}

pub fn arb_edit_review(state: &AppState) -> Option<BoxedStrategy<Step>> {
    let review = own_reviews(state)?;
    // Mostly the author (`None`, resolved below), else anybody.
    let change = prop_oneof![
        5 => arb_stars().prop_map(ReviewChange::Stars),
        2 => arb_text().prop_map(ReviewChange::Text),
        1 => (0i64..6).prop_map(ReviewChange::CountedStars),
    ];
    let authors: Vec<usize> = state.reviews.iter().map(|r| r.author).collect();
    Some(
        (
            prop_oneof![3 => Just(None), 1 => arb_who(state).prop_map(Some)],
            review,
            change,
        )
            .prop_map(move |(by, review, change)| Step::EditReview {
                by: by.unwrap_or(Who::User(authors[review])),
                review,
                change,
            })
            .boxed(),
    )
}

pub fn arb_delete_review(state: &AppState) -> Option<BoxedStrategy<Step>> {
    Some(
        (arb_master_or_user(state), own_reviews(state)?)
            .prop_map(|(by, review)| Step::DeleteReview { by, review })
            .boxed(),
    )
}

pub fn arb_delete_business(state: &AppState) -> Option<BoxedStrategy<Step>> {
    Some(
        (arb_master_or_user(state), businesses(state)?)
            .prop_map(|(by, business)| Step::DeleteBusiness { by, business })
            .boxed(),
    )
}

/// Any next action, weighted towards the ones that move counters.
pub fn arb_step(state: &AppState) -> BoxedStrategy<Step> {
    let unsigned = state.users.iter().any(|u| !u.fixture && !u.exists);
    let mut options: Vec<(u32, BoxedStrategy<Step>)> = vec![
        (if unsigned { 3 } else { 1 }, arb_sign_up(state)),
        (2, arb_create_address(state)),
    ];
    let optional = [
        (4, arb_create_business(state)),
        (1, arb_move_address(state)),
        (5, arb_edit_business(state)),
        (4, arb_moderate(state)),
        (9, arb_write_review(state)),
        (5, arb_edit_review(state)),
        (2, arb_delete_review(state)),
        (1, arb_delete_business(state)),
    ];
    options.extend(
        optional
            .into_iter()
            .filter_map(|(weight, s)| s.map(|s| (weight, s))),
    );
    Union::new_weighted(options).boxed()
}

/// The model as a [`ReferenceStateMachine`]: it starts from [`initial_state`] for the
/// target `LC_TARGET` names and moves by [`next_state`].
pub struct AppModel;

impl ReferenceStateMachine for AppModel {
    type State = AppState;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<AppState> {
        Just(initial_state(shared_target())).boxed()
    }

    fn transitions(state: &AppState) -> BoxedStrategy<Step> {
        arb_step(state)
    }

    fn apply(state: AppState, step: &Step) -> AppState {
        next_state(state, step)
    }

    fn preconditions(state: &AppState, step: &Step) -> bool {
        valid_step(state, step)
    }
}

// ---------------------------------------------------------------------------------------
// Gherkin
// ---------------------------------------------------------------------------------------

fn gherkin_class(object: ObjRef) -> &'static str {
    object.class()
}

/// A `| field | value |` cell: a pointer as `the Business "x"`, an id as
/// `"{Business:x}"`, a long run of `x` as `a text of N characters`, other values as
/// JSON (so strings keep their spaces and numbers stay numbers).
fn render_cell(state: &AppState, cell: &Cell) -> String {
    let text = match cell {
        Cell::Pointer(o) => format!(
            "the {} \"{}\"",
            gherkin_class(*o),
            o.label(state).unwrap_or_default()
        ),
        Cell::IdOf(o) => format!(
            "\"{{{}:{}}}\"",
            gherkin_class(*o),
            o.label(state).unwrap_or_default()
        ),
        Cell::Json(Value::String(s)) if s.len() > 40 && s.chars().all(|c| c == 'x') => {
            format!("a text of {} characters", s.len())
        }
        Cell::Json(v) => v.to_string(),
    };
    text.replace('\\', "\\\\").replace('|', "\\|")
}

fn render_table(out: &mut String, state: &AppState, rows: &[(String, Cell)]) {
    let cells: Vec<(String, String)> = rows
        .iter()
        .map(|(k, v)| (k.clone(), render_cell(state, v)))
        .collect();
    let key_width = cells.iter().map(|(k, _)| k.len()).max().unwrap_or(0).max(5);
    let value_width = cells
        .iter()
        .map(|(_, v)| v.chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    let mut row = |k: &str, v: &str| {
        let pad = value_width - v.chars().count();
        let _ = writeln!(out, "      | {k:<key_width$} | {v}{} |", " ".repeat(pad));
    };
    row("field", "value");
    for (k, v) in &cells {
        row(k, v);
    }
}

/// A JSON doc string for a function's params, ids written `{Business:x}`.
fn render_params(out: &mut String, state: &AppState, params: &[(String, Cell)]) {
    let fields: Vec<String> = params
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Cell::IdOf(o) => format!(
                    "\"{{{}:{}}}\"",
                    gherkin_class(*o),
                    o.label(state).unwrap_or_default()
                ),
                Cell::Pointer(o) => format!(
                    "\"@{}:{}\"",
                    gherkin_class(*o),
                    o.label(state).unwrap_or_default()
                ),
                Cell::Json(v) => v.to_string(),
            };
            format!("{}: {value}", Value::from(k.as_str()))
        })
        .collect();
    let _ = writeln!(out, "      \"\"\"json");
    let _ = writeln!(out, "      {{{}}}", fields.join(", "));
    let _ = writeln!(out, "      \"\"\"");
}

fn render_expect(out: &mut String, state: &AppState, expect: &Expect) {
    match expect {
        Expect::Has(object, fields) => {
            let Some(label) = object.label(state) else {
                return;
            };
            let _ = writeln!(
                out,
                "    Then the {} \"{label}\" has:",
                gherkin_class(*object)
            );
            render_table(out, state, fields);
        }
        Expect::Gone(object) => {
            if let Some(label) = object.label(state) {
                let _ = writeln!(
                    out,
                    "    Then the {} \"{label}\" is gone",
                    gherkin_class(*object)
                );
            }
        }
    }
}

fn describe_step(state: &AppState, step: &Step) -> String {
    let who = match sender(step) {
        None => "nobody signed in".to_string(),
        Some(Who::Master) => "the master key".to_string(),
        Some(Who::User(u)) => state.users[u].username.clone(),
    };
    format!("{step:?} as {who}")
}

/// The sequence `steps` from `initial` as a Gherkin feature of the system suite (tagged
/// `@generated @fresh-app`), named `name`: each step sent as the model's user, then its
/// predicted answer and the predicted state of every object it touched. `note` goes
/// into the header comment (why the feature was written).
pub fn feature(name: &str, note: &str, initial: &AppState, steps: &[Step]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Written by the model-based test generative/tests/app_model.rs from a sequence of\n\
         # user actions, shrunk; each Then is what the reference model (generative/src/app.rs)\n\
         # predicts. Keep it as a regression, or delete it once the cause is fixed and\n\
         # understood."
    );
    for line in note.lines() {
        let _ = writeln!(out, "# {line}");
    }
    let _ = writeln!(out, "@generated @fresh-app");
    let _ = writeln!(out, "Feature: Generated: {name}\n");
    let _ = writeln!(out, "  Scenario: {name}");
    let mut state = initial.clone();
    // Who "I" am in the scenario: nobody until a step says.
    let mut me: Option<Who> = None;
    for (i, step) in steps.iter().enumerate() {
        let _ = writeln!(out, "    # step {}: {}", i + 1, describe_step(&state, step));
        let predicted = outcome(&state, step);
        let request = request_of(&state, step);
        if let Some(who) = sender(step)
            && me != Some(who)
        {
            match who {
                Who::Master => {
                    let _ = writeln!(out, "    Given I use the master key");
                }
                Who::User(u) => {
                    let _ = writeln!(
                        out,
                        "    Given I am signed in as \"{}\"",
                        state.users[u].username
                    );
                }
            }
            me = Some(who);
        }
        match &request {
            Request::SignUp { user, fields } => {
                let username = &state.users[*user].username;
                if fields.is_empty() {
                    let _ = writeln!(out, "    When I sign up as \"{username}\"");
                } else {
                    let _ = writeln!(out, "    When I sign up as \"{username}\" with:");
                    render_table(&mut out, &state, fields);
                }
                if predicted.accepted() {
                    me = Some(Who::User(*user));
                }
            }
            Request::Create {
                class,
                label,
                fields,
            } => {
                let _ = writeln!(out, "    When I create a {class} \"{label}\" with:");
                render_table(&mut out, &state, fields);
            }
            Request::Update { target, fields } => {
                let _ = writeln!(
                    out,
                    "    When I update the {} \"{}\" with:",
                    gherkin_class(*target),
                    target.label(&state).unwrap_or_default()
                );
                render_table(&mut out, &state, fields);
            }
            Request::Delete { target } => {
                let _ = writeln!(
                    out,
                    "    When I delete the {} \"{}\"",
                    gherkin_class(*target),
                    target.label(&state).unwrap_or_default()
                );
            }
            Request::Call { function, params } => {
                let _ = writeln!(out, "    When I call \"{function}\" with:");
                render_params(&mut out, &state, params);
            }
        }
        match predicted {
            Outcome::Accepted(status) => {
                let _ = writeln!(out, "    Then the status is {status}");
            }
            Outcome::Refused(status, code) => {
                let _ = writeln!(
                    out,
                    "    Then the request fails with {status} and code {code}"
                );
            }
        }
        let answer = answer_expectations(&state, step);
        if !answer.is_empty() {
            let _ = writeln!(out, "    Then the answer has:");
            render_table(&mut out, &state, &answer);
        }
        let objects = touched(&state, step);
        state = next_state(state, step);
        for object in objects {
            render_expect(&mut out, &state, &expectation(&state, object));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
