//! Pure rules of the app, with no storage and no I/O: phone numbers to E.164, postal
//! codes per country, rating arithmetic. Each rejection is a [`RuleError`] whose message
//! a client can show as it is.

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

#[cfg(test)]
mod tests {
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
}
