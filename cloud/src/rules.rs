//! Pure rules of the app, with no storage and no I/O: phone numbers to E.164, postal
//! codes per country, business names, categories and statuses, review stars and text,
//! GeoPoints and distances, rating arithmetic, the limits of the search function. Each
//! rejection is a [`RuleError`] whose message a client can show as it is.

use leancloud::cloud::CloudError;
use std::fmt;

/// A value the app refuses, with a message for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError(pub String);

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RuleError {}

fn reject(message: impl Into<String>) -> RuleError {
    RuleError(message.into())
}

/// The countries the app serves (ISO 3166-1 alpha-2).
pub const COUNTRIES: [&str; 6] = ["CN", "US", "DE", "GB", "FR", "JP"];

/// Country calling code, and whether national numbers start with a trunk `0`.
fn calling_code(country: &str) -> Option<(&'static str, bool)> {
    Some(match country {
        "CN" => ("86", true),
        "US" => ("1", false),
        "DE" => ("49", true),
        "GB" => ("44", true),
        "FR" => ("33", true),
        "JP" => ("81", true),
        _ => return None,
    })
}

/// A phone number in E.164 (`+<country code><number>`, at most 15 digits).
///
/// Spaces, dashes, dots and parentheses are ignored. A number starting with `+` or `00`
/// is international; any other is national to `country`, whose trunk `0` is dropped
/// (`030 1234567` in DE is `+49301234567`; US numbers may start with the `1`).
pub fn normalize_phone(raw: &str, country: &str) -> Result<String, RuleError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(reject("Please enter a phone number."));
    }
    let mut digits = String::new();
    for (i, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => {}
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => {
                return Err(reject(format!(
                    "The phone number \"{raw}\" may contain only digits, spaces, dashes, dots, parentheses and a leading +."
                )));
            }
        }
    }
    let international = if trimmed.starts_with('+') {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else {
        let (code, trunk_zero) = calling_code(country).ok_or_else(|| {
            reject(format!(
                "Phone numbers from {country} need the country code, like +86 138 0013 8000."
            ))
        })?;
        let national = if trunk_zero {
            digits.strip_prefix('0').unwrap_or(&digits).to_string()
        } else if country == "US" && digits.len() == 11 {
            digits.strip_prefix('1').unwrap_or(&digits).to_string()
        } else {
            digits
        };
        if country == "US" && national.len() != 10 {
            return Err(reject(format!(
                "The US phone number \"{raw}\" must have 10 digits after the country code."
            )));
        }
        format!("{code}{national}")
    };
    if !(8..=15).contains(&international.len()) || international.starts_with('0') {
        return Err(reject(format!(
            "\"{raw}\" is not a valid phone number: it must have 8 to 15 digits with the country code."
        )));
    }
    Ok(format!("+{international}"))
}

/// A postal code checked and written the way `country` writes it: CN, DE, FR 6/5/5
/// digits; US `12345` or `12345-6789`; JP `123-4567`; GB like `SW1A 1AA` (upper case,
/// one space).
pub fn normalize_postal_code(raw: &str, country: &str) -> Result<String, RuleError> {
    let code: String = raw.trim().to_ascii_uppercase();
    let digits_only = |n: usize, s: &str| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let bad = || {
        reject(format!(
            "\"{}\" is not a valid postal code for {country}.",
            raw.trim()
        ))
    };
    match country {
        "CN" => digits_only(6, &code).then_some(code).ok_or_else(bad),
        "DE" | "FR" => digits_only(5, &code).then_some(code).ok_or_else(bad),
        "US" => match code.split_once('-') {
            None if digits_only(5, &code) => Ok(code),
            Some((zip, plus4)) if digits_only(5, zip) && digits_only(4, plus4) => Ok(code),
            _ => Err(bad()),
        },
        "JP" => {
            let digits: String = code.chars().filter(|c| *c != '-').collect();
            if digits_only(7, &digits) && code.len() - digits.len() <= 1 {
                Ok(format!("{}-{}", &digits[..3], &digits[3..]))
            } else {
                Err(bad())
            }
        }
        "GB" => {
            let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
            if !compact.is_ascii() {
                return Err(bad());
            }
            let (outward, inward) = compact.split_at(compact.len().saturating_sub(3));
            let inward_ok = inward.len() == 3
                && inward.as_bytes()[0].is_ascii_digit()
                && inward[1..].bytes().all(|b| b.is_ascii_alphabetic());
            let outward_ok = (2..=4).contains(&outward.len())
                && outward.as_bytes()[0].is_ascii_alphabetic()
                && outward.bytes().any(|b| b.is_ascii_digit())
                && outward.bytes().all(|b| b.is_ascii_alphanumeric());
            if inward_ok && outward_ok {
                Ok(format!("{outward} {inward}"))
            } else {
                Err(bad())
            }
        }
        other => Err(reject(format!(
            "The app does not serve {other}: the country must be one of {}.",
            COUNTRIES.join(", ")
        ))),
    }
}

/// A business's rating average from its counters, to two decimals; 0 with no ratings.
pub fn rating_average(sum: i64, count: i64) -> f64 {
    if count <= 0 {
        return 0.0;
    }
    (sum as f64 / count as f64 * 100.0).round() / 100.0
}

/// Stars must be a whole number from 1 to 5.
pub fn check_stars(stars: f64) -> Result<i64, RuleError> {
    if stars.fract() == 0.0 && (1.0..=5.0).contains(&stars) {
        Ok(stars as i64)
    } else {
        Err(reject("Stars must be a whole number from 1 to 5."))
    }
}

/// The categories a business can be listed under.
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

/// A business's lifecycle: new businesses are `pending` until a moderator makes them
/// `active`; `suspended` ones are hidden again.
pub const STATUSES: [&str; 3] = ["pending", "active", "suspended"];

/// What a user is: everybody starts as a `customer`; adding a business makes them an
/// `owner`.
pub const USER_ROLES: [&str; 2] = ["customer", "owner"];

/// The longest business name, in characters.
pub const NAME_MAX_CHARS: usize = 80;
/// The longest review text, in characters.
pub const REVIEW_TEXT_MAX_CHARS: usize = 2000;
/// The largest search radius of `nearbyBusinesses`, in kilometres.
pub const MAX_RADIUS_KM: f64 = 50.0;
/// How many businesses `nearbyBusinesses` answers unless asked for fewer or more.
pub const DEFAULT_NEARBY_LIMIT: i64 = 20;
/// The most businesses `nearbyBusinesses` answers.
pub const MAX_NEARBY_LIMIT: i64 = 100;
/// The earth's radius the distances use (what LeanCloud's SDKs use for kilometres).
/// The largest business photo, in bytes.
pub const MAX_PHOTO_BYTES: u64 = 5 * 1024 * 1024;
/// The image types a business photo may be.
pub const PHOTO_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];

/// A business photo's file: an image of [`PHOTO_TYPES`] of at most [`MAX_PHOTO_BYTES`].
pub fn check_photo(mime_type: &str, size: Option<u64>) -> Result<(), CloudError> {
    if !PHOTO_TYPES.contains(&mime_type) {
        return Err(crate::errors::invalid(format!(
            "A business photo is a JPEG, PNG or WebP image; this file is {mime_type}."
        )));
    }
    match size {
        Some(n) if n > MAX_PHOTO_BYTES => Err(crate::errors::invalid(format!(
            "A business photo is at most 5 MB; this one is {:.1} MB.",
            n as f64 / (1024.0 * 1024.0)
        ))),
        _ => Ok(()),
    }
}

pub const EARTH_RADIUS_KM: f64 = 6371.0;

/// A country the app serves, from any case and surrounding spaces.
pub fn normalize_country(raw: &str) -> Result<&'static str, RuleError> {
    let code = raw.trim().to_ascii_uppercase();
    COUNTRIES.into_iter().find(|c| *c == code).ok_or_else(|| {
        reject(format!(
            "The app does not serve {}: the country must be one of {}.",
            raw.trim(),
            COUNTRIES.join(", ")
        ))
    })
}

/// A business's phone number in E.164. A national number needs the business's country
/// (from its address, or its `country` field); without one only international numbers
/// are accepted.
pub fn normalize_business_phone(raw: &str, country: Option<&str>) -> Result<String, RuleError> {
    let trimmed = raw.trim_start();
    let international = trimmed.starts_with('+') || trimmed.starts_with("00");
    match country {
        Some(country) => normalize_phone(raw, country),
        None if international || raw.trim().is_empty() => normalize_phone(raw, ""),
        None => Err(reject(
            "Write the phone number with its country code, like +86 138 0013 8000, or give the business an address first.",
        )),
    }
}

/// A business name: trimmed, 1 to 80 characters.
pub fn normalize_business_name(raw: &str) -> Result<String, RuleError> {
    let name = raw.trim();
    let chars = name.chars().count();
    if chars == 0 {
        return Err(reject("Please enter the business's name."));
    }
    if chars > NAME_MAX_CHARS {
        return Err(reject(format!(
            "The business's name may have at most {NAME_MAX_CHARS} characters; this one has {chars}."
        )));
    }
    Ok(name.to_string())
}

/// The longest display name, in characters.
pub const DISPLAY_NAME_MAX_CHARS: usize = 40;

/// A user's display name: trimmed, 1 to 40 characters.
pub fn normalize_display_name(raw: &str) -> Result<String, RuleError> {
    let name = raw.trim();
    let chars = name.chars().count();
    if chars == 0 {
        return Err(reject("Please enter a display name, or leave it out."));
    }
    if chars > DISPLAY_NAME_MAX_CHARS {
        return Err(reject(format!(
            "A display name may have at most {DISPLAY_NAME_MAX_CHARS} characters; this one has {chars}."
        )));
    }
    Ok(name.to_string())
}

/// A category from [`CATEGORIES`], in any case.
pub fn normalize_category(raw: &str) -> Result<&'static str, RuleError> {
    let wanted = raw.trim().to_lowercase();
    CATEGORIES
        .into_iter()
        .find(|c| *c == wanted)
        .ok_or_else(|| {
            reject(format!(
                "\"{}\" is not a category: choose one of {}.",
                raw.trim(),
                CATEGORIES.join(", ")
            ))
        })
}

/// A status from [`STATUSES`], exactly.
pub fn check_status(raw: &str) -> Result<&'static str, RuleError> {
    STATUSES.into_iter().find(|s| *s == raw).ok_or_else(|| {
        reject(format!(
            "\"{raw}\" is not a status: use pending, active or suspended."
        ))
    })
}

/// A user role from [`USER_ROLES`], exactly.
pub fn check_user_role(raw: &str) -> Result<&'static str, RuleError> {
    USER_ROLES.into_iter().find(|r| *r == raw).ok_or_else(|| {
        reject(format!(
            "\"{raw}\" is not a user role: use customer or owner."
        ))
    })
}

/// A review's text: at most 2,000 characters (an empty text is fine: stars alone are a
/// review).
pub fn check_review_text(text: &str) -> Result<(), RuleError> {
    let chars = text.chars().count();
    if chars > REVIEW_TEXT_MAX_CHARS {
        return Err(reject(format!(
            "A review may have at most 2,000 characters; this one has {chars}."
        )));
    }
    Ok(())
}

/// A point on the earth, in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coordinates {
    pub latitude: f64,
    pub longitude: f64,
}

/// Latitude within [-90, 90], longitude within [-180, 180].
pub fn check_coordinates(latitude: f64, longitude: f64) -> Result<Coordinates, RuleError> {
    if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
        return Err(reject(format!(
            "The latitude must be between -90 and 90; {latitude} is not."
        )));
    }
    if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
        return Err(reject(format!(
            "The longitude must be between -180 and 180; {longitude} is not."
        )));
    }
    Ok(Coordinates {
        latitude,
        longitude,
    })
}

/// The great-circle distance between two points in kilometres (haversine, on a sphere
/// of [`EARTH_RADIUS_KM`], as the storage's `$maxDistanceInKilometers` measures).
pub fn distance_km(a: Coordinates, b: Coordinates) -> f64 {
    let (lat1, lat2) = (a.latitude.to_radians(), b.latitude.to_radians());
    let dlat = lat2 - lat1;
    let dlng = (b.longitude - a.longitude).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlng / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().clamp(0.0, 1.0).asin()
}

/// `value` rounded to `decimals` places (distances go out to the metre: 3).
pub fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// A search radius: more than 0 and at most [`MAX_RADIUS_KM`] kilometres.
pub fn check_radius_km(radius: f64) -> Result<f64, RuleError> {
    if radius.is_finite() && radius > 0.0 && radius <= MAX_RADIUS_KM {
        Ok(radius)
    } else {
        Err(reject(format!(
            "The search radius must be more than 0 and at most {MAX_RADIUS_KM} km; {radius} is not."
        )))
    }
}

/// How many results to answer: [`DEFAULT_NEARBY_LIMIT`] unless given, then a whole
/// number from 1 to [`MAX_NEARBY_LIMIT`].
pub fn check_limit(limit: Option<f64>) -> Result<i64, RuleError> {
    match limit {
        None => Ok(DEFAULT_NEARBY_LIMIT),
        Some(n) if n.fract() == 0.0 && (1.0..=MAX_NEARBY_LIMIT as f64).contains(&n) => Ok(n as i64),
        Some(n) => Err(reject(format!(
            "The limit must be a whole number from 1 to {MAX_NEARBY_LIMIT}; {n} is not."
        ))),
    }
}

/// How a business's rating counters (`ratingCount`, `ratingSum`) move when one review's
/// counted stars go from `counted` to `now` (`None`: not counted / no longer there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RatingChange {
    pub count: i64,
    pub sum: i64,
}

impl RatingChange {
    /// Whether the counters stay as they are.
    pub fn is_none(&self) -> bool {
        self.count == 0 && self.sum == 0
    }
}

/// The change of a review going from `counted` stars to `now` stars: a new review adds
/// one rating and its stars, a deleted one takes them away, an edit moves the sum only.
pub fn rating_change(counted: Option<i64>, now: Option<i64>) -> RatingChange {
    RatingChange {
        count: i64::from(now.is_some()) - i64::from(counted.is_some()),
        sum: now.unwrap_or(0) - counted.unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_photo_is_a_small_enough_image() {
        use super::{MAX_PHOTO_BYTES, check_photo};
        assert!(check_photo("image/png", Some(1024)).is_ok());
        assert!(
            check_photo("image/jpeg", None).is_ok(),
            "a size the upload never gave"
        );
        assert!(check_photo("image/webp", Some(MAX_PHOTO_BYTES)).is_ok());
        let big = check_photo("image/png", Some(MAX_PHOTO_BYTES + 1)).unwrap_err();
        assert!(big.message.contains("at most 5 MB"), "{}", big.message);
        let text = check_photo("text/plain", Some(10)).unwrap_err();
        assert!(text.message.contains("text/plain"), "{}", text.message);
    }

    use super::*;

    #[test]
    fn national_numbers_get_their_country_code_and_lose_the_trunk_zero() {
        assert_eq!(
            normalize_phone("138 0013 8000", "CN").unwrap(),
            "+8613800138000"
        );
        assert_eq!(
            normalize_phone("030 1234567", "DE").unwrap(),
            "+49301234567"
        );
        assert_eq!(
            normalize_phone("(415) 555-2671", "US").unwrap(),
            "+14155552671"
        );
        assert_eq!(
            normalize_phone("1-415-555-2671", "US").unwrap(),
            "+14155552671"
        );
        assert_eq!(
            normalize_phone("020 7946 0958", "GB").unwrap(),
            "+442079460958"
        );
        assert_eq!(
            normalize_phone("03-1234-5678", "JP").unwrap(),
            "+81312345678"
        );
    }

    #[test]
    fn international_numbers_keep_their_own_country_code() {
        assert_eq!(
            normalize_phone("+33 1 23 45 67 89", "CN").unwrap(),
            "+33123456789"
        );
        assert_eq!(
            normalize_phone("0049 30 1234567", "US").unwrap(),
            "+49301234567"
        );
    }

    #[test]
    fn bad_phone_numbers_are_refused_with_a_message() {
        for (raw, country) in [
            ("", "CN"),
            ("call me", "CN"),
            ("555-2671", "US"),
            ("+12", "US"),
            ("+1234567890123456", "US"),
            ("12345678", "BR"),
        ] {
            let err = normalize_phone(raw, country).unwrap_err();
            assert!(!err.0.is_empty(), "{raw}");
        }
    }

    #[test]
    fn postal_codes_are_checked_and_written_per_country() {
        assert_eq!(normalize_postal_code("100000", "CN").unwrap(), "100000");
        assert_eq!(normalize_postal_code(" 94103 ", "US").unwrap(), "94103");
        assert_eq!(
            normalize_postal_code("94103-1234", "US").unwrap(),
            "94103-1234"
        );
        assert_eq!(normalize_postal_code("10115", "DE").unwrap(), "10115");
        assert_eq!(normalize_postal_code("75001", "FR").unwrap(), "75001");
        assert_eq!(normalize_postal_code("1000001", "JP").unwrap(), "100-0001");
        assert_eq!(normalize_postal_code("sw1a1aa", "GB").unwrap(), "SW1A 1AA");
        assert_eq!(normalize_postal_code("M1 1AE", "GB").unwrap(), "M1 1AE");
    }

    #[test]
    fn wrong_postal_codes_name_the_code_and_the_country() {
        for (raw, country) in [
            ("10000", "CN"),
            ("9410", "US"),
            ("94103-12", "US"),
            ("1011A", "DE"),
            ("100-00012", "JP"),
            ("SW1A", "GB"),
            ("£1 1AA", "GB"),
            ("１２３４５", "DE"),
            ("12345", "BR"),
        ] {
            let err = normalize_postal_code(raw, country).unwrap_err();
            assert!(err.0.contains(country), "{raw} {country}: {err}");
        }
    }

    #[test]
    fn ratings_average_to_two_decimals_and_stars_are_whole_numbers() {
        assert_eq!(rating_average(0, 0), 0.0);
        assert_eq!(rating_average(14, 3), 4.67);
        assert_eq!(check_stars(5.0), Ok(5));
        assert!(check_stars(4.5).is_err());
        assert!(check_stars(0.0).is_err());
        assert!(check_stars(6.0).is_err());
    }

    fn message<T: std::fmt::Debug>(result: Result<T, RuleError>) -> String {
        result.unwrap_err().0
    }

    #[test]
    fn a_national_number_without_a_country_is_refused_with_a_way_out() {
        assert_eq!(
            message(normalize_phone("555-2671", "US")),
            "The US phone number \"555-2671\" must have 10 digits after the country code."
        );
        assert_eq!(
            message(normalize_phone("12345678", "BR")),
            "Phone numbers from BR need the country code, like +86 138 0013 8000."
        );
        assert_eq!(
            message(normalize_phone("+12", "US")),
            "\"+12\" is not a valid phone number: it must have 8 to 15 digits with the country code."
        );
    }

    #[test]
    fn business_phones_use_the_businesss_country_for_national_numbers() {
        assert_eq!(
            normalize_business_phone("010 6552 9988", Some("CN")).unwrap(),
            "+861065529988"
        );
        assert_eq!(
            normalize_business_phone("+49 30 1234567", None).unwrap(),
            "+49301234567"
        );
        assert_eq!(
            normalize_business_phone("0049 30 1234567", None).unwrap(),
            "+49301234567"
        );
        assert_eq!(
            message(normalize_business_phone("010 6552 9988", None)),
            "Write the phone number with its country code, like +86 138 0013 8000, or give the business an address first."
        );
        assert_eq!(
            message(normalize_business_phone("  ", None)),
            "Please enter a phone number."
        );
    }

    #[test]
    fn countries_are_the_ones_the_app_serves_in_any_case() {
        assert_eq!(normalize_country(" cn ").unwrap(), "CN");
        assert_eq!(normalize_country("Jp").unwrap(), "JP");
        assert_eq!(
            message(normalize_country("BR")),
            "The app does not serve BR: the country must be one of CN, US, DE, GB, FR, JP."
        );
        assert_eq!(
            message(normalize_country("")),
            "The app does not serve : the country must be one of CN, US, DE, GB, FR, JP."
        );
    }

    #[test]
    fn business_names_are_trimmed_and_1_to_80_characters() {
        assert_eq!(
            normalize_business_name("  Blue Bottle  ").unwrap(),
            "Blue Bottle"
        );
        let eighty = "é".repeat(80);
        assert_eq!(normalize_business_name(&eighty).unwrap(), eighty);
        assert_eq!(
            message(normalize_business_name(" \t ")),
            "Please enter the business's name."
        );
        assert_eq!(
            message(normalize_business_name(&"a".repeat(81))),
            "The business's name may have at most 80 characters; this one has 81."
        );
    }

    #[test]
    fn display_names_are_trimmed_and_1_to_40_characters() {
        assert_eq!(normalize_display_name(" Ann ").unwrap(), "Ann");
        assert_eq!(
            normalize_display_name(&"名".repeat(40)).unwrap(),
            "名".repeat(40)
        );
        assert_eq!(
            message(normalize_display_name("  ")),
            "Please enter a display name, or leave it out."
        );
        assert_eq!(
            message(normalize_display_name(&"a".repeat(41))),
            "A display name may have at most 40 characters; this one has 41."
        );
    }

    #[test]
    fn categories_come_from_the_fixed_list_in_any_case() {
        for category in CATEGORIES {
            assert_eq!(normalize_category(category).unwrap(), category);
        }
        assert_eq!(normalize_category(" Cafe ").unwrap(), "cafe");
        assert_eq!(
            message(normalize_category("casino")),
            "\"casino\" is not a category: choose one of cafe, restaurant, bar, bakery, grocery, salon, repair, other."
        );
    }

    #[test]
    fn statuses_and_user_roles_are_exact_words() {
        assert_eq!(check_status("active").unwrap(), "active");
        assert_eq!(
            message(check_status("Active")),
            "\"Active\" is not a status: use pending, active or suspended."
        );
        assert_eq!(check_user_role("owner").unwrap(), "owner");
        assert_eq!(
            message(check_user_role("admin")),
            "\"admin\" is not a user role: use customer or owner."
        );
    }

    #[test]
    fn review_texts_have_at_most_2000_characters() {
        assert_eq!(check_review_text(""), Ok(()));
        assert_eq!(check_review_text(&"好".repeat(2000)), Ok(()));
        assert_eq!(
            message(check_review_text(&"a".repeat(2001))),
            "A review may have at most 2,000 characters; this one has 2001."
        );
    }

    #[test]
    fn stars_outside_1_to_5_or_fractional_are_refused_with_one_message() {
        for stars in [1.0, 2.0, 3.0, 4.0, 5.0] {
            assert_eq!(check_stars(stars), Ok(stars as i64));
        }
        for stars in [0.0, -1.0, 5.5, 6.0, f64::NAN] {
            assert_eq!(
                message(check_stars(stars)),
                "Stars must be a whole number from 1 to 5."
            );
        }
    }

    #[test]
    fn coordinates_must_be_on_the_earth() {
        assert_eq!(
            check_coordinates(-90.0, 180.0).unwrap(),
            Coordinates {
                latitude: -90.0,
                longitude: 180.0
            }
        );
        assert_eq!(
            message(check_coordinates(91.0, 0.0)),
            "The latitude must be between -90 and 90; 91 is not."
        );
        assert_eq!(
            message(check_coordinates(0.0, -180.5)),
            "The longitude must be between -180 and 180; -180.5 is not."
        );
        assert!(check_coordinates(f64::NAN, 0.0).is_err());
    }

    #[test]
    fn distances_are_great_circle_kilometres() {
        let tiananmen = Coordinates {
            latitude: 39.9087,
            longitude: 116.3975,
        };
        let shanghai = Coordinates {
            latitude: 31.2304,
            longitude: 121.4737,
        };
        assert_eq!(distance_km(tiananmen, tiananmen), 0.0);
        let d = distance_km(tiananmen, shanghai);
        assert!((1060.0..1075.0).contains(&d), "{d}");
        // One degree of latitude is 1/360 of the circumference.
        let north = Coordinates {
            latitude: 40.9087,
            ..tiananmen
        };
        assert_eq!(
            round_to(distance_km(tiananmen, north), 3),
            round_to(EARTH_RADIUS_KM * std::f64::consts::PI / 180.0, 3)
        );
        assert_eq!(round_to(1.23456, 3), 1.235);
    }

    #[test]
    fn search_radius_and_limit_have_bounds_and_a_default() {
        assert_eq!(check_radius_km(0.5), Ok(0.5));
        assert_eq!(check_radius_km(50.0), Ok(50.0));
        assert_eq!(
            message(check_radius_km(0.0)),
            "The search radius must be more than 0 and at most 50 km; 0 is not."
        );
        assert!(check_radius_km(50.1).is_err());
        assert!(check_radius_km(f64::INFINITY).is_err());
        assert_eq!(check_limit(None), Ok(20));
        assert_eq!(check_limit(Some(1.0)), Ok(1));
        assert_eq!(check_limit(Some(100.0)), Ok(100));
        assert_eq!(
            message(check_limit(Some(0.0))),
            "The limit must be a whole number from 1 to 100; 0 is not."
        );
        assert!(check_limit(Some(2.5)).is_err());
        assert!(check_limit(Some(101.0)).is_err());
    }

    #[test]
    fn rating_changes_add_remove_and_move_one_review() {
        assert_eq!(
            rating_change(None, Some(4)),
            RatingChange { count: 1, sum: 4 }
        );
        assert_eq!(
            rating_change(Some(4), Some(2)),
            RatingChange { count: 0, sum: -2 }
        );
        assert_eq!(
            rating_change(Some(3), None),
            RatingChange { count: -1, sum: -3 }
        );
        assert!(rating_change(Some(5), Some(5)).is_none());
        assert!(rating_change(None, None).is_none());
        // Counters after 5, 4 and 4 stars, then the 5 edited down to 1.
        let mut count = 0;
        let mut sum = 0;
        for change in [
            rating_change(None, Some(5)),
            rating_change(None, Some(4)),
            rating_change(None, Some(4)),
            rating_change(Some(5), Some(1)),
        ] {
            count += change.count;
            sum += change.sum;
        }
        assert_eq!((count, sum, rating_average(sum, count)), (3, 9, 3.0));
        assert_eq!(rating_average(-1, 0), 0.0);
        assert_eq!(rating_average(2, 3), 0.67);
    }
}
