//! Principals, object ACLs, roles with inheritance and class permissions (protocol notes
//! §6), with the reference decision written from the notes, independently of the
//! emulator's access code.
//!
//! The world: users `user0..` (fixed ids and session tokens), roles `Role0..` whose
//! `users` relation lists some users and whose `roles` relation lists other roles
//! (cycles allowed), and one class, [`CLASS`], with a class permission per operation and
//! optionally a default ACL.
//!
//! The rules the reference applies:
//! - the master key passes everything (§1.2, §6.1);
//! - an ACL grants through `*`, the user's objectId or `role:<name>` of a role the user
//!   holds; only `true` grants (§2, §6.1);
//! - a user holds the roles whose `users` lists them, then every role whose `roles`
//!   lists a role already held, to a fixpoint (§6.1);
//! - a class permission is `{"*":true}`, `{"onlySignInUsers":true}` or
//!   `{"users":[id or username],"roles":[name or id]}`; an operation left out is open
//!   (§6.2, `fixtures/database_settings/README.md`);
//! - refusals are `403 {"code":403,"error":"Forbidden to <op> by class permissions."}`,
//!   `Forbidden reading by object's ACL.` and `Forbidden writing by object's ACL.` (§4);
//!   the class permission is checked before the ACL. Where the notes give no order (an
//!   update's ACL against `add_fields`, a create's `create` against `add_fields`), either
//!   refusal is accepted.

use leancloud::error::code;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Users and roles in every world.
pub const USERS: usize = 3;
pub const ROLES: usize = 3;
/// The class whose permissions are under test.
pub const CLASS: &str = "Doc";
/// Fields a write may add, so that `add_fields` matters until they exist.
pub const EXTRA_FIELDS: usize = 2;

pub fn user_id(i: usize) -> String {
    format!("5a{:022x}", i + 1)
}
pub fn username(i: usize) -> String {
    format!("user{i}")
}
pub fn session_token(i: usize) -> String {
    format!("sessiontoken{i:013}")
}
pub fn role_id(i: usize) -> String {
    format!("5b{:022x}", i + 1)
}
pub fn role_name(i: usize) -> String {
    format!("Role{i}")
}
pub fn doc_id(i: usize) -> String {
    format!("5c{:022x}", i + 1)
}
pub fn extra_field(i: usize) -> String {
    format!("extra{i}")
}
/// An id no user has.
pub const NOBODY_ID: &str = "5a0000000000000000000fff";

/// Role membership: for each role, the users its `users` relation lists and the roles
/// its `roles` relation lists (whose members inherit it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles {
    pub users: Vec<BTreeSet<usize>>,
    pub roles: Vec<BTreeSet<usize>>,
}

pub fn arb_roles() -> impl Strategy<Value = Roles> {
    let set = |n: usize| prop::collection::btree_set(0..n, 0..=n.min(2));
    (
        prop::collection::vec(set(USERS), ROLES),
        prop::collection::vec(set(ROLES), ROLES),
    )
        .prop_map(|(users, roles)| Roles {
            users,
            roles: roles
                .into_iter()
                .enumerate()
                .map(|(r, mut s)| {
                    s.remove(&r);
                    s
                })
                .collect(),
        })
}

impl Roles {
    /// Every role `user` holds, inherited ones included.
    pub fn held_by(&self, user: usize) -> BTreeSet<usize> {
        let mut held: BTreeSet<usize> = (0..self.users.len())
            .filter(|&r| self.users[r].contains(&user))
            .collect();
        loop {
            let more: Vec<usize> = (0..self.roles.len())
                .filter(|r| !held.contains(r) && self.roles[*r].iter().any(|c| held.contains(c)))
                .collect();
            if more.is_empty() {
                return held;
            }
            held.extend(more);
        }
    }
}

/// Who sends a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    Master,
    Anonymous,
    User(usize),
}

pub fn arb_principal() -> impl Strategy<Value = Principal> {
    prop_oneof![
        1 => Just(Principal::Master),
        2 => Just(Principal::Anonymous),
        5 => (0..USERS).prop_map(Principal::User),
    ]
}

/// A key of an ACL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AclKey {
    Public,
    User(usize),
    Role(usize),
    NobodyUser,
    NobodyRole,
    /// Default ACLs only: the creating user.
    Owner,
}

impl AclKey {
    pub fn json_key(self) -> String {
        match self {
            AclKey::Public => "*".into(),
            AclKey::User(i) => user_id(i),
            AclKey::Role(r) => format!("role:{}", role_name(r)),
            AclKey::NobodyUser => NOBODY_ID.into(),
            AclKey::NobodyRole => "role:Nobody".into(),
            AclKey::Owner => "_owner".into(),
        }
    }
}

/// What one ACL key grants; `None` leaves the flag out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub read: Option<bool>,
    pub write: Option<bool>,
}

fn arb_flag() -> impl Strategy<Value = Option<bool>> {
    prop_oneof![3 => Just(Some(true)), 1 => Just(Some(false)), 2 => Just(None)]
}

pub fn arb_grant() -> impl Strategy<Value = Grant> {
    (arb_flag(), arb_flag()).prop_map(|(read, write)| Grant { read, write })
}

/// An ACL: distinct keys with their grants.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Acl(pub BTreeMap<AclKey, Grant>);

fn arb_acl_key() -> impl Strategy<Value = AclKey> {
    prop_oneof![
        2 => Just(AclKey::Public),
        3 => (0..USERS).prop_map(AclKey::User),
        3 => (0..ROLES).prop_map(AclKey::Role),
        1 => Just(AclKey::NobodyUser),
        1 => Just(AclKey::NobodyRole),
    ]
}

/// An object's ACL (no `_owner`).
pub fn arb_acl() -> impl Strategy<Value = Acl> {
    prop::collection::btree_map(arb_acl_key(), arb_grant(), 0..4).prop_map(Acl)
}

/// A class's default ACL: `*`, roles and `_owner` (user ids are left to `_owner`, so
/// the two never name the same user).
pub fn arb_default_acl() -> impl Strategy<Value = Acl> {
    let key = prop_oneof![
        2 => Just(AclKey::Public),
        2 => (0..ROLES).prop_map(AclKey::Role),
        1 => Just(AclKey::NobodyRole),
        3 => Just(AclKey::Owner),
    ];
    prop::collection::btree_map(key, arb_grant(), 0..3).prop_map(Acl)
}

impl Acl {
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        for (key, grant) in &self.0 {
            let mut g = Map::new();
            if let Some(r) = grant.read {
                g.insert("read".into(), json!(r));
            }
            if let Some(w) = grant.write {
                g.insert("write".into(), json!(w));
            }
            m.insert(key.json_key(), Value::Object(g));
        }
        Value::Object(m)
    }

    /// The ACL an object created without one gets from this default ACL: `_owner` is
    /// the creating user, left out when nobody is signed in.
    pub fn for_creator(&self, who: Principal) -> Value {
        let mut m = self.to_json();
        if let Some(map) = m.as_object_mut()
            && let Some(grant) = map.remove("_owner")
            && let Principal::User(u) = who
        {
            map.insert(user_id(u), grant);
        }
        m
    }
}

/// A user named in a class permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRef {
    Id(usize),
    Name(usize),
    Nobody,
}

/// A role named in a class permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleRef {
    Name(usize),
    Id(usize),
    Nobody,
}

/// Who may perform one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassPerm {
    Everyone,
    SignedIn,
    Only {
        users: Vec<UserRef>,
        roles: Vec<RoleRef>,
    },
}

impl ClassPerm {
    pub fn to_json(&self) -> Value {
        match self {
            ClassPerm::Everyone => json!({"*": true}),
            ClassPerm::SignedIn => json!({"onlySignInUsers": true}),
            ClassPerm::Only { users, roles } => {
                let users: Vec<String> = users
                    .iter()
                    .map(|u| match u {
                        UserRef::Id(i) => user_id(*i),
                        UserRef::Name(i) => username(*i),
                        UserRef::Nobody => "nobody".into(),
                    })
                    .collect();
                let roles: Vec<String> = roles
                    .iter()
                    .map(|r| match r {
                        RoleRef::Name(i) => role_name(*i),
                        RoleRef::Id(i) => role_id(*i),
                        RoleRef::Nobody => "Nobody".into(),
                    })
                    .collect();
                json!({"users": users, "roles": roles})
            }
        }
    }
}

pub fn arb_class_perm() -> impl Strategy<Value = ClassPerm> {
    let user = prop_oneof![
        (0..USERS).prop_map(UserRef::Id),
        (0..USERS).prop_map(UserRef::Name),
        Just(UserRef::Nobody),
    ];
    let role = prop_oneof![
        (0..ROLES).prop_map(RoleRef::Name),
        (0..ROLES).prop_map(RoleRef::Id),
        Just(RoleRef::Nobody),
    ];
    prop_oneof![
        1 => Just(ClassPerm::Everyone),
        1 => Just(ClassPerm::SignedIn),
        2 => (prop::collection::vec(user, 0..3), prop::collection::vec(role, 0..3))
            .prop_map(|(users, roles)| ClassPerm::Only { users, roles }),
    ]
}

/// The operations class permissions govern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Get,
    Find,
    Create,
    Update,
    Delete,
    AddFields,
}

impl Op {
    pub const ALL: [Op; 6] = [
        Op::Get,
        Op::Find,
        Op::Create,
        Op::Update,
        Op::Delete,
        Op::AddFields,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Find => "find",
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
            Op::AddFields => "add_fields",
        }
    }
}

/// A class's permissions; an operation left out is open.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClassPerms(pub BTreeMap<Op, ClassPerm>);

pub fn arb_class_perms() -> impl Strategy<Value = ClassPerms> {
    prop::collection::vec(prop::option::weighted(0.7, arb_class_perm()), Op::ALL.len()).prop_map(
        |perms| {
            ClassPerms(
                Op::ALL
                    .into_iter()
                    .zip(perms)
                    .filter_map(|(op, p)| p.map(|p| (op, p)))
                    .collect(),
            )
        },
    )
}

impl ClassPerms {
    /// `permissions.json` of the class, with its default ACL if any.
    pub fn to_json(&self, default_acl: Option<&Acl>) -> Value {
        let mut m = Map::new();
        for (op, perm) in &self.0 {
            m.insert(op.name().into(), perm.to_json());
        }
        if let Some(acl) = default_acl {
            m.insert("defaultACL".into(), acl.to_json());
        }
        Value::Object(m)
    }
}

/// A refusal, as the notes word it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    Class(Op),
    Read,
    Write,
}

impl Denial {
    /// The whole answer: `(status, body)`.
    pub fn answer(self) -> (u16, Value) {
        let message = match self {
            Denial::Class(op) => format!("Forbidden to {} by class permissions.", op.name()),
            Denial::Read => "Forbidden reading by object's ACL.".into(),
            Denial::Write => "Forbidden writing by object's ACL.".into(),
        };
        (403, json!({"code": code::FORBIDDEN, "error": message}))
    }
}

/// The reference: a world of users, roles and one class's permissions.
#[derive(Debug, Clone, PartialEq)]
pub struct World {
    pub roles: Roles,
    pub perms: ClassPerms,
}

impl World {
    /// Whether the class permission for `op` lets `who` through.
    pub fn class_allows(&self, op: Op, who: Principal) -> bool {
        let user = match who {
            Principal::Master => return true,
            Principal::Anonymous => None,
            Principal::User(u) => Some(u),
        };
        match self.perms.0.get(&op) {
            None | Some(ClassPerm::Everyone) => true,
            Some(ClassPerm::SignedIn) => user.is_some(),
            Some(ClassPerm::Only { users, roles }) => user.is_some_and(|u| {
                let held = self.roles.held_by(u);
                users
                    .iter()
                    .any(|r| matches!(r, UserRef::Id(i) | UserRef::Name(i) if *i == u))
                    || roles
                        .iter()
                        .any(|r| matches!(r, RoleRef::Name(i) | RoleRef::Id(i) if held.contains(i)))
            }),
        }
    }

    /// Whether an ACL (as stored JSON) grants `permission` (`read` or `write`) to `who`.
    pub fn acl_allows(&self, acl: &Value, who: Principal, permission: &str) -> bool {
        let grants = |key: &str| {
            acl.get(key)
                .and_then(|g| g.get(permission))
                .and_then(Value::as_bool)
                == Some(true)
        };
        match who {
            Principal::Master => true,
            Principal::Anonymous => grants("*"),
            Principal::User(u) => {
                grants("*")
                    || grants(&user_id(u))
                    || self
                        .roles
                        .held_by(u)
                        .into_iter()
                        .any(|r| grants(&format!("role:{}", role_name(r))))
            }
        }
    }

    /// The first refusal among `steps`: each step is a set of checks whose order among
    /// themselves is not documented; `Err` holds every refusal the failing step allows.
    pub fn first_denial(steps: &[Vec<(bool, Denial)>]) -> Result<(), Vec<Denial>> {
        for step in steps {
            let failed: Vec<Denial> = step.iter().filter(|(ok, _)| !ok).map(|(_, d)| *d).collect();
            if !failed.is_empty() {
                return Err(failed);
            }
        }
        Ok(())
    }

    pub fn get(&self, who: Principal, acl: &Value) -> Result<(), Vec<Denial>> {
        World::first_denial(&[
            vec![(self.class_allows(Op::Get, who), Denial::Class(Op::Get))],
            vec![(self.acl_allows(acl, who, "read"), Denial::Read)],
        ])
    }

    pub fn find(&self, who: Principal) -> Result<(), Vec<Denial>> {
        World::first_denial(&[vec![(
            self.class_allows(Op::Find, who),
            Denial::Class(Op::Find),
        )]])
    }

    /// `adds_field`: the body names a column the class does not have yet.
    pub fn create(&self, who: Principal, adds_field: bool) -> Result<(), Vec<Denial>> {
        let mut step = vec![(
            self.class_allows(Op::Create, who),
            Denial::Class(Op::Create),
        )];
        if adds_field {
            step.push((
                self.class_allows(Op::AddFields, who),
                Denial::Class(Op::AddFields),
            ));
        }
        World::first_denial(&[step])
    }

    pub fn update(&self, who: Principal, acl: &Value, adds_field: bool) -> Result<(), Vec<Denial>> {
        let mut second = vec![(self.acl_allows(acl, who, "write"), Denial::Write)];
        if adds_field {
            second.push((
                self.class_allows(Op::AddFields, who),
                Denial::Class(Op::AddFields),
            ));
        }
        World::first_denial(&[
            vec![(
                self.class_allows(Op::Update, who),
                Denial::Class(Op::Update),
            )],
            second,
        ])
    }

    pub fn delete(&self, who: Principal, acl: &Value) -> Result<(), Vec<Denial>> {
        World::first_denial(&[
            vec![(
                self.class_allows(Op::Delete, who),
                Denial::Class(Op::Delete),
            )],
            vec![(self.acl_allows(acl, who, "write"), Denial::Write)],
        ])
    }
}

/// One request of an access case. Object indexes pick among the objects that exist at
/// that point; extra-field indexes pick among [`EXTRA_FIELDS`].
#[derive(Debug, Clone)]
pub enum Action {
    Get(Principal, prop::sample::Index),
    /// With `count`, and a window over the objects in objectId order.
    Find {
        who: Principal,
        count: bool,
        limit: Option<usize>,
        skip: Option<usize>,
    },
    Create(Principal, Option<Acl>, Option<usize>),
    Update(Principal, prop::sample::Index, Option<usize>),
    Delete(Principal, prop::sample::Index),
}

pub fn arb_access_action() -> impl Strategy<Value = Action> {
    let extra = prop::option::weighted(0.4, 0..EXTRA_FIELDS);
    prop_oneof![
        3 => (arb_principal(), any::<prop::sample::Index>()).prop_map(|(p, i)| Action::Get(p, i)),
        2 => (
            arb_principal(),
            any::<bool>(),
            prop::option::of(1usize..4),
            prop::option::of(0usize..3),
        )
            .prop_map(|(who, count, limit, skip)| Action::Find { who, count, limit, skip }),
        2 => (arb_principal(), prop::option::weighted(0.5, arb_acl()), extra.clone())
            .prop_map(|(p, a, e)| Action::Create(p, a, e)),
        3 => (arb_principal(), any::<prop::sample::Index>(), extra)
            .prop_map(|(p, i, e)| Action::Update(p, i, e)),
        1 => (arb_principal(), any::<prop::sample::Index>()).prop_map(|(p, i)| Action::Delete(p, i)),
    ]
}

/// A whole case: the world, the class's default ACL, the seeded objects' ACLs, and the
/// requests.
#[derive(Debug, Clone)]
pub struct AccessCase {
    pub world: World,
    pub default_acl: Option<Acl>,
    pub objects: Vec<Acl>,
    /// The requests, each with whether it is sent as an item of `/1.1/batch`.
    pub actions: Vec<(Action, bool)>,
}

pub fn arb_access_case() -> impl Strategy<Value = AccessCase> {
    (
        arb_roles(),
        arb_class_perms(),
        prop::option::weighted(0.5, arb_default_acl()),
        prop::collection::vec(arb_acl(), 1..4),
        prop::collection::vec((arb_access_action(), prop::bool::weighted(0.2)), 1..12),
    )
        .prop_map(|(roles, perms, default_acl, objects, actions)| AccessCase {
            world: World { roles, perms },
            default_acl,
            objects,
            actions,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_inherited_through_the_roles_relation_to_a_fixpoint() {
        // Role0 lists user 0; Role1's `roles` lists Role0; Role2's lists Role1.
        let roles = Roles {
            users: vec![[0].into(), BTreeSet::new(), BTreeSet::new()],
            roles: vec![BTreeSet::new(), [0].into(), [1].into()],
        };
        assert_eq!(roles.held_by(0), [0, 1, 2].into());
        assert_eq!(roles.held_by(1), BTreeSet::new());
    }

    #[test]
    fn only_true_grants_and_the_owner_is_the_creator() {
        let world = World {
            roles: Roles {
                users: vec![[1].into(), BTreeSet::new(), BTreeSet::new()],
                roles: vec![BTreeSet::new(); 3],
            },
            perms: ClassPerms::default(),
        };
        let acl = json!({"*": {"read": false}, "role:Role0": {"write": true}});
        assert!(!world.acl_allows(&acl, Principal::Anonymous, "read"));
        assert!(world.acl_allows(&acl, Principal::User(1), "write"));
        assert!(!world.acl_allows(&acl, Principal::User(0), "write"));
        let default = Acl([(
            AclKey::Owner,
            Grant {
                read: Some(true),
                write: None,
            },
        )]
        .into());
        assert_eq!(
            default.for_creator(Principal::User(2)),
            json!({ user_id(2): {"read": true} })
        );
        assert_eq!(default.for_creator(Principal::Master), json!({}));
    }
}
