//! Sinch channel ids and the contact center's subchannel names, both ways.
//!
//! A queue address names a channel by *subchannel* (`whatsapp`, `facebook`, `nativechannel`…),
//! the names Sinch Contact Pro uses; Sinch callbacks and requests name it by its Conversation API
//! channel id (`WHATSAPP`, `MESSENGER`, `SINCH_CHAT`…). Sinch adds channels over time, so an
//! unknown id is kept as [`Channel::Other`] instead of failing a callback.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Sinch Conversation API channel id (`ConversationChannel`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    Sms,
    Rcs,
    WhatsApp,
    Mms,
    KakaoTalk,
    KakaoTalkChat,
    /// Viber Business Messages (`VIBERBM`): the contact center's `viber` subchannel.
    ViberBm,
    /// Viber Bot (`VIBER`): the contact center's `viber-bot` subchannel.
    ViberBot,
    Line,
    Instagram,
    Messenger,
    WeChat,
    Telegram,
    AppleBc,
    SinchChat,
    SinchPush,
    /// A channel id this build does not know yet, kept verbatim.
    Other(String),
}

/// (channel, Sinch id, subchannel in queue addresses). One table so the two directions cannot drift.
const CHANNELS: &[(Channel, &str, &str)] = &[
    (Channel::Sms, "SMS", "sms"),
    (Channel::Rcs, "RCS", "rcs"),
    (Channel::WhatsApp, "WHATSAPP", "whatsapp"),
    (Channel::Mms, "MMS", "mms"),
    (Channel::KakaoTalk, "KAKAOTALK", "kakaotalk"),
    (Channel::KakaoTalkChat, "KAKAOTALKCHAT", "kakaotalkchat"),
    (Channel::ViberBm, "VIBERBM", "viber"),
    (Channel::ViberBot, "VIBER", "viber-bot"),
    (Channel::Line, "LINE", "line"),
    (Channel::Instagram, "INSTAGRAM", "instagram"),
    (Channel::Messenger, "MESSENGER", "facebook"),
    (Channel::WeChat, "WECHAT", "wechat"),
    (Channel::Telegram, "TELEGRAM", "telegram"),
    (Channel::AppleBc, "APPLEBC", "applebc"),
    (Channel::SinchChat, "SINCH_CHAT", "nativechannel"),
    (Channel::SinchPush, "SINCH_PUSH", "sinchpush"),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown subchannel '{0}' (known: {known})", known = known_subchannels())]
pub struct UnknownSubchannel(pub String);

fn known_subchannels() -> String {
    CHANNELS
        .iter()
        .map(|(_, _, sub)| *sub)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Channel {
    /// Every channel this build knows, in a stable order.
    pub fn known() -> impl Iterator<Item = &'static Channel> {
        CHANNELS.iter().map(|(channel, _, _)| channel)
    }

    /// The Sinch channel id, e.g. `WHATSAPP`.
    pub fn sinch_id(&self) -> &str {
        match self {
            Channel::Other(id) => id,
            known => CHANNELS
                .iter()
                .find(|(channel, _, _)| channel == known)
                .map_or("", |(_, id, _)| id),
        }
    }

    /// The subchannel used in queue addresses, e.g. `whatsapp` or `facebook`.
    /// A channel this build does not know uses its id in lower case, so an address still forms.
    pub fn subchannel(&self) -> String {
        match self {
            Channel::Other(id) => id.to_ascii_lowercase(),
            known => CHANNELS
                .iter()
                .find(|(channel, _, _)| channel == known)
                .map_or_else(String::new, |(_, _, sub)| (*sub).to_owned()),
        }
    }

    /// The channel of a queue address's subchannel (case-insensitive).
    pub fn from_subchannel(subchannel: &str) -> Result<Channel, UnknownSubchannel> {
        CHANNELS
            .iter()
            .find(|(_, _, sub)| sub.eq_ignore_ascii_case(subchannel))
            .map(|(channel, _, _)| channel.clone())
            .ok_or_else(|| UnknownSubchannel(subchannel.to_owned()))
    }

    /// The channel of a Sinch id; never fails (unknown ids become [`Channel::Other`]).
    pub fn from_sinch_id(id: &str) -> Channel {
        CHANNELS
            .iter()
            .find(|(_, known, _)| *known == id)
            .map_or_else(
                || Channel::Other(id.to_owned()),
                |(channel, _, _)| channel.clone(),
            )
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sinch_id())
    }
}

impl FromStr for Channel {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Channel::from_sinch_id(s))
    }
}

impl Serialize for Channel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.sinch_id())
    }
}

impl<'de> Deserialize<'de> for Channel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        Ok(Channel::from_sinch_id(&id))
    }
}

impl schemars::JsonSchema for Channel {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Channel".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let known: Vec<&str> = CHANNELS.iter().map(|(_, id, _)| *id).collect();
        schemars::json_schema!({
            "type": "string",
            "description": "Sinch Conversation API channel id. Open set: channels Sinch adds later arrive verbatim.",
            "examples": known,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_subchannel_maps_to_its_sinch_channel() {
        let seeds = [
            ("whatsapp", "WHATSAPP"),
            ("nativechannel", "SINCH_CHAT"),
            ("facebook", "MESSENGER"),
            ("viber-bot", "VIBER"),
            ("instagram", "INSTAGRAM"),
            ("viber", "VIBERBM"),
            ("telegram", "TELEGRAM"),
            ("line", "LINE"),
            ("rcs", "RCS"),
            ("sms", "SMS"),
            ("wechat", "WECHAT"),
            ("mms", "MMS"),
            ("kakaotalk", "KAKAOTALK"),
            ("applebc", "APPLEBC"),
        ];
        for (sub, id) in seeds {
            let channel = Channel::from_subchannel(sub).unwrap();
            assert_eq!(channel.sinch_id(), id, "{sub}");
            assert_eq!(channel.subchannel(), sub, "{id}");
            assert_eq!(Channel::from_sinch_id(id), channel);
        }
    }

    #[test]
    fn both_directions_round_trip_for_every_known_channel() {
        for channel in Channel::known() {
            assert_eq!(&Channel::from_sinch_id(channel.sinch_id()), channel);
            assert_eq!(
                &Channel::from_subchannel(&channel.subchannel()).unwrap(),
                channel
            );
        }
    }

    #[test]
    fn unknown_ids_are_kept_and_unknown_subchannels_refused() {
        let channel: Channel = serde_json::from_str("\"NEWCHAT\"").unwrap();
        assert_eq!(channel, Channel::Other("NEWCHAT".into()));
        assert_eq!(serde_json::to_string(&channel).unwrap(), "\"NEWCHAT\"");
        assert_eq!(channel.subchannel(), "newchat");
        let err = Channel::from_subchannel("pigeon").unwrap_err();
        assert!(err.to_string().contains("pigeon"));
    }
}
