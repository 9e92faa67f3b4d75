//! The kinds of hook, their names in every place a name appears (the engine path, the
//! metadata list, `__ignore_hooks`), and what a hook's run comes to ([`HookOutcome`]).

use serde_json::{Value, json};
use std::fmt;

/// Which verification an `onVerified` hook follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VerifyType {
    Sms,
    Email,
}

impl VerifyType {
    /// `sms` or `email`, as in `/1.1/functions/onVerified/<type>`.
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyType::Sms => "sms",
            VerifyType::Email => "email",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "sms" => Some(VerifyType::Sms),
            "email" => Some(VerifyType::Email),
            _ => None,
        }
    }
}

/// A class hook or a user hook (protocol notes §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookKind {
    BeforeSave,
    AfterSave,
    BeforeUpdate,
    AfterUpdate,
    BeforeDelete,
    AfterDelete,
    /// `_User/onLogin`: a login attempt; an error refuses it.
    OnLogin,
    /// `onVerified/<sms|email>`: a user verified a phone number or an email address.
    OnVerified(VerifyType),
    /// `_User/onAuthData`: the authData of a third-party login, to check or transform.
    OnAuthData,
}

/// The hooks a before-hook's own writes skip (`disableBeforeHook`).
const BEFORE_HOOKS: [&str; 3] = ["beforeSave", "beforeUpdate", "beforeDelete"];
/// The hooks an after-hook's own writes skip (`disableAfterHook`).
const AFTER_HOOKS: [&str; 3] = ["afterSave", "afterUpdate", "afterDelete"];

impl HookKind {
    /// The six class hooks, in the order the engine documents them.
    pub const CLASS_HOOKS: [HookKind; 6] = [
        HookKind::BeforeSave,
        HookKind::AfterSave,
        HookKind::BeforeUpdate,
        HookKind::AfterUpdate,
        HookKind::BeforeDelete,
        HookKind::AfterDelete,
    ];

    /// The name in paths and `__ignore_hooks`: `beforeSave`, ..., `onLogin`,
    /// `onVerified`, `onAuthData`.
    pub fn name(self) -> &'static str {
        match self {
            HookKind::BeforeSave => "beforeSave",
            HookKind::AfterSave => "afterSave",
            HookKind::BeforeUpdate => "beforeUpdate",
            HookKind::AfterUpdate => "afterUpdate",
            HookKind::BeforeDelete => "beforeDelete",
            HookKind::AfterDelete => "afterDelete",
            HookKind::OnLogin => "onLogin",
            HookKind::OnVerified(_) => "onVerified",
            HookKind::OnAuthData => "onAuthData",
        }
    }

    /// A class hook from its path name (`beforeSave`, ...).
    pub fn class_hook(name: &str) -> Option<HookKind> {
        HookKind::CLASS_HOOKS.into_iter().find(|k| k.name() == name)
    }

    /// The hook an engine path `/1.1/functions/<first>/<second>` names, with its class:
    /// `onVerified/<sms|email>`, `_User/onLogin`, `_User/onAuthData`, `<Class>/<classHook>`.
    /// `None` for anything else (the engine then answers "no such hook").
    pub fn from_path(first: &str, second: &str) -> Option<(String, HookKind)> {
        let kind = match (first, second) {
            ("onVerified", t) => HookKind::OnVerified(VerifyType::parse(t)?),
            ("_User", "onLogin") => HookKind::OnLogin,
            ("_User", "onAuthData") => HookKind::OnAuthData,
            (_, hook) => HookKind::class_hook(hook)?,
        };
        let class = if kind.is_user_hook() { "_User" } else { first };
        Some((class.to_string(), kind))
    }

    /// `onLogin`, `onVerified`, `onAuthData`: hooks of `_User` that are not class hooks.
    pub fn is_user_hook(self) -> bool {
        matches!(
            self,
            HookKind::OnLogin | HookKind::OnVerified(_) | HookKind::OnAuthData
        )
    }

    /// `beforeSave`, `beforeUpdate`, `beforeDelete`: the hooks that can stop a write.
    pub fn is_before(self) -> bool {
        matches!(
            self,
            HookKind::BeforeSave | HookKind::BeforeUpdate | HookKind::BeforeDelete
        )
    }

    /// `afterSave`, `afterUpdate`, `afterDelete`.
    pub fn is_after(self) -> bool {
        matches!(
            self,
            HookKind::AfterSave | HookKind::AfterUpdate | HookKind::AfterDelete
        )
    }

    /// The name `GET /1.1/functions/_ops/metadatas` lists: `__before_save_for_<Class>`, ...,
    /// `__on_login__User`, `__on_verified_sms`, `__on_authdata__User`.
    pub fn metadata_name(self, class: &str) -> String {
        match self {
            HookKind::BeforeSave => format!("__before_save_for_{class}"),
            HookKind::AfterSave => format!("__after_save_for_{class}"),
            HookKind::BeforeUpdate => format!("__before_update_for_{class}"),
            HookKind::AfterUpdate => format!("__after_update_for_{class}"),
            HookKind::BeforeDelete => format!("__before_delete_for_{class}"),
            HookKind::AfterDelete => format!("__after_delete_for_{class}"),
            HookKind::OnLogin => "__on_login__User".to_string(),
            HookKind::OnVerified(t) => format!("__on_verified_{}", t.as_str()),
            HookKind::OnAuthData => "__on_authdata__User".to_string(),
        }
    }

    /// The hooks that writes made by this hook's code skip, sent as `__ignore_hooks`
    /// (protocol notes §5.6): a before-hook disables the before-hooks, an after-hook the
    /// after-hooks, as the Node engine marks `request.object`. User hooks mark nothing.
    pub fn ignored_hooks(self) -> &'static [&'static str] {
        if self.is_before() {
            &BEFORE_HOOKS
        } else if self.is_after() {
            &AFTER_HOOKS
        } else {
            &[]
        }
    }
}

impl fmt::Display for HookKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HookKind::OnVerified(t) => write!(f, "onVerified/{}", t.as_str()),
            other => f.write_str(other.name()),
        }
    }
}

/// What a hook that ran to completion means for the write that triggered it, and what the
/// engine answers for it (protocol notes §5.4, Node engine 3.8.0).
#[derive(Debug, Clone, PartialEq)]
pub enum HookOutcome {
    /// beforeSave: store this object (the hook's object, without `__type`/`className`).
    Save(Value),
    /// beforeUpdate, beforeDelete: the write may go ahead. The object is what the Node
    /// engine echoes (the storage server ignores it: a beforeUpdate cannot change the
    /// update, protocol notes §5.4).
    Accepted(Value),
    /// after hooks, onLogin, onVerified: `{"result":"ok"}`.
    Ok,
    /// onAuthData: log in with this authData: `{"result": <authData>}`.
    AuthData(Value),
}

impl HookOutcome {
    /// The engine's HTTP 200 body for this outcome.
    pub fn to_json(&self) -> Value {
        match self {
            HookOutcome::Save(object) | HookOutcome::Accepted(object) => object.clone(),
            HookOutcome::Ok => json!({"result": "ok"}),
            HookOutcome::AuthData(auth_data) => json!({"result": auth_data}),
        }
    }
}
