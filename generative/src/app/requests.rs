//! The request a step sends ([`request_of`]), the objects it touches ([`touched`]) and
//! what they must look like afterwards ([`expectation`]).

use super::*;
use serde_json::{Value, json};

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
