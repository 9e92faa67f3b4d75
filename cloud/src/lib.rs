//! # cloud
//!
//! The app's cloud code: a local-business directory (`Business`, `Address`, `Review`,
//! users). This crate depends on the protocol crate only and plugs into the emulator
//! through the cloud-code registry ([`registry`]); the `cloud-engine` program serves the
//! same registry over the engine protocol.
//!
//! # Layout
//!
//! - [`rules`]: the pure rules the hooks apply (phone numbers, postal codes, ratings),
//!   with the messages a client can show.
//! - [`registry`]: the app's functions and hooks, as the engine and the emulator run them.
//! - `src/bin/cloud-engine.rs`: serves [`registry`] with `EngineConfig::from_env()`.

pub mod rules;

use leancloud::cloud::{CloudError, FunctionRequest, Registry};
use serde_json::{Value, json};

/// The app's cloud code. Functions:
///
/// - `normalizePhone {phone, country?}`: the number in E.164 (`"+8613800138000"`), or
///   400 (code 1) with the rule's message. `country` (ISO 3166-1 alpha-2, any case) is
///   needed for national numbers only.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    registry.define("normalizePhone", |req| async move { normalize_phone(&req) });
    registry
}

fn normalize_phone(req: &FunctionRequest) -> Result<Value, CloudError> {
    let text = |key: &str| match req.params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(CloudError::new(format!("{key} must be a string."))),
    };
    let phone = text("phone")?.unwrap_or_default();
    let country = text("country")?
        .unwrap_or_default()
        .trim()
        .to_ascii_uppercase();
    let international = {
        let t = phone.trim_start();
        t.starts_with('+') || t.starts_with("00")
    };
    if country.is_empty() && !international && !phone.trim().is_empty() {
        return Err(CloudError::new(format!(
            "Give the phone number's country (one of {}), or write it with its country code, like +86 138 0013 8000.",
            rules::COUNTRIES.join(", ")
        )));
    }
    rules::normalize_phone(&phone, &country)
        .map(|e164| json!(e164))
        .map_err(|e| CloudError::new(e.0))
}
