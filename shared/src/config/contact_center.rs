//! A tenant's contact center (the seed's `contact_center` object): who may send agent commands
//! for the tenant, and where the tenant's events go by default.
//!
//! **Senders.** SQS stamps every message with the `SenderId` system attribute, taken from the
//! credentials of the caller of `SendMessage`: an IAM user's unique id (`AIDA…`), or for a role
//! `AROA…:{session name}` (the role's unique id, then the session). No sender can set or forge
//! it, and Lambda hands it to the function in each record's `attributes.SenderId`. The outbound
//! function carries a command out only when that id is one of the command's tenant's
//! `sender_ids`: an entry matches a sender id equal to it, and an entry without `:` (a role's
//! unique id, `AROA…`) also matches every session of that role (`AROA…:anything`). A tenant
//! without the list (as every tenant stored before it existed) refuses every command.
//!
//! **Default target.** `default_target_queue_url` is where every queue of the tenant without a
//! `target_queue_url` of its own sends its events (and the `send_result`s of its commands); when
//! absent too, the stack's shared events queue. See [`super::targets`].

use serde::Deserialize;

/// The `SenderId` moto 5.2.5 (the local AWS of `make dev` and the tests) puts on every message,
/// whoever sent it (`moto/sqs/models.py`, `DEFAULT_SENDER_ID`). The demo seed names it for tenant
/// `demo`, so commands put locally are carried out for that tenant and no other.
pub const MOTO_SENDER_ID: &str = "AIDAIT2UOQQY3AUEKVGXU";

/// IAM's prefix of a role's unique id.
const ROLE_ID_PREFIX: &str = "AROA";

/// The longest entry accepted: a unique id (at most 128 characters), `:` and a session name (at
/// most 64).
const MAX_SENDER_ID_CHARS: usize = 128 + 1 + 64;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactCenterSettings {
    /// The principals allowed to put commands for this tenant on `replies.fifo`, as SQS names
    /// them in `SenderId`: `AIDA…` (an IAM user), `AROA…` (every session of a role),
    /// `AROA…:{session}` (one session), or an account id (its root user). Empty: every command
    /// is refused.
    #[serde(default)]
    pub sender_ids: Vec<String>,
    /// Where the tenant's events go for every queue without a `target_queue_url` of its own;
    /// absent: the stack's events queue.
    #[serde(default)]
    pub default_target_queue_url: Option<String>,
}

/// Whether a record's sender may send commands for a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderCheck {
    Allowed,
    /// The record carries no `SenderId` (never the case for a message SQS delivered).
    NoSenderId,
    /// The tenant names no sender at all (not seeded with `contact_center.sender_ids`).
    TenantNamesNoSenders,
    /// The tenant names senders, and this is not one of them.
    NotListed,
}

impl SenderCheck {
    /// For logs and the refusal metric: a fixed word, never input.
    pub fn reason(self) -> &'static str {
        match self {
            SenderCheck::Allowed => "allowed",
            SenderCheck::NoSenderId => "no_sender_id",
            SenderCheck::TenantNamesNoSenders => "tenant_names_no_senders",
            SenderCheck::NotListed => "sender_not_listed",
        }
    }
}

impl ContactCenterSettings {
    /// Whether `sender_id` (a record's `SenderId`) may send commands for this tenant.
    pub fn check_sender(&self, sender_id: Option<&str>) -> SenderCheck {
        if self.sender_ids.is_empty() {
            return SenderCheck::TenantNamesNoSenders;
        }
        let Some(sender) = sender_id.filter(|s| !s.is_empty()) else {
            return SenderCheck::NoSenderId;
        };
        if self
            .sender_ids
            .iter()
            .any(|entry| sender_matches(entry, sender))
        {
            SenderCheck::Allowed
        } else {
            SenderCheck::NotListed
        }
    }

    /// Refuses malformed entries, naming the field and the entry's position (never a secret:
    /// these are principal ids).
    pub fn validate(&self) -> Result<(), String> {
        for (index, entry) in self.sender_ids.iter().enumerate() {
            check_sender_entry(entry).map_err(|problem| {
                format!("contact_center.sender_ids[{index}] '{entry}' {problem}")
            })?;
        }
        let mut seen = std::collections::BTreeSet::new();
        for (index, entry) in self.sender_ids.iter().enumerate() {
            if !seen.insert(entry) {
                return Err(format!(
                    "contact_center.sender_ids[{index}] '{entry}' is listed twice"
                ));
            }
        }
        if let Some(url) = &self.default_target_queue_url {
            super::targets::check_target_queue_url(url)
                .map_err(|problem| format!("contact_center.default_target_queue_url {problem}"))?;
        }
        Ok(())
    }
}

/// An entry matches the same id, and a role's unique id (`AROA…`, no session) every session of
/// that role (`AROA…:session`). The part before `:` is the unique id SQS vouches for; the session
/// name is chosen by whoever assumes the role, so an entry naming one session trusts only that
/// session, and an entry naming the role trusts every session of it. Only role ids take
/// sessions: a user id (`AIDA…`) matches itself alone.
fn sender_matches(entry: &str, sender: &str) -> bool {
    if entry == sender {
        return true;
    }
    entry.starts_with(ROLE_ID_PREFIX)
        && !entry.contains(':')
        && sender
            .strip_prefix(entry)
            .is_some_and(|rest| rest.starts_with(':'))
}

/// `{unique id}` or `{unique id}:{session}`: the unique id upper-case letters and digits (IAM's
/// unique ids, `AIDA…`/`AROA…`, or a 12-digit account id), 12 to 128 characters; the session
/// name 2 to 64 of IAM's `[A-Za-z0-9_+=,.@-]`.
fn check_sender_entry(entry: &str) -> Result<(), &'static str> {
    if entry.is_empty() {
        return Err("is empty");
    }
    if entry.len() > MAX_SENDER_ID_CHARS {
        return Err("is too long");
    }
    if entry.chars().any(char::is_whitespace) {
        return Err("contains whitespace");
    }
    let (id, session) = match entry.split_once(':') {
        Some((id, session)) => (id, Some(session)),
        None => (entry, None),
    };
    if !(12..=128).contains(&id.len())
        || !id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Err(
            "must be an IAM unique id (upper-case letters and digits, e.g. AIDA… or AROA…), \
             optionally followed by ':' and a role session name",
        );
    }
    if let Some(session) = session
        && (!(2..=64).contains(&session.len())
            || !session
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b)))
    {
        return Err("has a session name that is not 2 to 64 of A-Z a-z 0-9 _ + = , . @ -");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(ids: &[&str]) -> ContactCenterSettings {
        ContactCenterSettings {
            sender_ids: ids.iter().map(|s| (*s).to_owned()).collect(),
            default_target_queue_url: None,
        }
    }

    #[test]
    fn exact_ids_and_role_ids_match_and_nothing_else_does() {
        let cc = settings(&["AIDAEXAMPLEUSER00001", "AROAEXAMPLEROLE00001"]);
        assert_eq!(
            cc.check_sender(Some("AIDAEXAMPLEUSER00001")),
            SenderCheck::Allowed
        );
        assert_eq!(
            cc.check_sender(Some("AROAEXAMPLEROLE00001:agent-desktop")),
            SenderCheck::Allowed,
            "every session of a listed role"
        );
        for refused in [
            "AIDAEXAMPLEUSER000011",
            "AIDAEXAMPLEUSER0000",
            "AROAEXAMPLEROLE000012:agent",
            "AIDAEXAMPLEUSER00001:session",
            "aidaexampleuser00001",
            "AROAOTHERROLE0000001:agent-desktop",
        ] {
            assert_eq!(
                cc.check_sender(Some(refused)),
                SenderCheck::NotListed,
                "{refused}"
            );
        }
        assert_eq!(cc.check_sender(None), SenderCheck::NoSenderId);
        assert_eq!(cc.check_sender(Some("")), SenderCheck::NoSenderId);
    }

    #[test]
    fn an_entry_naming_a_session_trusts_only_that_session() {
        let cc = settings(&["AROAEXAMPLEROLE00001:desk-1"]);
        assert_eq!(
            cc.check_sender(Some("AROAEXAMPLEROLE00001:desk-1")),
            SenderCheck::Allowed
        );
        assert_eq!(
            cc.check_sender(Some("AROAEXAMPLEROLE00001:desk-2")),
            SenderCheck::NotListed
        );
        assert_eq!(
            cc.check_sender(Some("AROAEXAMPLEROLE00001")),
            SenderCheck::NotListed
        );
    }

    #[test]
    fn a_tenant_without_senders_refuses_everyone() {
        let cc = ContactCenterSettings::default();
        assert_eq!(
            cc.check_sender(Some(MOTO_SENDER_ID)),
            SenderCheck::TenantNamesNoSenders
        );
        assert_eq!(cc.check_sender(None), SenderCheck::TenantNamesNoSenders);
    }

    #[test]
    fn malformed_entries_are_refused_naming_the_field() {
        for (bad, problem) in [
            ("", "is empty"),
            ("AIDA EXAMPLE USER", "whitespace"),
            ("AIDAEXAMPLEUSER00001\n", "whitespace"),
            ("aidaexampleuser00001", "IAM unique id"),
            ("AIDA-EXAMPLE-USER01", "IAM unique id"),
            ("AIDA1", "IAM unique id"),
            ("arn:aws:iam::123456789012:user/x", "IAM unique id"),
            ("AROAEXAMPLEROLE00001:", "session name"),
            ("AROAEXAMPLEROLE00001:a/b", "session name"),
            ("*", "IAM unique id"),
        ] {
            let err = settings(&["AIDAEXAMPLEUSER00001", bad])
                .validate()
                .unwrap_err();
            assert!(
                err.contains("contact_center.sender_ids[1]") && err.contains(problem),
                "{bad:?}: {err}"
            );
        }
        let err = settings(&["AIDAEXAMPLEUSER00001", "AIDAEXAMPLEUSER00001"])
            .validate()
            .unwrap_err();
        assert!(err.contains("twice"), "{err}");
        for good in [
            MOTO_SENDER_ID,
            "AROAEXAMPLEROLE00001",
            "AROAEXAMPLEROLE00001:i-0abc.desk_1@x=y,z+w",
            "123456789012",
        ] {
            assert_eq!(settings(&[good]).validate(), Ok(()), "{good}");
        }
    }

    #[test]
    fn unknown_fields_are_refused_and_absent_means_no_senders() {
        let parsed: ContactCenterSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(parsed, ContactCenterSettings::default());
        assert!(
            serde_json::from_str::<ContactCenterSettings>(r#"{"sender_id": []}"#)
                .unwrap_err()
                .to_string()
                .contains("sender_id")
        );
    }

    #[test]
    fn the_demo_seed_lets_moto_send_for_demo_and_not_for_demo_other() {
        let seed = crate::config::SeedFile::parse(include_str!("../../../infra/seed/demo.json"))
            .expect("the demo seed is valid");
        let check = |id: &str| {
            seed.tenants
                .iter()
                .find(|t| t.id.as_str() == id)
                .unwrap_or_else(|| panic!("tenant {id} in the demo seed"))
                .contact_center
                .check_sender(Some(MOTO_SENDER_ID))
        };
        assert_eq!(check("demo"), SenderCheck::Allowed);
        assert_eq!(check("demo-other"), SenderCheck::NotListed);
    }
}
