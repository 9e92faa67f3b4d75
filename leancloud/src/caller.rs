//! Who a request speaks for, by the keys it carries (protocol notes §1.2): nobody, a
//! client nobody signed in to (the app key), a signed-in user (the app key and their
//! session token), or the master key. Every test layer says who sends a request with a
//! [`Caller`]; the emulator resolves the keys it receives into `lc_model::Principal` (the
//! user's id and every role they hold), which is what its rules check.
//!
//! A layer that names users its own way keeps its own name for them: `Caller<U>` holds a
//! `U` for the signed-in user, a session token on the wire (the default), an index into a
//! model's users, a username in a Gherkin scenario; [`Caller::map`] turns one into the
//! other.
//!
//! The hook key is not a caller: it marks a request as the platform's or the cloud
//! engine's, whoever it speaks for, and is sent beside the keys
//! (`Client::with_hook_key`, `X-LC-Hook-Key`).

use crate::Request;

/// Who a request speaks for (see the module docs). `Copy` when its user is (an index, a
/// borrowed answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Caller<U = String> {
    /// No keys at all.
    Nobody,
    /// The app key, nobody signed in.
    Anonymous,
    /// A signed-in user: the app key with their session token. On the wire `U` is the
    /// token itself.
    User(U),
    /// The master key.
    Master,
}

impl<U> Caller<U> {
    /// The same caller with the user named another way.
    pub fn map<V>(self, f: impl FnOnce(U) -> V) -> Caller<V> {
        match self {
            Caller::Nobody => Caller::Nobody,
            Caller::Anonymous => Caller::Anonymous,
            Caller::User(user) => Caller::User(f(user)),
            Caller::Master => Caller::Master,
        }
    }

    /// The same caller, borrowing its user.
    pub fn as_ref(&self) -> Caller<&U> {
        match self {
            Caller::Nobody => Caller::Nobody,
            Caller::Anonymous => Caller::Anonymous,
            Caller::User(user) => Caller::User(user),
            Caller::Master => Caller::Master,
        }
    }

    /// The signed-in user, if this is one.
    pub fn user(&self) -> Option<&U> {
        match self {
            Caller::User(user) => Some(user),
            _ => None,
        }
    }
}

/// What a request needs to speak as any caller: the app's id and keys.
#[derive(Clone, Copy)]
pub struct Keys<'a> {
    pub app_id: &'a str,
    pub app_key: &'a str,
    pub master_key: &'a str,
}

impl<T: AsRef<str>> Caller<T> {
    /// The headers that make a request speak as this caller: `X-LC-Id` with `X-LC-Key`
    /// (`<app key>`, or `<master key>,master`) and, for a user, `X-LC-Session`; none for
    /// [`Caller::Nobody`].
    pub fn headers(&self, keys: &Keys<'_>) -> Vec<(&'static str, String)> {
        let id = ("x-lc-id", keys.app_id.to_string());
        match self {
            Caller::Nobody => Vec::new(),
            Caller::Anonymous => vec![id, ("x-lc-key", keys.app_key.to_string())],
            Caller::User(token) => vec![
                id,
                ("x-lc-key", keys.app_key.to_string()),
                ("x-lc-session", token.as_ref().to_string()),
            ],
            Caller::Master => vec![id, ("x-lc-key", format!("{},master", keys.master_key))],
        }
    }

    /// `request` sent as this caller ([`Caller::headers`] added).
    pub fn sign(&self, request: Request, keys: &Keys<'_>) -> Request {
        self.headers(keys)
            .into_iter()
            .fold(request, |request, (name, value)| {
                request.with_header(name, value)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: Keys<'static> = Keys {
        app_id: "id",
        app_key: "key",
        master_key: "master",
    };

    fn signed(caller: Caller) -> Vec<crate::http::Header> {
        caller.sign(Request::new("GET", "/1.1/date"), &KEYS).headers
    }

    #[test]
    fn each_caller_sends_its_keys() {
        assert!(signed(Caller::Nobody).is_empty());
        let pairs = |list: &[(&'static str, &'static str)]| -> Vec<crate::http::Header> {
            list.iter().map(|&(k, v)| (k.into(), v.into())).collect()
        };
        assert_eq!(
            signed(Caller::Anonymous),
            pairs(&[("x-lc-id", "id"), ("x-lc-key", "key")])
        );
        assert_eq!(
            signed(Caller::User("tok".into())),
            pairs(&[
                ("x-lc-id", "id"),
                ("x-lc-key", "key"),
                ("x-lc-session", "tok")
            ])
        );
        assert_eq!(
            signed(Caller::Master),
            pairs(&[("x-lc-id", "id"), ("x-lc-key", "master,master")])
        );
    }

    #[test]
    fn a_layer_names_its_users_its_own_way() {
        let tokens = ["t0", "t1"];
        let in_model: Caller<usize> = Caller::User(1);
        assert_eq!(in_model.map(|i| tokens[i]), Caller::User("t1"));
        assert_eq!(Caller::<usize>::Master.map(|i| tokens[i]), Caller::Master);
        assert_eq!(
            Caller::User("anna".to_string()).user().map(String::as_str),
            Some("anna")
        );
    }
}
