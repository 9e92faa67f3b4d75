//! The expected outcome of every access case, written from the protocol notes
//! (`leancloud-protocol.md` §1.2, §1.7, §4, §6) and from nothing else: this file never
//! calls the emulator's access rules, so the matrix compares the emulator with an
//! independent reading of the spec.
//!
//! The whole rule, in the order the notes give it:
//! 1. an unknown session token is `400 {"code":211,"error":"Could not find user."}`
//!    (the emulator's choice where the notes are open; §1.7 records it for `/users/me`);
//! 2. the master key is always allowed (§1.2, §6.1);
//! 3. the class permission of the operation, when it has one (§6.2), else
//!    `403 {"code":403,"error":"Forbidden to <op> by class permissions."}` (§4);
//! 4. the object's ACL (§6.1): unreadable on GET by id is
//!    `403 "Forbidden reading by object's ACL."`, unreadable rows are left out of find,
//!    an unreadable included pointer stays a bare pointer; unwritable on update or delete
//!    is `403 "Forbidden writing by object's ACL."`. Create does not look at the ACL it
//!    is given.

use leancloud::error::code;
use std::fmt;

/// Persona sends the request, as the matrix names the people of its world (each is a
/// [`leancloud::Caller`] on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persona {
    /// The app key, no session.
    Anonymous,
    /// A signed-in user named in no ACL, class permission or role.
    Stranger,
    /// The signed-in user the case's ACL or class permission names.
    Owner,
    /// A signed-in user in the `users` of role `Editors`.
    Member,
    /// A signed-in user in the `users` of role `Chiefs`; `Chiefs` is in the `roles`
    /// relation of `Editors`, so Chiefs' members hold `Editors` too.
    Inheritor,
    /// The master key.
    Master,
    /// The app key with a session token the app never issued.
    UnknownToken,
}

pub const PRINCIPALS: [Persona; 7] = [
    Persona::Anonymous,
    Persona::Stranger,
    Persona::Owner,
    Persona::Member,
    Persona::Inheritor,
    Persona::Master,
    Persona::UnknownToken,
];

/// Signed-in principals with a valid session.
const SIGNED_IN: &[Persona] = &[
    Persona::Stranger,
    Persona::Owner,
    Persona::Member,
    Persona::Inheritor,
];
/// Everyone the app key speaks for with a valid (or no) session.
const EVERYONE: &[Persona] = &[
    Persona::Anonymous,
    Persona::Stranger,
    Persona::Owner,
    Persona::Member,
    Persona::Inheritor,
];
const EDITORS: &[Persona] = &[Persona::Member, Persona::Inheritor];
/// Inheritance runs one way: Editors' own members do not hold Chiefs.
const CHIEFS: &[Persona] = &[Persona::Inheritor];

/// The class permission set on the class for the operation under test (§6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassPerm {
    /// `{"*": true}`
    Everyone,
    /// `{"onlySignInUsers": true}`
    SignedIn,
    /// `{"users": [<owner objectId>], "roles": []}`
    OwnerById,
    /// `{"users": ["owner"], "roles": []}`
    OwnerByName,
    /// `{"users": [], "roles": ["Editors"]}`
    RoleByName,
    /// `{"users": [], "roles": [<Editors objectId>]}`
    RoleById,
    /// `{"users": [], "roles": ["Chiefs"]}`: the inheriting role, whose rights do not
    /// flow back to Editors' members.
    InheritingRole,
    /// `{"users": [], "roles": []}`
    Nobody,
}

pub const CLASS_PERMS: [ClassPerm; 8] = [
    ClassPerm::Everyone,
    ClassPerm::SignedIn,
    ClassPerm::OwnerById,
    ClassPerm::OwnerByName,
    ClassPerm::RoleByName,
    ClassPerm::RoleById,
    ClassPerm::InheritingRole,
    ClassPerm::Nobody,
];

/// Persona passes a class permission (the master key aside).
fn passes(perm: ClassPerm) -> &'static [Persona] {
    match perm {
        ClassPerm::Everyone => EVERYONE,
        ClassPerm::SignedIn => SIGNED_IN,
        ClassPerm::OwnerById | ClassPerm::OwnerByName => &[Persona::Owner],
        ClassPerm::RoleByName | ClassPerm::RoleById => EDITORS,
        ClassPerm::InheritingRole => CHIEFS,
        ClassPerm::Nobody => &[],
    }
}

/// The object's ACL (§6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclShape {
    /// `{"*": {"read": true, "write": true}}`
    PublicReadWrite,
    /// `{"*": {"read": true}}`
    PublicReadOnly,
    /// `{<owner objectId>: {"read": true, "write": true}}`
    OwnerOnly,
    /// `{"role:Editors": {"read": true, "write": true}}`
    EditorsOnly,
    /// `{"role:Chiefs": {"read": true, "write": true}}`
    ChiefsOnly,
    /// `{}`
    Nobody,
}

pub const ACL_SHAPES: [AclShape; 6] = [
    AclShape::PublicReadWrite,
    AclShape::PublicReadOnly,
    AclShape::OwnerOnly,
    AclShape::EditorsOnly,
    AclShape::ChiefsOnly,
    AclShape::Nobody,
];

/// Persona may read and who may write an object with the ACL (the master key aside).
fn readers_writers(acl: AclShape) -> (&'static [Persona], &'static [Persona]) {
    match acl {
        AclShape::PublicReadWrite => (EVERYONE, EVERYONE),
        AclShape::PublicReadOnly => (EVERYONE, &[]),
        AclShape::OwnerOnly => (&[Persona::Owner], &[Persona::Owner]),
        AclShape::EditorsOnly => (EDITORS, EDITORS),
        AclShape::ChiefsOnly => (CHIEFS, CHIEFS),
        AclShape::Nobody => (&[], &[]),
    }
}

/// What the case does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    /// `GET /1.1/classes/Doc/<id>`
    Get,
    /// `GET /1.1/classes/Doc?count=1`: is the row listed (and counted)?
    Find,
    /// `POST /1.1/classes/Doc` with the case's ACL in the body.
    Create,
    /// `PUT /1.1/classes/Doc/<id>` of a known column.
    Update,
    /// `DELETE /1.1/classes/Doc/<id>`
    Delete,
    /// `POST /1.1/classes/Doc` with a column the class does not have yet.
    AddFieldsOnCreate,
    /// `PUT /1.1/classes/Doc/<id>` (public object) setting a column new to the class.
    AddFieldsOnUpdate,
    /// `GET /1.1/classes/Holder/<id>?include=ref`, `ref` pointing at the Doc.
    IncludeOnGet,
    /// `GET /1.1/classes/Holder?include=ref`
    IncludeOnFind,
}

impl Op {
    /// The class permission that governs the operation on `Doc`, as named in the
    /// permission JSON and in the error message. Includes read `Doc` rows through another
    /// class; the notes name no class permission for them, so the matrix leaves `Doc`'s
    /// permissions open for them and tests the ACL only.
    pub fn class_op(self) -> Option<&'static str> {
        match self {
            Op::Get => Some("get"),
            Op::Find => Some("find"),
            Op::Create => Some("create"),
            Op::Update => Some("update"),
            Op::Delete => Some("delete"),
            Op::AddFieldsOnCreate | Op::AddFieldsOnUpdate => Some("add_fields"),
            Op::IncludeOnGet | Op::IncludeOnFind => None,
        }
    }
}

/// One case of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    pub op: Op,
    pub perm: ClassPerm,
    pub acl: AclShape,
    pub who: Persona,
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} by {:?} (class permission {:?}, ACL {:?})",
            self.op, self.who, self.perm, self.acl
        )
    }
}

/// Every case: get, find, update and delete cross every class permission, ACL and
/// principal; create crosses class permissions, principals and the ACL it is given;
/// add_fields crosses class permissions and principals on a public object; includes
/// cross ACLs and principals.
pub fn all_cases() -> Vec<Case> {
    let mut out = Vec::new();
    for op in [Op::Get, Op::Find, Op::Create, Op::Update, Op::Delete] {
        for perm in CLASS_PERMS {
            for acl in ACL_SHAPES {
                for who in PRINCIPALS {
                    out.push(Case { op, perm, acl, who });
                }
            }
        }
    }
    for op in [Op::AddFieldsOnCreate, Op::AddFieldsOnUpdate] {
        for perm in CLASS_PERMS {
            for who in PRINCIPALS {
                let acl = AclShape::PublicReadWrite;
                out.push(Case { op, perm, acl, who });
            }
        }
    }
    for op in [Op::IncludeOnGet, Op::IncludeOnFind] {
        for acl in ACL_SHAPES {
            for who in PRINCIPALS {
                let perm = ClassPerm::Everyone;
                out.push(Case { op, perm, acl, who });
            }
        }
    }
    out
}

/// What a case comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The request succeeded and did what it asked (checked with the master key).
    Allowed,
    /// An error answer, whole: HTTP status, `code`, `error`.
    Denied {
        status: u16,
        code: i64,
        error: String,
    },
    /// A find: whether the row is listed (and counted).
    Listed(bool),
    /// An include: whether the pointer came back expanded (else a bare pointer).
    Expanded(bool),
    /// Anything else (a wrong body, a side effect that did or did not happen).
    Other(String),
}

impl Outcome {
    /// Whether the caller got what they asked for.
    pub fn is_allowed(&self) -> bool {
        matches!(
            self,
            Outcome::Allowed | Outcome::Listed(true) | Outcome::Expanded(true)
        )
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Allowed => write!(f, "allowed"),
            Outcome::Denied {
                status,
                code,
                error,
            } => write!(f, "{status} {{code {code}, \"{error}\"}}"),
            Outcome::Listed(true) => write!(f, "row listed"),
            Outcome::Listed(false) => write!(f, "row left out"),
            Outcome::Expanded(true) => write!(f, "pointer expanded"),
            Outcome::Expanded(false) => write!(f, "bare pointer"),
            Outcome::Other(s) => write!(f, "{s}"),
        }
    }
}

fn denied(status: u16, code: i64, error: impl Into<String>) -> Outcome {
    Outcome::Denied {
        status,
        code,
        error: error.into(),
    }
}

/// The expected outcome of a case.
pub fn expect(case: &Case) -> Outcome {
    if case.who == Persona::UnknownToken {
        return denied(400, code::USER_NOT_FOUND, "Could not find user.");
    }
    let master = case.who == Persona::Master;
    if !master
        && let Some(op) = case.op.class_op()
        && !passes(case.perm).contains(&case.who)
    {
        return denied(
            403,
            code::FORBIDDEN,
            format!("Forbidden to {op} by class permissions."),
        );
    }
    let (readers, writers) = readers_writers(case.acl);
    let can_read = master || readers.contains(&case.who);
    let can_write = master || writers.contains(&case.who);
    match case.op {
        Op::Get if can_read => Outcome::Allowed,
        Op::Get => denied(403, code::FORBIDDEN, "Forbidden reading by object's ACL."),
        Op::Find => Outcome::Listed(can_read),
        Op::Create | Op::AddFieldsOnCreate => Outcome::Allowed,
        Op::Update | Op::Delete | Op::AddFieldsOnUpdate if can_write => Outcome::Allowed,
        Op::Update | Op::Delete | Op::AddFieldsOnUpdate => {
            denied(403, code::FORBIDDEN, "Forbidden writing by object's ACL.")
        }
        Op::IncludeOnGet | Op::IncludeOnFind => Outcome::Expanded(can_read),
    }
}
