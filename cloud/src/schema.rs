//! The app's data: class names, the role, and the fields the app manages itself (which
//! clients may not set).
//!
//! | class | fields |
//! |---|---|
//! | `_User` | `displayName`, `role` (customer\|owner), `banned`, `reviewCount` |
//! | `Address` | `street`, `city`, `region`, `postalCode`, `country`, `location` (GeoPoint) |
//! | `Business` | `name`, `category`, `phone`, `country`, `address` -> Address, `location` (GeoPoint), `owner` -> _User, `status` (pending\|active\|suspended), `ratingCount`, `ratingSum`, `ratingAvg` |
//! | `Review` | `business` -> Business, `author` -> _User, `stars` (1-5), `text`, `countedStars` |
//!
//! `Review.countedStars` is the number of stars the review currently contributes to its
//! business's `ratingSum` (absent until its afterSave counted it); see [`crate::ratings`].

pub const USER: &str = "_User";
pub const ADDRESS: &str = "Address";
pub const BUSINESS: &str = "Business";
pub const REVIEW: &str = "Review";

/// The role whose members moderate businesses (role inheritance counts).
pub const MODERATORS: &str = "Moderators";

/// `_User` fields only the app (the master key) may set.
pub const USER_MANAGED: [&str; 3] = ["role", "banned", "reviewCount"];

/// `Business` fields only the master key may change.
pub const BUSINESS_MASTER_ONLY: [&str; 5] =
    ["owner", "ratingCount", "ratingSum", "ratingAvg", "ACL"];

/// `Review` fields a review's author may change.
pub const REVIEW_EDITABLE: [&str; 2] = ["stars", "text"];
