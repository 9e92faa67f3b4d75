//! Who may do what: the caller as a [`Principal`], object ACLs, role inheritance, and
//! class-level permissions. The master key bypasses all of it.

use crate::store::keys;
use crate::store::{Store, Val};
use leancloud::LcError;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The caller of one request, as the rules see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principal {
    pub master: bool,
    /// The signed-in user (from the session token).
    pub user: Option<SignedIn>,
}

/// A signed-in user and every role they hold, inherited ones included.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignedIn {
    pub id: String,
    pub username: Option<String>,
    /// Role name -> role objectId.
    pub roles: BTreeMap<String, String>,
}

impl Principal {
    pub fn master() -> Self {
        Principal {
            master: true,
            user: None,
        }
    }

    pub fn anonymous() -> Self {
        Principal::default()
    }

    /// The user with `id`, with their roles resolved from the store.
    pub fn user(store: &Store, id: &str) -> Self {
        let username = store
            .object("_User", id)
            .and_then(|u| u.val("username"))
            .and_then(Val::as_str)
            .map(str::to_string);
        Principal {
            master: false,
            user: Some(SignedIn {
                id: id.to_string(),
                username,
                roles: roles_of(store, id),
            }),
        }
    }

    pub fn user_id(&self) -> Option<&str> {
        self.user.as_ref().map(|u| u.id.as_str())
    }

    /// Whether an ACL grants `permission` to this caller through `*`, the user's id or
    /// `role:<name>` of a role they hold. Runs for every row of a query: no allocation.
    fn acl_allows(&self, acl: Option<&Value>, permission: &str) -> bool {
        if self.master {
            return true;
        }
        // An object without an ACL (imported data) is public.
        let Some(acl) = acl.and_then(Value::as_object) else {
            return true;
        };
        let grants = |entry: &Value| entry.get(permission).and_then(Value::as_bool) == Some(true);
        if acl.get("*").is_some_and(grants) {
            return true;
        }
        let Some(user) = &self.user else {
            return false;
        };
        if acl.get(&user.id).is_some_and(grants) {
            return true;
        }
        !user.roles.is_empty()
            && acl.iter().any(|(key, entry)| {
                key.strip_prefix("role:")
                    .is_some_and(|role| user.roles.contains_key(role))
                    && grants(entry)
            })
    }

    /// [`Principal::acl_allows`] on a stored ACL, read in place (every row of a query
    /// by a client passes here).
    fn stored_acl_allows(&self, obj: &crate::StoredObject, permission: u32) -> bool {
        if self.master {
            return true;
        }
        let Some(acl) = obj
            .fields
            .object()
            .get_sym(keys::ACL)
            .and_then(Val::as_object)
        else {
            return true;
        };
        let grants = |entry: Val<'_>| {
            entry
                .as_object()
                .and_then(|e| e.get_sym(permission))
                .and_then(Val::as_bool)
                == Some(true)
        };
        let user = self.user.as_ref();
        acl.iter().any(|(key, entry)| {
            let who = key.as_str();
            let named = who == "*"
                || user.is_some_and(|u| {
                    who == u.id
                        || who
                            .strip_prefix("role:")
                            .is_some_and(|role| u.roles.contains_key(role))
                });
            named && grants(entry)
        })
    }

    /// Whether the stored object's ACL lets this caller read it.
    pub fn can_read_stored(&self, obj: &crate::StoredObject) -> bool {
        self.stored_acl_allows(obj, keys::READ)
    }

    /// Whether the stored object's ACL lets this caller change or delete it.
    pub fn can_write_stored(&self, obj: &crate::StoredObject) -> bool {
        self.stored_acl_allows(obj, keys::WRITE)
    }

    /// Whether the ACL lets this caller read the object.
    pub fn can_read(&self, acl: Option<&Value>) -> bool {
        self.acl_allows(acl, "read")
    }

    /// Whether the ACL lets this caller change or delete the object.
    pub fn can_write(&self, acl: Option<&Value>) -> bool {
        self.acl_allows(acl, "write")
    }
}

/// A query run by this caller: the rows their ACLs let them read, the classes whose `find`
/// permission lets them query (in subqueries), and no hidden column unless they hold the
/// master key.
impl crate::query::Access for Principal {
    fn may_read(&self, class: &str, obj: &crate::StoredObject) -> bool {
        if self.master {
            return true;
        }
        let allowed = self.can_read_stored(obj);
        crate::decisions::record(crate::decisions::Rule::Acl, class, "read", allowed);
        allowed
    }

    fn reads_every_row(&self, _class: &str) -> bool {
        self.master
    }

    fn may_find(&self, store: &Store, class: &str) -> Result<(), LcError> {
        match store.class(class) {
            Some(data) => data
                .settings
                .permissions
                .check_on(class, ClassOp::Find, self),
            None => ClassPermissions::default_for(class).check_on(class, ClassOp::Find, self),
        }
    }

    fn hides(&self, store: &Store, class: &str, key: &str) -> bool {
        !self.master
            && store
                .class(class)
                .and_then(|data| data.columns.get(key))
                .is_some_and(|column| column.hidden)
    }
}

/// Every role `user_id` holds: the roles whose `users` relation lists them, then every
/// role whose `roles` relation lists a role already held, until nothing changes.
pub fn roles_of(store: &Store, user_id: &str) -> BTreeMap<String, String> {
    let Some(roles) = store.class("_Role") else {
        return BTreeMap::new();
    };
    let member = |role_id: &str, key: &str, who: &str| {
        store
            .relation_targets("_Role", role_id, key)
            .is_some_and(|set| set.contains(who))
    };
    let mut held: BTreeSet<String> = roles
        .objects
        .keys()
        .filter(|id| member(id, "users", user_id))
        .map(|id| id.to_string())
        .collect();
    loop {
        let before = held.len();
        for id in roles.objects.keys() {
            if !held.contains(id.as_str()) && held.iter().any(|h| member(id, "roles", h)) {
                held.insert(id.to_string());
            }
        }
        if held.len() == before {
            break;
        }
    }
    held.into_iter()
        .filter_map(|id| {
            let name = roles.objects.get(&id)?.val("name")?.as_str()?;
            Some((name.to_string(), id))
        })
        .collect()
}

/// The operations class permissions govern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClassOp {
    Get,
    Find,
    Create,
    Update,
    Delete,
    AddFields,
}

impl ClassOp {
    pub const ALL: [ClassOp; 6] = [
        ClassOp::Get,
        ClassOp::Find,
        ClassOp::Create,
        ClassOp::Update,
        ClassOp::Delete,
        ClassOp::AddFields,
    ];

    /// The name in permission JSON and in error messages.
    pub fn name(self) -> &'static str {
        match self {
            ClassOp::Get => "get",
            ClassOp::Find => "find",
            ClassOp::Create => "create",
            ClassOp::Update => "update",
            ClassOp::Delete => "delete",
            ClassOp::AddFields => "add_fields",
        }
    }
}

/// Who may perform one class operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permission {
    /// `{"*": true}`
    Everyone,
    /// `{"onlySignInUsers": true}`
    SignedIn,
    /// `{"users": [...], "roles": [...]}`: users by objectId or username, roles by name
    /// or objectId. Empty lists: nobody but the master key.
    Only {
        users: Vec<String>,
        roles: Vec<String>,
    },
}

impl Permission {
    pub fn from_json(v: &Value) -> Result<Permission, LcError> {
        let bad = || {
            LcError::generic(format!(
                "Invalid class permission {v}: expected {{\"*\":true}}, {{\"onlySignInUsers\":true}} or {{\"users\":[...],\"roles\":[...]}}."
            ))
        };
        let m = v.as_object().ok_or_else(bad)?;
        if m.get("*").and_then(Value::as_bool) == Some(true) {
            return Ok(Permission::Everyone);
        }
        if m.get("onlySignInUsers").and_then(Value::as_bool) == Some(true) {
            return Ok(Permission::SignedIn);
        }
        let strings = |key: &str| -> Result<Vec<String>, LcError> {
            match m.get(key) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| i.as_str().map(str::to_string).ok_or_else(bad))
                    .collect(),
                Some(_) => Err(bad()),
            }
        };
        Ok(Permission::Only {
            users: strings("users")?,
            roles: strings("roles")?,
        })
    }

    pub fn to_json(&self) -> Value {
        match self {
            Permission::Everyone => serde_json::json!({"*": true}),
            Permission::SignedIn => serde_json::json!({"onlySignInUsers": true}),
            Permission::Only { users, roles } => {
                serde_json::json!({"users": users, "roles": roles})
            }
        }
    }

    /// Whether `who` passes: `*`, then signed-in, then listed users, then listed roles.
    pub fn allows(&self, who: &Principal) -> bool {
        if who.master {
            return true;
        }
        match self {
            Permission::Everyone => true,
            Permission::SignedIn => who.user.is_some(),
            Permission::Only { users, roles } => who.user.as_ref().is_some_and(|u| {
                users
                    .iter()
                    .any(|x| *x == u.id || Some(x) == u.username.as_ref())
                    || roles
                        .iter()
                        .any(|r| u.roles.contains_key(r) || u.roles.values().any(|id| id == r))
            }),
        }
    }
}

/// A class's permissions; an operation not listed is open to everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassPermissions(pub BTreeMap<ClassOp, Permission>);

impl ClassPermissions {
    /// The permissions a class starts with. `_User` find is off by default, as in new
    /// apps.
    pub fn default_for(class: &str) -> Self {
        let mut p = ClassPermissions::default();
        if class == "_User" {
            p.0.insert(
                ClassOp::Find,
                Permission::Only {
                    users: vec![],
                    roles: vec![],
                },
            );
        }
        p
    }

    /// From `{"get": {...}, "find": {...}, ...}`; unknown operation names are an error.
    pub fn from_json(v: &Value) -> Result<Self, LcError> {
        let m: &Map<String, Value> = v
            .as_object()
            .ok_or_else(|| LcError::generic("Class permissions must be a JSON object."))?;
        let mut out = ClassPermissions::default();
        for (name, perm) in m {
            let op = ClassOp::ALL
                .into_iter()
                .find(|op| op.name() == name)
                .ok_or_else(|| {
                    LcError::generic(format!("Unknown class permission operation '{name}'."))
                })?;
            out.0.insert(op, Permission::from_json(perm)?);
        }
        Ok(out)
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        for op in ClassOp::ALL {
            m.insert(op.name().into(), self.get(op).to_json());
        }
        Value::Object(m)
    }

    pub fn get(&self, op: ClassOp) -> Permission {
        self.0.get(&op).cloned().unwrap_or(Permission::Everyone)
    }

    /// [`ClassPermissions::check`] of `class`, noting the decision for the coverage of
    /// the app's rules (`crate::decisions`); the master key bypasses it and decides
    /// nothing.
    pub fn check_on(&self, class: &str, op: ClassOp, who: &Principal) -> Result<(), LcError> {
        let result = self.check(op, who);
        if !who.master {
            crate::decisions::record(
                crate::decisions::Rule::ClassPermission,
                class,
                op.name(),
                result.is_ok(),
            );
        }
        result
    }

    /// `Forbidden to <op> by class permissions.` unless `who` may.
    pub fn check(&self, op: ClassOp, who: &Principal) -> Result<(), LcError> {
        if self.get(op).allows(who) {
            Ok(())
        } else {
            Err(LcError::forbidden_by_class_permissions(op.name()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn signed_in(id: &str, roles: &[&str]) -> Principal {
        Principal {
            master: false,
            user: Some(SignedIn {
                id: id.into(),
                username: Some(format!("name-{id}")),
                roles: roles
                    .iter()
                    .map(|r| (r.to_string(), format!("id-{r}")))
                    .collect(),
            }),
        }
    }

    #[test]
    fn acl_grants_by_public_user_and_role_keys() {
        let acl = json!({"u1": {"read": true}, "role:mods": {"write": true}, "*": {"read": false}});
        assert!(signed_in("u1", &[]).can_read(Some(&acl)));
        assert!(!signed_in("u1", &[]).can_write(Some(&acl)));
        assert!(signed_in("u2", &["mods"]).can_write(Some(&acl)));
        assert!(!signed_in("u2", &["mods"]).can_read(Some(&acl)));
        assert!(!Principal::anonymous().can_read(Some(&acl)));
        assert!(Principal::master().can_write(Some(&acl)));
        assert!(Principal::anonymous().can_write(None), "no ACL is public");
    }

    #[test]
    fn class_permissions_parse_and_check_in_order() {
        let perms = ClassPermissions::from_json(&json!({
            "find": {"onlySignInUsers": true},
            "create": {"users": ["name-u1"], "roles": ["mods"]},
            "delete": {"users": [], "roles": []}
        }))
        .unwrap();
        let anon = Principal::anonymous();
        assert!(perms.check(ClassOp::Get, &anon).is_ok());
        assert_eq!(
            perms.check(ClassOp::Find, &anon).unwrap_err(),
            LcError::forbidden_by_class_permissions("find")
        );
        assert!(perms.check(ClassOp::Find, &signed_in("u9", &[])).is_ok());
        assert!(perms.check(ClassOp::Create, &signed_in("u1", &[])).is_ok());
        assert!(
            perms
                .check(ClassOp::Create, &signed_in("u2", &["mods"]))
                .is_ok()
        );
        assert!(
            perms
                .check(ClassOp::Create, &signed_in("u2", &["id-mods"]))
                .is_err()
        );
        assert!(
            perms
                .check(ClassOp::Delete, &signed_in("u1", &["mods"]))
                .is_err()
        );
        assert!(perms.check(ClassOp::Delete, &Principal::master()).is_ok());
        assert!(ClassPermissions::from_json(&json!({"fly": {"*": true}})).is_err());
    }

    #[test]
    fn user_find_is_closed_by_default() {
        let p = ClassPermissions::default_for("_User");
        assert!(p.check(ClassOp::Find, &signed_in("u", &[])).is_err());
        assert!(p.check(ClassOp::Get, &signed_in("u", &[])).is_ok());
    }
}
