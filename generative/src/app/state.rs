//! The model's state: the fixture universe, users, addresses, businesses and reviews,
//! and what the model knows of each.

use super::*;
use serde_json::Value;
use std::fmt;

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

    pub(super) fn can_act(&self, who: Who) -> bool {
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
