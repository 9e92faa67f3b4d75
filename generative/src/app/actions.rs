//! The actions a sequence takes and their inputs: who sends ([`Who`]), names, categories,
//! phones, postal codes, stars and texts as typed, and the [`Step`]s themselves.

use super::*;
use leancloud::Caller;
use serde_json::{Value, json};

/// Who sends a step: the master key, or a user of the model (an index into
/// [`AppState::users`]) with their session. Narrower than [`leancloud::Caller`] on purpose:
/// the model never sends without keys or as nobody signed in (a signed-out reader is
/// `None` where a step may have one), so its predictions need not say what such a step
/// would do; [`Caller::from`] names a sender in the shared vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Master,
    User(usize),
}

impl From<Who> for Caller<usize> {
    fn from(who: Who) -> Self {
        match who {
            Who::Master => Caller::Master,
            Who::User(user) => Caller::User(user),
        }
    }
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
    pub(super) fn on_create(self) -> Option<String> {
        match self {
            NameInput::Plain(_) | NameInput::Longest => Some(self.text()),
            NameInput::Padded(_) => Some(self.text().trim().to_string()),
            NameInput::TooLong | NameInput::Blank => None,
        }
    }

    /// The stored name when an update accepts it (only the written form).
    pub(super) fn on_update(self) -> Option<String> {
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

    pub(super) fn written(self) -> Option<&'static str> {
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
    pub(super) fn on_create(self, country: Option<&str>) -> Option<String> {
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
    pub(super) fn on_update(self) -> Option<String> {
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
    pub(super) fn valid(self) -> Option<i64> {
        match self {
            StarsInput::Valid(n) => Some(n),
            _ => None,
        }
    }

    pub(super) fn json(self) -> Option<Value> {
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
    pub(super) fn text(self) -> Option<String> {
        match self {
            TextInput::None => None,
            TextInput::Short(n) => Some(format!("Visited {n} times, would go again.")),
            TextInput::Longest => Some("x".repeat(2000)),
            TextInput::TooLong => Some("x".repeat(2001)),
        }
    }

    pub(super) fn valid(self) -> bool {
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
    pub(super) fn text(self) -> &'static str {
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
    pub(super) fn text(self) -> Option<String> {
        match self {
            DisplayNameInput::None => None,
            DisplayNameInput::Plain(n) => Some(format!("Guest {n}")),
            DisplayNameInput::Padded(n) => Some(format!("  Guest {n}  ")),
            DisplayNameInput::Blank => Some("  ".into()),
            DisplayNameInput::TooLong => Some("x".repeat(41)),
        }
    }

    /// `Err(())` when the app refuses it; else the stored name.
    pub(super) fn stored(self) -> Result<Option<String>, ()> {
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
