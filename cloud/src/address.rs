//! `Address`: where a business is.
//!
//! - beforeSave: `country` one the app serves (upper case), `postalCode` valid for it
//!   (written the country's way), `street` and `city` given (trimmed), `region` optional,
//!   `location` a valid GeoPoint; ACL public read, creator write. Without a user (the
//!   master key) the ACL given is kept, else public read only: nobody but the master key
//!   can change such an address.
//! - beforeUpdate: the address after the update must pass the same rules, already in
//!   the written form (a beforeUpdate cannot rewrite the update, so "10115 " is refused
//!   with the form to send instead).
//! - afterUpdate: when `location` changed, the businesses at this address move with it.

use crate::acl;
use crate::errors::invalid;
use crate::input;
use crate::rules::{self, Coordinates};
use crate::schema::{ADDRESS, BUSINESS};
use crate::store::{self, pointer, quiet};
use crate::users::caller;
use leancloud::cloud::{CloudError, HookRequest, Registry};
use serde_json::{Value, json};

pub fn define(registry: &mut Registry) {
    registry.before_save(ADDRESS, before_save);
    registry.before_update(ADDRESS, before_update);
    registry.after_update(ADDRESS, after_update);
}

/// An address's fields as the app stores them.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedAddress {
    pub street: String,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    pub country: &'static str,
    pub location: Coordinates,
}

/// Check an address object (its fields as sent) and give the written form.
pub fn check(obj: &Value) -> Result<CheckedAddress, CloudError> {
    let street = input::required_text(obj, "street", "Please enter the street.")?.trim();
    let city = input::required_text(obj, "city", "Please enter the city.")?.trim();
    if street.is_empty() {
        return Err(invalid("Please enter the street."));
    }
    if city.is_empty() {
        return Err(invalid("Please enter the city."));
    }
    let region = input::text(obj, "region")?
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    let country = input::required_text(obj, "country", "Please choose the country.")?;
    let country = rules::normalize_country(country)?;
    let postal_code = input::required_text(obj, "postalCode", "Please enter the postal code.")?;
    let postal_code = rules::normalize_postal_code(postal_code, country)?;
    let location = input::geo_point(obj, "location")?
        .ok_or_else(|| invalid("Please give the address's location on the map."))?;
    Ok(CheckedAddress {
        street: street.to_string(),
        city: city.to_string(),
        region,
        postal_code,
        country,
        location,
    })
}

pub async fn before_save(req: HookRequest) -> Result<Value, CloudError> {
    let creator = caller(&req);
    let checked = check(&req.object)?;
    let mut address = req.object;
    address["street"] = json!(checked.street);
    address["city"] = json!(checked.city);
    match checked.region {
        Some(region) => address["region"] = json!(region),
        None => {
            if let Some(map) = address.as_object_mut() {
                map.remove("region");
            }
        }
    }
    address["postalCode"] = json!(checked.postal_code);
    address["country"] = json!(checked.country);
    address["location"] = input::geo_point_json(checked.location);
    match creator.as_deref() {
        Some(id) => address["ACL"] = acl::address(Some(id)),
        None if address.get("ACL").is_none() => address["ACL"] = acl::address(None),
        None => {}
    }
    Ok(address)
}

/// A user who is signed in (or the master key) may update; the result must be valid
/// and already written the app's way.
pub async fn before_update(req: HookRequest) -> Result<(), CloudError> {
    let checked = check(&req.object)?;
    let as_sent = |key: &str| req.object.get(key).and_then(Value::as_str);
    let written = [
        ("street", checked.street.as_str()),
        ("city", checked.city.as_str()),
        ("postalCode", checked.postal_code.as_str()),
        ("country", checked.country),
    ];
    for (key, form) in written {
        if req.is_updated(key) && as_sent(key) != Some(form) {
            return Err(invalid(format!("Write the {} as \"{form}\".", label(key))));
        }
    }
    // A country change needs a postal code of the new country, in its form.
    if req.is_updated("country") && as_sent("postalCode") != Some(&checked.postal_code) {
        return Err(invalid(format!(
            "Write the postal code as \"{}\".",
            checked.postal_code
        )));
    }
    Ok(())
}

fn label(key: &str) -> &str {
    match key {
        "postalCode" => "postal code",
        other => other,
    }
}

/// The businesses at this address move when the address does.
pub async fn after_update(req: HookRequest) -> Result<(), CloudError> {
    if !req.is_updated("location") {
        return Ok(());
    }
    let Some(id) = req.object_id() else {
        return Ok(());
    };
    let Some(location) = input::geo_point(&req.object, "location")? else {
        return Ok(());
    };
    let master = req.client().as_master();
    let businesses = store::find(
        &master
            .query(BUSINESS)
            .where_eq("address", pointer(ADDRESS, id))
            .keys("location")
            .limit(1000),
    )
    .await?;
    let location = input::geo_point_json(location);
    for business in businesses {
        if business.get("location") == Some(&location) {
            continue;
        }
        if let Some(business_id) = business.get("objectId").and_then(Value::as_str) {
            master
                .update(BUSINESS, business_id, &quiet(json!({"location": location})))
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address() -> Value {
        json!({
            "street": " 1 Chang'an Ave ", "city": "Beijing", "region": "  ",
            "postalCode": "100000", "country": "cn",
            "location": {"__type": "GeoPoint", "latitude": 39.9, "longitude": 116.4}
        })
    }

    fn message(obj: &Value) -> String {
        check(obj).unwrap_err().message
    }

    #[test]
    fn a_valid_address_is_written_the_apps_way() {
        let checked = check(&address()).unwrap();
        assert_eq!(checked.street, "1 Chang'an Ave");
        assert_eq!(checked.region, None);
        assert_eq!(checked.country, "CN");
        assert_eq!(checked.postal_code, "100000");
        let mut gb = address();
        gb["country"] = json!("GB");
        gb["postalCode"] = json!("sw1a1aa");
        assert_eq!(check(&gb).unwrap().postal_code, "SW1A 1AA");
    }

    #[test]
    fn an_invalid_address_says_what_to_fix() {
        let mut a = address();
        a["postalCode"] = json!("1000");
        assert_eq!(message(&a), "\"1000\" is not a valid postal code for CN.");
        let mut a = address();
        a["country"] = json!("BR");
        assert_eq!(
            message(&a),
            "The app does not serve BR: the country must be one of CN, US, DE, GB, FR, JP."
        );
        let mut a = address();
        a.as_object_mut().unwrap().remove("location");
        assert_eq!(
            message(&a),
            "Please give the address's location on the map."
        );
        let mut a = address();
        a["location"] = json!({"__type": "GeoPoint", "latitude": 10, "longitude": 200});
        assert_eq!(
            message(&a),
            "The longitude must be between -180 and 180; 200 is not."
        );
        let mut a = address();
        a["city"] = json!(" ");
        assert_eq!(message(&a), "Please enter the city.");
        let mut a = address();
        a.as_object_mut().unwrap().remove("postalCode");
        assert_eq!(message(&a), "Please enter the postal code.");
    }
}
