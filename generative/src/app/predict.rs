//! What the model predicts of a step: its [`Outcome`] (accepted with a status, refused
//! with a status and a code), and the state after it.

use super::*;
use leancloud::error::code;
use std::fmt;

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

pub(super) fn address_label(index: usize) -> String {
    format!("address {}", index + 1)
}

pub(super) fn business_label(index: usize) -> String {
    format!("business {}", index + 1)
}

pub(super) fn review_label(index: usize) -> String {
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
