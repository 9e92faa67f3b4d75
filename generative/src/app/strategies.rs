//! Strategies: the steps a sequence may take from a state (`arb_*`), and the state
//! machine proptest drives.

use super::*;
use proptest::prelude::*;
use proptest::strategy::Union;
use proptest_state_machine::ReferenceStateMachine;

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
