//! The writes the handlers run through the [`Pipeline`](super::pipeline::Pipeline): for
//! each, what is checked before its before-hook and shown to it, and which model call
//! makes it.
//!
//! A new kind of write is one more [`Write`] here, not another copy of the sequence: a
//! file row or an installation is a create of its class (`_Installation` has no hooks,
//! so its writes skip steps 2 and 4); a verification flow that sets a flag is an update
//! whose after-hook is `onVerified` ([`Write::after_hook`]); a check that must refuse
//! before any hook is considered is [`Write::check_first`]; slow work kept off the lock
//! is [`Write::prepare`].

use super::hooks;
use super::pipeline::{Committed, Write};
use super::routes::Call;
use lc_model::objects::{self, Changes, Updated};
use lc_model::presentation::hook;
use lc_model::users::{self, PasswordHashing, SignedIn};
use lc_model::{Principal, Store, StoredObject};
use leancloud::LcError;
use leancloud::cloud::HookKind;
use serde_json::{Map, Value};

/// Create an object of `class` from `body`. beforeSave is shown the object the body
/// describes, and its answer is what gets created.
pub(super) struct CreateObject<'a> {
    pub class: &'a str,
    pub body: &'a Map<String, Value>,
    pub changes: Changes,
}

impl Write for CreateObject<'_> {
    type Outcome = StoredObject;

    fn before_hook(&self) -> HookKind {
        HookKind::BeforeSave
    }

    fn check(&self, store: &Store, who: &Principal) -> Result<Option<Value>, LcError> {
        let preview = objects::preview_create_for_hook(store, self.class, &self.changes, who)?;
        let acl_given = self.body.contains_key("ACL");
        Ok(Some(hook::new_object(store, &preview, acl_given)))
    }

    fn take_answer(&mut self, sent: &Value, answer: &Value) -> Result<(), LcError> {
        let body = hooks::body_after_before_save(self.body, sent, answer)?;
        self.changes = Changes::parse(&body, false)?;
        Ok(())
    }

    fn write(&mut self, store: &mut Store, who: &Principal) -> Result<StoredObject, LcError> {
        objects::create(store, self.class, &self.changes, who)
    }

    fn committed(created: &StoredObject) -> Committed<'_> {
        Committed::Created(created)
    }
}

/// Update object `id` of `class`, if it matches `condition` (a conditional update).
/// beforeUpdate is shown the object as the update would leave it; it may only refuse.
pub(super) struct UpdateObject<'a> {
    pub class: &'a str,
    pub id: &'a str,
    pub changes: Changes,
    pub condition: Option<&'a Value>,
}

impl Write for UpdateObject<'_> {
    type Outcome = Updated;

    fn before_hook(&self) -> HookKind {
        HookKind::BeforeUpdate
    }

    fn check(&self, store: &Store, who: &Principal) -> Result<Option<Value>, LcError> {
        let (class, id) = (self.class, self.id);
        let condition = self.condition;
        let preview = objects::preview_update(store, class, id, &self.changes, condition, who)?;
        Ok(Some(update_hook_object(store, &preview)))
    }

    fn write(&mut self, store: &mut Store, who: &Principal) -> Result<Updated, LcError> {
        let (class, id) = (self.class, self.id);
        objects::update(store, class, id, &self.changes, self.condition, who)
    }

    fn committed(updated: &Updated) -> Committed<'_> {
        Committed::Updated(updated)
    }
}

/// What beforeUpdate is shown: the object with the update applied, and `_updatedKeys`.
fn update_hook_object(store: &Store, preview: &Updated) -> Value {
    hook::updated_object(store, &preview.after, &preview.keys)
}

/// Delete object `id` of `class`, if it matches `condition`. beforeDelete is shown the
/// object, when it exists; it may only refuse.
pub(super) struct DeleteObject<'a> {
    pub class: &'a str,
    pub id: &'a str,
    pub condition: Option<&'a Value>,
}

impl Write for DeleteObject<'_> {
    type Outcome = Option<StoredObject>;

    fn before_hook(&self) -> HookKind {
        HookKind::BeforeDelete
    }

    fn check(&self, store: &Store, who: &Principal) -> Result<Option<Value>, LcError> {
        let found = objects::preview_delete(store, self.class, self.id, self.condition, who)?;
        Ok(found.map(|obj| hook::object(store, obj)))
    }

    fn write(
        &mut self,
        store: &mut Store,
        who: &Principal,
    ) -> Result<Option<StoredObject>, LcError> {
        objects::delete(store, self.class, self.id, self.condition, who)
    }

    fn committed(removed: &Option<StoredObject>) -> Committed<'_> {
        match removed {
            Some(obj) => Committed::Deleted(obj),
            None => Committed::Nothing,
        }
    }
}

/// Hash a password with the app's cost ([`lc_model::Store::hashing`]), without holding
/// the store's lock while hashing.
pub(super) fn hash(call: &Call<'_>, password: Option<&str>) -> Result<Option<String>, LcError> {
    let Some(password) = password else {
        return Ok(None);
    };
    let hashing: PasswordHashing = call.api.read_store().hashing;
    hashing.hash(password).map(Some)
}

/// Sign up from `body`, or log in the holder of its linked account. beforeSave is shown
/// the new user (never the password) and only when the body creates one.
pub(super) struct SignUp<'a> {
    body: &'a Map<String, Value>,
    request: users::SignUp,
    /// `failOnNotExist`: a linked account nobody holds is 211 rather than a new user.
    fail_on_not_exist: bool,
    /// The password's hash, made between the before-hook and the write.
    password_hash: Option<String>,
}

impl<'a> SignUp<'a> {
    /// `request` is what `body` parsed to.
    pub fn new(
        body: &'a Map<String, Value>,
        request: users::SignUp,
        fail_on_not_exist: bool,
    ) -> Self {
        SignUp {
            body,
            request,
            fail_on_not_exist,
            password_hash: None,
        }
    }
}

impl Write for SignUp<'_> {
    type Outcome = SignedIn;

    fn before_hook(&self) -> HookKind {
        HookKind::BeforeSave
    }

    fn caller(&self, call: &Call<'_>, store: &Store) -> Result<Principal, LcError> {
        Ok(call.principal_ignoring_unknown_token(store))
    }

    fn check(&self, store: &Store, who: &Principal) -> Result<Option<Value>, LcError> {
        let user = users::preview_sign_up(store, &self.request, who, self.fail_on_not_exist)?;
        let acl_given = self.body.contains_key("ACL");
        Ok(user.map(|user| hook::new_object(store, &user, acl_given)))
    }

    fn take_answer(&mut self, sent: &Value, answer: &Value) -> Result<(), LcError> {
        let mut body = hooks::body_after_before_save(self.body, sent, answer)?;
        // The password never goes to the hook; it is still the one to set.
        if let Some(password) = self.body.get("password") {
            body.insert("password".into(), password.clone());
        }
        self.request = if self.request.password.is_none() && self.request.links.is_empty() {
            // A phone sign-up (`usersByMobilePhone`) needs no password.
            users::SignUp::parse_without_password(&body)?
        } else {
            users::SignUp::parse(&body)?
        };
        Ok(())
    }

    fn prepare(&mut self, call: &Call<'_>) -> Result<(), LcError> {
        self.password_hash = hash(call, self.request.password.as_deref())?;
        Ok(())
    }

    fn write(&mut self, store: &mut Store, who: &Principal) -> Result<SignedIn, LcError> {
        let hash = self.password_hash.take();
        users::sign_up(store, &self.request, hash, who, self.fail_on_not_exist)
    }

    fn committed(out: &SignedIn) -> Committed<'_> {
        if out.created {
            Committed::Created(&out.user)
        } else {
            Committed::LoggedIn(&out.user)
        }
    }
}

/// Update user `id`: the user's own session or the master key; a new password is
/// hashed before the lock is taken.
pub(super) struct UpdateUser<'a> {
    id: &'a str,
    request: users::UserChanges,
    condition: Option<&'a Value>,
    /// The new password's hash, made between the before-hook and the write.
    password_hash: Option<String>,
}

impl<'a> UpdateUser<'a> {
    pub fn new(id: &'a str, request: users::UserChanges, condition: Option<&'a Value>) -> Self {
        UpdateUser {
            id,
            request,
            condition,
            password_hash: None,
        }
    }
}

impl Write for UpdateUser<'_> {
    type Outcome = Updated;

    fn before_hook(&self) -> HookKind {
        HookKind::BeforeUpdate
    }

    /// A client's write of a verification flag is refused before any hook hears of it,
    /// as a read-only column is.
    fn checks_first(&self) -> bool {
        users::touches_verification_flags(&self.request.changes)
    }

    fn check_first(&self, store: &Store, who: &Principal) -> Result<(), LcError> {
        let (changes, condition) = (&self.request.changes, self.condition);
        users::check_update(store, self.id, changes, condition, who)
    }

    fn check(&self, store: &Store, who: &Principal) -> Result<Option<Value>, LcError> {
        let (changes, condition) = (&self.request.changes, self.condition);
        let class = users::CLASS;
        let preview = objects::preview_update(store, class, self.id, changes, condition, who)?;
        Ok(Some(update_hook_object(store, &preview)))
    }

    fn prepare(&mut self, call: &Call<'_>) -> Result<(), LcError> {
        self.password_hash = hash(call, self.request.password.as_deref())?;
        Ok(())
    }

    fn write(&mut self, store: &mut Store, who: &Principal) -> Result<Updated, LcError> {
        let (changes, condition) = (&self.request.changes, self.condition);
        let hash = self.password_hash.take();
        users::update(store, self.id, changes, condition, who, hash)
    }

    fn committed(updated: &Updated) -> Committed<'_> {
        Committed::Updated(updated)
    }
}
