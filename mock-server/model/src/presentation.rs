//! How an object is shown: to a client, and to cloud code. Every answer that carries an
//! object, and every object a hook receives, is made here.
//!
//! - [`View`]: what a request asks to see (`keys`, `include`, `returnACL`) and how it
//!   renders a stored object.
//! - [`client`]: a client's view: the rendering, then the class's column rules (hidden
//!   columns left out, defaults shown, never a password); a user's `sessionToken` only
//!   for the user themselves; the answers of creates and updates.
//! - [`hook`]: cloud code's view (the hook protocol): every field, hidden columns too,
//!   with `ACL` and the built-ins; a new object without them; an update with
//!   `_updatedKeys`; the requesting user with their session token.

pub mod client;
pub mod hook;
mod view;

pub(crate) use view::Plan;
pub use view::View;
