//! Geo queries: `$nearSphere` with distance limits and `$within: {$box}`.
//!
//! Distances are great-circle angles in radians (what `$maxDistance` means); kilometres
//! and miles convert with the radii the JavaScript SDK uses.

use super::values::{Found, Path};
use crate::store::keys;
use crate::store::{StoredObject, Val};
use leancloud::LcError;
use serde_json::Value;

pub(crate) const EARTH_RADIUS_KM: f64 = 6371.0;
pub(crate) const EARTH_RADIUS_MILES: f64 = 3958.8;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct GeoPoint {
    pub latitude: f64,
    pub longitude: f64,
}

impl GeoPoint {
    /// A stored GeoPoint field (`{"__type":"GeoPoint","latitude","longitude"}`).
    pub(crate) fn stored(v: Val<'_>) -> Option<GeoPoint> {
        let m = v.as_object()?;
        if m.get_sym(keys::TYPE).and_then(Val::as_str) != Some("GeoPoint") {
            return None;
        }
        Some(GeoPoint {
            latitude: m.get_sym(keys::LATITUDE)?.as_f64()?,
            longitude: m.get_sym(keys::LONGITUDE)?.as_f64()?,
        })
    }

    /// A GeoPoint in a query (`__type` optional): 102 when misshapen, 302 out of range.
    pub(crate) fn operand(v: &Value, op: &str) -> Result<GeoPoint, LcError> {
        let m = v
            .as_object()
            .ok_or_else(|| LcError::invalid_query(format!("{op} expects a GeoPoint")))?;
        let coord = |name: &str| {
            m.get(name)
                .and_then(Value::as_f64)
                .ok_or_else(|| LcError::invalid_query(format!("{op} expects a GeoPoint")))
        };
        let point = GeoPoint {
            latitude: coord("latitude")?,
            longitude: coord("longitude")?,
        };
        if !(-90.0..=90.0).contains(&point.latitude) {
            return Err(LcError::invalid_geopoint(format!(
                "latitude {} is outside [-90, 90]",
                point.latitude
            )));
        }
        if !(-180.0..=180.0).contains(&point.longitude) {
            return Err(LcError::invalid_geopoint(format!(
                "longitude {} is outside [-180, 180]",
                point.longitude
            )));
        }
        Ok(point)
    }

    /// Great-circle distance in radians (haversine).
    pub(crate) fn radians_to(&self, other: &GeoPoint) -> f64 {
        let (lat1, lat2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let dlat = lat2 - lat1;
        let dlng = (other.longitude - self.longitude).to_radians();
        let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlng / 2.0).sin().powi(2);
        2.0 * h.sqrt().clamp(0.0, 1.0).asin()
    }
}

fn stored_point(found: Found<'_>) -> Option<GeoPoint> {
    match found {
        Found::Val(v) => GeoPoint::stored(v),
        _ => None,
    }
}

/// `$nearSphere` with its optional distance bounds (radians, inclusive).
#[derive(Debug, Clone)]
pub(crate) struct Near {
    pub center: GeoPoint,
    pub min: f64,
    pub max: f64,
}

impl Near {
    pub(crate) fn test(&self, found: Found<'_>) -> bool {
        stored_point(found).is_some_and(|p| {
            let d = self.center.radians_to(&p);
            d >= self.min && d <= self.max
        })
    }
}

/// Which field a `$nearSphere` sorts by when no explicit `order` is given.
#[derive(Debug, Clone)]
pub(crate) struct NearSort {
    pub path: Path,
    pub center: GeoPoint,
}

impl NearSort {
    pub(crate) fn distance(&self, obj: &StoredObject) -> f64 {
        self.path
            .resolve(obj)
            .and_then(stored_point)
            .map_or(f64::INFINITY, |p| self.center.radians_to(&p))
    }
}

/// `$within: {"$box": [southwest, northeast]}`. A box whose west edge is east of its east
/// edge crosses the antimeridian.
#[derive(Debug, Clone)]
pub(crate) struct GeoBox {
    pub southwest: GeoPoint,
    pub northeast: GeoPoint,
}

impl GeoBox {
    pub(crate) fn parse(v: &Value) -> Result<GeoBox, LcError> {
        let bad = || LcError::invalid_query("$within expects {\"$box\": [southwest, northeast]}");
        let m = v.as_object().ok_or_else(bad)?;
        if m.len() != 1 {
            return Err(bad());
        }
        let corners = m.get("$box").and_then(Value::as_array).ok_or_else(bad)?;
        let [sw, ne] = corners.as_slice() else {
            return Err(bad());
        };
        // A corner is a GeoPoint, or MongoDB's legacy pair `[longitude, latitude]` (what
        // the Python SDK's `within_geo_box` sends for tuples).
        let corner = |v: &Value| match v.as_array().map(Vec::as_slice) {
            Some([lng, lat]) => match (lng.as_f64(), lat.as_f64()) {
                (Some(lng), Some(lat)) => GeoPoint::operand(
                    &serde_json::json!({"latitude": lat, "longitude": lng}),
                    "$box",
                ),
                _ => Err(bad()),
            },
            _ => GeoPoint::operand(v, "$box"),
        };
        let southwest = corner(sw)?;
        let northeast = corner(ne)?;
        if southwest.latitude > northeast.latitude {
            return Err(LcError::invalid_query(
                "the southwest corner of a $box must be south of its northeast corner",
            ));
        }
        Ok(GeoBox {
            southwest,
            northeast,
        })
    }

    pub(crate) fn test(&self, found: Found<'_>) -> bool {
        stored_point(found).is_some_and(|p| {
            let lat_ok =
                p.latitude >= self.southwest.latitude && p.latitude <= self.northeast.latitude;
            let (west, east) = (self.southwest.longitude, self.northeast.longitude);
            let lng_ok = if west <= east {
                p.longitude >= west && p.longitude <= east
            } else {
                p.longitude >= west || p.longitude <= east
            };
            lat_ok && lng_ok
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarter_of_the_equator_is_half_pi_radians() {
        let a = GeoPoint {
            latitude: 0.0,
            longitude: 0.0,
        };
        let b = GeoPoint {
            latitude: 0.0,
            longitude: 90.0,
        };
        assert!((a.radians_to(&b) - std::f64::consts::FRAC_PI_2).abs() < 1e-12);
        assert_eq!(a.radians_to(&a), 0.0);
    }
}
