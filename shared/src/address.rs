//! Queue addresses: `{app_id}@{subchannel}.sinchconversation.com`, the contact center's name for
//! "this Sinch app on this channel".

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::channel::{Channel, UnknownSubchannel};

const DOMAIN: &str = ".sinchconversation.com";

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueueAddress {
    pub app_id: String,
    pub channel: Channel,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error(
        "queue address '{0}' is not of the form {{app_id}}@{{subchannel}}.sinchconversation.com"
    )]
    Malformed(String),
    #[error("queue address '{address}': {source}")]
    UnknownSubchannel {
        address: String,
        source: UnknownSubchannel,
    },
    #[error("queue address '{0}': the app id must be 1 to 64 ASCII letters or digits")]
    BadAppId(String),
}

/// Sinch app ids are ULIDs; allow any short alphanumeric id so sandboxes and tests still work.
pub fn is_valid_app_id(app_id: &str) -> bool {
    (1..=64).contains(&app_id.len()) && app_id.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl QueueAddress {
    pub fn new(app_id: impl Into<String>, channel: Channel) -> QueueAddress {
        QueueAddress {
            app_id: app_id.into(),
            channel,
        }
    }
}

impl fmt::Display for QueueAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}{DOMAIN}", self.app_id, self.channel.subchannel())
    }
}

impl FromStr for QueueAddress {
    type Err = AddressError;
    fn from_str(address: &str) -> Result<Self, Self::Err> {
        let malformed = || AddressError::Malformed(address.to_owned());
        let (app_id, host) = address.split_once('@').ok_or_else(malformed)?;
        let host = host.to_ascii_lowercase();
        let subchannel = host.strip_suffix(DOMAIN).ok_or_else(malformed)?;
        if subchannel.is_empty() || subchannel.contains('.') {
            return Err(malformed());
        }
        if !is_valid_app_id(app_id) {
            return Err(AddressError::BadAppId(address.to_owned()));
        }
        let channel = Channel::from_subchannel(subchannel).map_err(|source| {
            AddressError::UnknownSubchannel {
                address: address.to_owned(),
                source,
            }
        })?;
        Ok(QueueAddress::new(app_id, channel))
    }
}

impl Serialize for QueueAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for QueueAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for QueueAddress {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "QueueAddress".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "{app_id}@{subchannel}.sinchconversation.com",
            "pattern": "^[A-Za-z0-9]{1,64}@[a-z0-9-]+\\.sinchconversation\\.com$",
            "examples": ["01E4556565565ERKYO@whatsapp.sinchconversation.com"],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_the_seed_examples() {
        for (text, app, channel) in [
            (
                "01E4556565565ERKYO@whatsapp.sinchconversation.com",
                "01E4556565565ERKYO",
                Channel::WhatsApp,
            ),
            (
                "01EB17K24DRDHH07FVSSG00WEN@nativechannel.sinchconversation.com",
                "01EB17K24DRDHH07FVSSG00WEN",
                Channel::SinchChat,
            ),
            (
                "01F49FCDPK4V1F1WJCE8DM1MBH@facebook.sinchconversation.com",
                "01F49FCDPK4V1F1WJCE8DM1MBH",
                Channel::Messenger,
            ),
            (
                "01F44FCDPK2V6F1WJCE5DM1MBH@viber-bot.sinchconversation.com",
                "01F44FCDPK2V6F1WJCE5DM1MBH",
                Channel::ViberBot,
            ),
            (
                "01ER4ABSP36WG80BMAR2CN1XEY@sms.sinchconversation.com",
                "01ER4ABSP36WG80BMAR2CN1XEY",
                Channel::Sms,
            ),
        ] {
            let address: QueueAddress = text.parse().unwrap();
            assert_eq!(address, QueueAddress::new(app, channel));
            assert_eq!(address.to_string(), text);
        }
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        for bad in [
            "",
            "01ABC",
            "01ABC@whatsapp.example.com",
            "@whatsapp.sinchconversation.com",
            "01ABC@.sinchconversation.com",
            "01ABC@a.whatsapp.sinchconversation.com",
            "01 ABC@whatsapp.sinchconversation.com",
            "01ABC@pigeon.sinchconversation.com",
        ] {
            assert!(bad.parse::<QueueAddress>().is_err(), "{bad}");
        }
    }
}
