//! What a REST path names, both ways: [`Resource::path`] builds the path of a class, an
//! object, a user, a function... (segments percent-encoded), and [`Resource::parse`] reads
//! one back (`/1.1/` or `/1/`, segments decoded). Clients, the harness, the recorder and
//! the replay all go through it, so they agree on what `/1.1/classes/Post/abc` names.
//!
//! `_User` and `_Role` objects have paths of their own (`/1.1/users/<id>`,
//! `/1.1/roles/<id>`) beside the generic `/1.1/classes/_User/<id>`, and the service
//! treats them differently (a `POST /1.1/users` is a sign-up): [`Resource::collection`]
//! and [`Resource::object`] choose the dedicated path, [`Resource::Class`] and
//! [`Resource::Object`] always the generic one.

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use std::fmt;

/// The API version paths are built under (`/1.1/...`); `/1/...` is read as well.
pub const VERSION: &str = "1.1";

/// Characters escaped in a path segment (a class name, an object id).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// Like [`SEGMENT`] but keeps `/`, for function names such as `Class/hook`.
const NAME: &AsciiSet = &SEGMENT.remove(b'/');

/// One thing the REST API serves.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Resource {
    /// `/1.1/classes/<class>`: create in a class, query it.
    Class(String),
    /// `/1.1/classes/<class>/<id>`.
    Object { class: String, id: String },
    /// `/1.1/scan/classes/<class>`.
    Scan(String),
    /// `/1.1/users`: sign-up, user queries.
    Users,
    /// `/1.1/users/<id>`.
    User(String),
    /// `/1.1/users/me`: the user of the request's session.
    Me,
    /// `/1.1/users/<id>/refreshSessionToken`.
    RefreshSessionToken(String),
    /// `/1.1/users/<id>/updatePassword`.
    UpdatePassword(String),
    /// `/1.1/login`.
    Login,
    /// `/1.1/roles`.
    Roles,
    /// `/1.1/roles/<id>`.
    Role(String),
    /// `/1.1/installations`.
    Installations,
    /// `/1.1/installations/<id>`.
    Installation(String),
    /// `/1.1/functions/<name>`: a cloud function, or a hook (`<Class>/<hook>`).
    Function(String),
    /// `/1.1/call/<name>`: a cloud function with typed values both ways.
    Rpc(String),
    /// `/1.1/batch`.
    Batch,
    /// `/1.1/batch/save`.
    BatchSave,
    /// `/1.1/schemas`.
    Schemas,
    /// `/1.1/schemas/<class>`.
    Schema(String),
    /// `/1.1/date`: the server's time.
    Date,
}

impl Resource {
    /// Where `class`'s objects are created and queried: `/1.1/users` for `_User`,
    /// `/1.1/roles` for `_Role`, `/1.1/classes/<class>` for the others.
    pub fn collection(class: &str) -> Resource {
        match class {
            "_User" => Resource::Users,
            "_Role" => Resource::Roles,
            _ => Resource::Class(class.to_string()),
        }
    }

    /// Where one object of `class` is fetched, updated and deleted: `/1.1/users/<id>` for
    /// `_User`, `/1.1/roles/<id>` for `_Role`, `/1.1/classes/<class>/<id>` for the others.
    pub fn object(class: &str, id: &str) -> Resource {
        match class {
            "_User" => Resource::User(id.to_string()),
            "_Role" => Resource::Role(id.to_string()),
            _ => Resource::Object {
                class: class.to_string(),
                id: id.to_string(),
            },
        }
    }

    /// The path, under `/1.1`, with its segments percent-encoded.
    pub fn path(&self) -> String {
        let seg = |s: &str| utf8_percent_encode(s, SEGMENT).to_string();
        let name = |s: &str| utf8_percent_encode(s, NAME).to_string();
        let rest = match self {
            Resource::Class(class) => format!("classes/{}", seg(class)),
            Resource::Object { class, id } => format!("classes/{}/{}", seg(class), seg(id)),
            Resource::Scan(class) => format!("scan/classes/{}", seg(class)),
            Resource::Users => "users".into(),
            Resource::User(id) => format!("users/{}", seg(id)),
            Resource::Me => "users/me".into(),
            Resource::RefreshSessionToken(id) => {
                format!("users/{}/refreshSessionToken", seg(id))
            }
            Resource::UpdatePassword(id) => format!("users/{}/updatePassword", seg(id)),
            Resource::Login => "login".into(),
            Resource::Roles => "roles".into(),
            Resource::Role(id) => format!("roles/{}", seg(id)),
            Resource::Installations => "installations".into(),
            Resource::Installation(id) => format!("installations/{}", seg(id)),
            Resource::Function(fn_name) => format!("functions/{}", name(fn_name)),
            Resource::Rpc(fn_name) => format!("call/{}", name(fn_name)),
            Resource::Batch => "batch".into(),
            Resource::BatchSave => "batch/save".into(),
            Resource::Schemas => "schemas".into(),
            Resource::Schema(class) => format!("schemas/{}", seg(class)),
            Resource::Date => "date".into(),
        };
        format!("/{VERSION}/{rest}")
    }

    /// What `path` names: a request path (a `?query` is ignored) under `/1.1/` or
    /// `/1/`, a trailing `/` allowed. `None` for a path outside the API, with a segment
    /// that is not UTF-8 once decoded, or that names nothing above.
    pub fn parse(path: &str) -> Option<Resource> {
        let path = path.split('?').next().unwrap_or(path);
        let rest = path
            .strip_prefix("/1.1/")
            .or_else(|| path.strip_prefix("/1/"))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let segments = rest
            .split('/')
            .map(|s| {
                percent_decode_str(s)
                    .decode_utf8()
                    .ok()
                    .map(|s| s.into_owned())
            })
            .collect::<Option<Vec<String>>>()?;
        if segments.iter().any(String::is_empty) {
            return None;
        }
        let s: Vec<&str> = segments.iter().map(String::as_str).collect();
        let own = |s: &str| s.to_string();
        Some(match s.as_slice() {
            ["classes", class] => Resource::Class(own(class)),
            ["classes", class, id] => Resource::Object {
                class: own(class),
                id: own(id),
            },
            ["scan", "classes", class] => Resource::Scan(own(class)),
            ["users"] => Resource::Users,
            ["users", "me"] => Resource::Me,
            ["users", id] => Resource::User(own(id)),
            ["users", id, "refreshSessionToken"] => Resource::RefreshSessionToken(own(id)),
            ["users", id, "updatePassword"] => Resource::UpdatePassword(own(id)),
            ["login"] => Resource::Login,
            ["roles"] => Resource::Roles,
            ["roles", id] => Resource::Role(own(id)),
            ["installations"] => Resource::Installations,
            ["installations", id] => Resource::Installation(own(id)),
            ["functions", name @ ..] if !name.is_empty() => Resource::Function(name.join("/")),
            ["call", name @ ..] if !name.is_empty() => Resource::Rpc(name.join("/")),
            ["batch"] => Resource::Batch,
            ["batch", "save"] => Resource::BatchSave,
            ["schemas"] => Resource::Schemas,
            ["schemas", class] => Resource::Schema(own(class)),
            ["date"] => Resource::Date,
            _ => return None,
        })
    }

    /// [`Resource::parse`], also for a path without the version (`/classes/<class>`), as
    /// the items of a `/1.1/batch` may give it.
    pub fn parse_loose(path: &str) -> Option<Resource> {
        if path.starts_with("/1/") || path.starts_with("/1.1/") {
            Resource::parse(path)
        } else {
            let path = path.strip_prefix('/').unwrap_or(path);
            Resource::parse(&format!("/{VERSION}/{path}"))
        }
    }

    /// The class whose objects this resource creates, queries or names (`_User` for the
    /// user paths, `_Role`, `_Installation`); `None` for the others.
    pub fn class(&self) -> Option<&str> {
        match self {
            Resource::Class(class) | Resource::Object { class, .. } | Resource::Scan(class) => {
                Some(class)
            }
            Resource::Users
            | Resource::User(_)
            | Resource::Me
            | Resource::RefreshSessionToken(_)
            | Resource::UpdatePassword(_) => Some("_User"),
            Resource::Roles | Resource::Role(_) => Some("_Role"),
            Resource::Installations | Resource::Installation(_) => Some("_Installation"),
            _ => None,
        }
    }

    /// The id of the one object this resource names, when its path holds one.
    pub fn object_id(&self) -> Option<&str> {
        match self {
            Resource::Object { id, .. }
            | Resource::User(id)
            | Resource::RefreshSessionToken(id)
            | Resource::UpdatePassword(id)
            | Resource::Role(id)
            | Resource::Installation(id) => Some(id),
            _ => None,
        }
    }

    /// Whether this is where `class`'s objects are created: `POST` here answers the new
    /// object's `objectId` (a class, `/1.1/users`, `/1.1/roles`, `/1.1/installations`).
    pub fn is_collection(&self) -> bool {
        matches!(
            self,
            Resource::Class(_) | Resource::Users | Resource::Roles | Resource::Installations
        )
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(class: &str, id: &str) -> Resource {
        Resource::Object {
            class: class.into(),
            id: id.into(),
        }
    }

    #[test]
    fn every_resource_reads_back_from_its_path() {
        let all = [
            Resource::Class("Post".into()),
            object("Post", "abc"),
            Resource::Scan("Post".into()),
            Resource::Users,
            Resource::User("u1".into()),
            Resource::Me,
            Resource::RefreshSessionToken("u1".into()),
            Resource::UpdatePassword("u1".into()),
            Resource::Login,
            Resource::Roles,
            Resource::Role("r1".into()),
            Resource::Installations,
            Resource::Installation("i1".into()),
            Resource::Function("hello".into()),
            Resource::Function("Review/beforeSave".into()),
            Resource::Rpc("hello".into()),
            Resource::Batch,
            Resource::BatchSave,
            Resource::Schemas,
            Resource::Schema("Post".into()),
            Resource::Date,
            object("Po st", "a/b?c"),
        ];
        for resource in all {
            let path = resource.path();
            assert_eq!(Resource::parse(&path), Some(resource), "{path}");
        }
    }

    #[test]
    fn paths_are_the_ones_the_service_serves() {
        assert_eq!(object("Post", "p1").path(), "/1.1/classes/Post/p1");
        assert_eq!(
            object("Po st", "a/b?c").path(),
            "/1.1/classes/Po%20st/a%2Fb%3Fc"
        );
        assert_eq!(
            Resource::Function("Review/beforeSave".into()).path(),
            "/1.1/functions/Review/beforeSave"
        );
        assert_eq!(Resource::Rpc("a b".into()).path(), "/1.1/call/a%20b");
        assert_eq!(Resource::collection("_User").path(), "/1.1/users");
        assert_eq!(Resource::collection("_Role").path(), "/1.1/roles");
        assert_eq!(Resource::collection("Post").path(), "/1.1/classes/Post");
        assert_eq!(Resource::object("_User", "u").path(), "/1.1/users/u");
        assert_eq!(Resource::object("_Role", "r").path(), "/1.1/roles/r");
        assert_eq!(
            Resource::object("_Installation", "i").path(),
            "/1.1/classes/_Installation/i"
        );
    }

    #[test]
    fn parsing_takes_either_version_a_query_and_a_trailing_slash() {
        assert_eq!(Resource::parse("/1/users/me"), Some(Resource::Me));
        assert_eq!(Resource::parse("/classes/Post"), None);
        for item in ["/classes/Post", "classes/Post", "/1/classes/Post"] {
            assert_eq!(
                Resource::parse_loose(item),
                Some(Resource::Class("Post".into())),
                "{item}"
            );
        }
        assert_eq!(
            Resource::parse("/1.1/classes/Post/?where=%7B%7D"),
            Some(Resource::Class("Post".into()))
        );
        for outside in [
            "/__mock/reset",
            "/1.1/classes",
            "/1.1/classes//x",
            "/1.1/functions",
            "/1.2/date",
            "/1.1/classes/a/b/c",
            "/1.1/classes/%FF",
        ] {
            assert_eq!(Resource::parse(outside), None, "{outside}");
        }
    }

    #[test]
    fn users_and_roles_name_their_classes_and_objects() {
        let user = Resource::parse("/1.1/users/u1").unwrap();
        assert_eq!(
            (user.class(), user.object_id()),
            (Some("_User"), Some("u1"))
        );
        let me = Resource::parse("/1.1/users/me").unwrap();
        assert_eq!((me.class(), me.object_id()), (Some("_User"), None));
        let role = Resource::parse("/1.1/roles/r1").unwrap();
        assert_eq!(
            (role.class(), role.object_id()),
            (Some("_Role"), Some("r1"))
        );
        assert!(Resource::Users.is_collection() && !me.is_collection());
        assert_eq!(Resource::Batch.class(), None);
    }
}
