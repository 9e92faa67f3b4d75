//! The outbox: everything the app would send to the outside world (SMS, email, push
//! notifications, captcha images) lands here instead of at a provider, for tests, Gherkin
//! steps and the console to read. No message ever leaves the emulator.
//!
//! A message carries what its reader needs to go on with the flow it belongs to: the
//! code of an SMS or a captcha, the link of an email. It is part of the app's state, so
//! a snapshot, a fork and a reset take it with the rest: a test that resets the app
//! starts with an empty outbox.

use imbl::Vector;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// Messages the outbox keeps; past it the oldest go first. Ten thousand is far more than
/// one test or scenario sends, and bounds what a long-running server holds.
pub const MAX_OUTBOX_MESSAGES: usize = 10_000;

/// How a message would have travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    Email,
    Push,
    Captcha,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
            Channel::Push => "push",
            Channel::Captcha => "captcha",
        }
    }

    pub fn parse(name: &str) -> Option<Channel> {
        [
            Channel::Sms,
            Channel::Email,
            Channel::Push,
            Channel::Captcha,
        ]
        .into_iter()
        .find(|c| c.as_str() == name)
    }
}

/// One message the app would have sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// `m` and a decimal counter, unique within the app (never reused after a reset).
    pub id: String,
    pub channel: Channel,
    /// What the message is for, named after the flow that sent it (`verifyMobilePhone`,
    /// `login`, `resetPassword`, `verifyEmail`, `push`, ...).
    pub purpose: String,
    /// Whom it was for: a phone number, an email address, an installation's id or device
    /// token; empty for a captcha, which goes back to the requester.
    pub to: String,
    /// The email's subject, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The message as its reader would see it.
    pub text: String,
    /// The code it carries (an SMS or captcha code), which the flow then accepts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The link it carries (an email verification or password reset page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Anything else the flow wants a reader to have (a push's payload, say).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub data: Value,
    /// When it was sent, in ms since the epoch (the app's clock).
    pub sent_at: i64,
}

/// What a flow hands the outbox; the outbox numbers it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Draft {
    pub purpose: String,
    pub to: String,
    pub subject: Option<String>,
    pub text: String,
    pub code: Option<String>,
    pub link: Option<String>,
    pub data: Value,
}

/// Which messages a reader wants; every given field must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub channel: Option<Channel>,
    pub to: Option<String>,
    pub purpose: Option<String>,
}

impl Filter {
    fn matches(&self, m: &Message) -> bool {
        self.channel.is_none_or(|c| c == m.channel)
            && self.to.as_ref().is_none_or(|t| *t == m.to)
            && self.purpose.as_ref().is_none_or(|p| *p == m.purpose)
    }
}

/// The app's outbox: a persistent list, so copying it with a snapshot costs nothing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Outbox {
    messages: Vector<Arc<Message>>,
    /// The number the next message gets.
    next: u64,
}

impl Outbox {
    /// Keep a message sent on `channel` at `now` (ms); returns it as kept.
    pub fn send(&mut self, channel: Channel, draft: Draft, now: i64) -> Arc<Message> {
        self.next += 1;
        let message = Arc::new(Message {
            id: format!("m{}", self.next),
            channel,
            purpose: draft.purpose,
            to: draft.to,
            subject: draft.subject,
            text: draft.text,
            code: draft.code,
            link: draft.link,
            data: draft.data,
            sent_at: now,
        });
        self.messages.push_back(message.clone());
        while self.messages.len() > MAX_OUTBOX_MESSAGES {
            self.messages.pop_front();
        }
        message
    }

    /// The messages `filter` asks for, oldest first.
    pub fn list(&self, filter: &Filter) -> Vec<Arc<Message>> {
        self.messages
            .iter()
            .filter(|m| filter.matches(m))
            .cloned()
            .collect()
    }

    /// The newest message `filter` asks for.
    pub fn last(&self, filter: &Filter) -> Option<Arc<Message>> {
        self.messages
            .iter()
            .rev()
            .find(|m| filter.matches(m))
            .cloned()
    }

    /// Forget every message (numbers go on from where they were).
    pub fn clear(&mut self) {
        self.messages.clear();
    }

    /// Whether `other` is this very outbox (a copy that shares its list).
    pub fn same(&self, other: &Outbox) -> bool {
        self.next == other.next && self.messages.ptr_eq(&other.messages)
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sms(to: &str, code: &str) -> Draft {
        Draft {
            purpose: "sms".into(),
            to: to.into(),
            text: format!("Your code is {code}"),
            code: Some(code.into()),
            ..Draft::default()
        }
    }

    #[test]
    fn messages_are_numbered_kept_in_order_and_filtered() {
        let mut outbox = Outbox::default();
        outbox.send(Channel::Sms, sms("+8613800000001", "111111"), 1);
        outbox.send(Channel::Sms, sms("+8613800000002", "222222"), 2);
        let email = Draft {
            purpose: "verifyEmail".into(),
            to: "a@example.com".into(),
            link: Some("http://x/verify".into()),
            ..Draft::default()
        };
        outbox.send(Channel::Email, email, 3);
        let all = outbox.list(&Filter::default());
        assert_eq!(
            all.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
            ["m1", "m2", "m3"]
        );
        let to_second = Filter {
            to: Some("+8613800000002".into()),
            ..Filter::default()
        };
        assert_eq!(outbox.list(&to_second)[0].code.as_deref(), Some("222222"));
        let sms_only = Filter {
            channel: Some(Channel::Sms),
            ..Filter::default()
        };
        assert_eq!(outbox.last(&sms_only).unwrap().id, "m2");
        outbox.clear();
        assert!(outbox.is_empty());
        assert_eq!(outbox.send(Channel::Push, Draft::default(), 4).id, "m4");
    }

    #[test]
    fn past_the_limit_the_oldest_messages_go_first() {
        let mut outbox = Outbox::default();
        for i in 0..MAX_OUTBOX_MESSAGES + 3 {
            outbox.send(Channel::Sms, sms("+1", &i.to_string()), i as i64);
        }
        assert_eq!(outbox.len(), MAX_OUTBOX_MESSAGES);
        assert_eq!(outbox.list(&Filter::default())[0].id, "m4");
    }

    #[test]
    fn a_copy_is_independent_of_the_original() {
        let mut outbox = Outbox::default();
        outbox.send(Channel::Sms, sms("+1", "1"), 0);
        let copy = outbox.clone();
        outbox.send(Channel::Sms, sms("+1", "2"), 0);
        assert_eq!(copy.len(), 1);
        assert_eq!(outbox.len(), 2);
    }

    #[test]
    fn channels_have_their_wire_names() {
        for c in [
            Channel::Sms,
            Channel::Email,
            Channel::Push,
            Channel::Captcha,
        ] {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert_eq!(Channel::parse("fax"), None);
    }
}
