//! Reading the app's fields out of hook objects and function params (plain JSON with
//! LeanCloud's `__type` forms), with a message that names the field when a value has the
//! wrong shape. Pure: no storage.

use crate::errors::invalid;
use crate::rules::{self, Coordinates};
use leancloud::cloud::CloudError;
use serde_json::{Value, json};

/// A field that is absent or `null` reads as `None`.
fn present<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

/// A text field: `None` when absent, else it must be a string.
pub fn text<'a>(obj: &'a Value, key: &str) -> Result<Option<&'a str>, CloudError> {
    match present(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(format!("{key} must be a string."))),
    }
}

/// A text field that must be there; `missing` is the message when it is not.
pub fn required_text<'a>(obj: &'a Value, key: &str, missing: &str) -> Result<&'a str, CloudError> {
    text(obj, key)?.ok_or_else(|| invalid(missing))
}

/// A number field: `None` when absent, else it must be a JSON number.
pub fn number(obj: &Value, key: &str) -> Result<Option<f64>, CloudError> {
    match present(obj, key) {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(_) => Err(invalid(format!("{key} must be a number."))),
    }
}

/// A number field that must be there.
pub fn required_number(obj: &Value, key: &str) -> Result<f64, CloudError> {
    number(obj, key)?.ok_or_else(|| invalid(format!("{key} is required.")))
}

/// A boolean field: `None` when absent.
pub fn boolean(obj: &Value, key: &str) -> Result<Option<bool>, CloudError> {
    match present(obj, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(invalid(format!("{key} must be true or false."))),
    }
}

/// The object id a Pointer field names, checked to point into `class`: `None` when
/// absent.
pub fn pointer_id(obj: &Value, key: &str, class: &str) -> Result<Option<String>, CloudError> {
    let Some(value) = present(obj, key) else {
        return Ok(None);
    };
    let id = value
        .as_object()
        .filter(|p| p.get("__type").and_then(Value::as_str) == Some("Pointer"))
        .filter(|p| p.get("className").and_then(Value::as_str) == Some(class))
        .and_then(|p| p.get("objectId"))
        .and_then(Value::as_str)
        .filter(|id| is_object_id(id));
    match id {
        Some(id) => Ok(Some(id.to_string())),
        None => Err(invalid(format!("{key} must point to {}.", noun(class)))),
    }
}

/// A class as messages name it: "a user", "an Address", "a Business".
fn noun(class: &str) -> String {
    match class {
        "_User" => "a user".to_string(),
        c if c.starts_with(['A', 'E', 'I', 'O', 'U']) => format!("an {c}"),
        c => format!("a {c}"),
    }
}

/// A GeoPoint field (`{"__type":"GeoPoint","latitude","longitude"}`): `None` when absent.
pub fn geo_point(obj: &Value, key: &str) -> Result<Option<Coordinates>, CloudError> {
    let Some(value) = present(obj, key) else {
        return Ok(None);
    };
    let point = value
        .as_object()
        .filter(|p| p.get("__type").and_then(Value::as_str) == Some("GeoPoint"));
    let coordinate = |name: &str| point.and_then(|p| p.get(name)).and_then(Value::as_f64);
    match (coordinate("latitude"), coordinate("longitude")) {
        (Some(latitude), Some(longitude)) => {
            Ok(Some(rules::check_coordinates(latitude, longitude)?))
        }
        _ => Err(invalid(format!(
            "{key} must be a GeoPoint with a numeric latitude and longitude."
        ))),
    }
}

/// The GeoPoint JSON of `point`.
pub fn geo_point_json(point: Coordinates) -> Value {
    json!({"__type": "GeoPoint", "latitude": point.latitude, "longitude": point.longitude})
}

/// An object id given as a function param (`businessId`): required, and shaped like an
/// id (letters and digits), so it can go into a path as it is.
pub fn object_id_param(params: &Value, key: &str) -> Result<String, CloudError> {
    let id = required_text(params, key, &format!("{key} is required."))?;
    if is_object_id(id) {
        Ok(id.to_string())
    } else {
        Err(invalid(format!("{key} is not an object id.")))
    }
}

/// Letters and digits, 1 to 64 of them: every id LeanCloud makes (24 hex digits) and
/// imported ones.
pub fn is_object_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The `objectId` of a user JSON (a hook's `user`, a function's current user).
pub fn user_id(user: Option<&Value>) -> Option<String> {
    user?
        .get("objectId")
        .and_then(Value::as_str)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use leancloud::error::code;

    fn message<T: std::fmt::Debug>(result: Result<T, CloudError>) -> String {
        let err = result.unwrap_err();
        assert_eq!(
            (err.status, err.code),
            (400, code::VALIDATION_ERROR),
            "{err}"
        );
        err.message
    }

    #[test]
    fn absent_and_null_fields_read_as_none() {
        let obj = json!({"a": null});
        assert_eq!(text(&obj, "a").unwrap(), None);
        assert_eq!(text(&obj, "b").unwrap(), None);
        assert_eq!(number(&obj, "a").unwrap(), None);
        assert_eq!(boolean(&obj, "a").unwrap(), None);
        assert_eq!(pointer_id(&obj, "a", "Business").unwrap(), None);
        assert_eq!(geo_point(&obj, "a").unwrap(), None);
    }

    #[test]
    fn fields_of_the_wrong_type_name_the_field() {
        let obj = json!({"name": 3, "stars": "5", "banned": "yes"});
        assert_eq!(message(text(&obj, "name")), "name must be a string.");
        assert_eq!(message(number(&obj, "stars")), "stars must be a number.");
        assert_eq!(
            message(boolean(&obj, "banned")),
            "banned must be true or false."
        );
        assert_eq!(message(required_number(&obj, "lat")), "lat is required.");
        assert_eq!(
            message(required_text(&obj, "city", "Please enter the city.")),
            "Please enter the city."
        );
    }

    #[test]
    fn pointers_must_name_their_class_and_an_id() {
        let ok = json!({"business": {"__type": "Pointer", "className": "Business", "objectId": "5d8307fd17b54d0068f1aa87"}});
        assert_eq!(
            pointer_id(&ok, "business", "Business").unwrap().as_deref(),
            Some("5d8307fd17b54d0068f1aa87")
        );
        for bad in [
            json!({"business": {"__type": "Pointer", "className": "Review", "objectId": "a1"}}),
            json!({"business": {"__type": "Pointer", "className": "Business", "objectId": "../x"}}),
            json!({"business": {"className": "Business", "objectId": "a1"}}),
            json!({"business": "a1"}),
        ] {
            assert_eq!(
                message(pointer_id(&bad, "business", "Business")),
                "business must point to a Business."
            );
        }
        let address = json!({"address": true});
        assert_eq!(
            message(pointer_id(&address, "address", "Address")),
            "address must point to an Address."
        );
        let owner = json!({"owner": 1});
        assert_eq!(
            message(pointer_id(&owner, "owner", "_User")),
            "owner must point to a user."
        );
    }

    #[test]
    fn geo_points_must_be_typed_and_on_the_earth() {
        let ok = json!({"location": {"__type": "GeoPoint", "latitude": 39.9, "longitude": 116.4}});
        assert_eq!(
            geo_point(&ok, "location").unwrap(),
            Some(Coordinates {
                latitude: 39.9,
                longitude: 116.4
            })
        );
        assert_eq!(
            geo_point_json(geo_point(&ok, "location").unwrap().unwrap()),
            ok["location"]
        );
        assert_eq!(
            message(geo_point(
                &json!({"location": {"latitude": 1, "longitude": 2}}),
                "location"
            )),
            "location must be a GeoPoint with a numeric latitude and longitude."
        );
        assert_eq!(
            message(geo_point(
                &json!({"location": {"__type": "GeoPoint", "latitude": 95, "longitude": 2}}),
                "location"
            )),
            "The latitude must be between -90 and 90; 95 is not."
        );
    }

    #[test]
    fn object_id_params_are_letters_and_digits() {
        let params = json!({"businessId": "5d8307fd17b54d0068f1aa87", "bad": "a/b", "empty": ""});
        assert_eq!(
            object_id_param(&params, "businessId").unwrap(),
            "5d8307fd17b54d0068f1aa87"
        );
        assert_eq!(
            message(object_id_param(&params, "bad")),
            "bad is not an object id."
        );
        assert_eq!(
            message(object_id_param(&params, "empty")),
            "empty is not an object id."
        );
        assert_eq!(
            message(object_id_param(&params, "missing")),
            "missing is required."
        );
    }

    #[test]
    fn a_users_id_comes_from_its_json() {
        assert_eq!(
            user_id(Some(&json!({"objectId": "u1", "sessionToken": "t"}))).as_deref(),
            Some("u1")
        );
        assert_eq!(user_id(Some(&json!({}))), None);
        assert_eq!(user_id(None), None);
    }
}
