//! Which addresses a media fetch may connect to (OWASP's SSRF rules).
//!
//! Customers choose media URLs (a Sinch callback carries whatever URL the channel gave), so the
//! fetcher must never be turned against the function's own network. The policy is an
//! allow-list, not a list of what to avoid:
//!
//! - **IPv4**: any address outside the IANA special-purpose registry (no loopback, private,
//!   link-local, CGNAT, multicast, broadcast, documentation, benchmarking, protocol-assignment,
//!   AS112/AMT or reserved address), and never the instance metadata service (169.254.169.254,
//!   169.254.170.2);
//! - **IPv6**: global unicast `2000::/3` only, less the special-purpose blocks inside it
//!   ([`IPV6_SPECIAL_IN_GLOBAL`]): `2001::/23` (IETF protocol assignments: Teredo, benchmarking,
//!   AMT, AS112, ORCHID, DRONE; refused whole, although a few of its blocks are globally
//!   reachable: none of them hosts media), `2001:db8::/32` and `3fff::/20` (documentation),
//!   `2002::/16` (6to4, which carries an IPv4 address that would escape the IPv4 checks) and
//!   `2620:4f:8000::/48` (AS112 direct delegation). Everything outside `2000::/3` (loopback,
//!   unique local, link-local, multicast, NAT64, discard, IPv4-compatible, unassigned space,
//!   the EC2 metadata address fd00:ec2::254) is refused, except:
//! - **IPv4-mapped** `::ffff:0:0/96`, judged as the IPv4 address it maps (a socket connects to
//!   exactly that IPv4 address), so a mapped private address is refused and a mapped public one
//!   is not.
//!
//! The check runs on every address the HTTP client actually connects to (the resolver applies
//! it), so a name that resolves to a private address, or a redirect to one, is refused as well.
//!
//! For local runs only, an explicit list of `IP:port` loopback endpoints may be let through
//! (`SWITCHBOARD_MEDIA_ALLOW_LOCAL`): only URLs naming that literal IP and port match (a DNS
//! name never does, not even `localhost`), and the list is refused at start-up when the
//! function runs in AWS Lambda for real ([`running_in_real_lambda`]). The template never sets it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Why an address is refused, for the media item's `failure_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Loopback,
    Private,
    LinkLocal,
    SharedAddressSpace,
    Multicast,
    Unspecified,
    Reserved,
    Metadata,
    /// IPv6 outside global unicast `2000::/3`, or a special-purpose block inside it.
    NotGlobalUnicast,
}

impl Refused {
    pub fn as_str(self) -> &'static str {
        match self {
            Refused::Loopback => "loopback address",
            Refused::Private => "private address",
            Refused::LinkLocal => "link-local address",
            Refused::SharedAddressSpace => "carrier-grade NAT address",
            Refused::Multicast => "multicast address",
            Refused::Unspecified => "unspecified address",
            Refused::Reserved => "reserved or documentation address",
            Refused::Metadata => "instance metadata address",
            Refused::NotGlobalUnicast => "not a global unicast IPv6 address",
        }
    }
}

/// IPv4 special-purpose blocks not caught by the standard library's predicates below, as
/// (network, prefix length): IANA's IPv4 special-purpose registry.
const IPV4_SPECIAL: &[([u8; 4], u8)] = &[
    ([192, 0, 0, 0], 24),    // IETF protocol assignments
    ([192, 0, 2, 0], 24),    // TEST-NET-1
    ([192, 31, 196, 0], 24), // AS112-v4
    ([192, 52, 193, 0], 24), // AMT
    ([192, 88, 99, 0], 24),  // 6to4 relay anycast (deprecated)
    ([192, 175, 48, 0], 24), // direct delegation AS112
    ([198, 18, 0, 0], 15),   // benchmarking
    ([198, 51, 100, 0], 24), // TEST-NET-2
    ([203, 0, 113, 0], 24),  // TEST-NET-3
    ([240, 0, 0, 0], 4),     // reserved (and the limited broadcast address)
];

/// The special-purpose blocks of IANA's IPv6 registry that lie inside `2000::/3`, as
/// (network, prefix length). Refused whole.
pub const IPV6_SPECIAL_IN_GLOBAL: &[(Ipv6Addr, u8)] = &[
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23), // IETF protocol assignments (Teredo, …)
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
    (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16), // 6to4
    (Ipv6Addr::new(0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0), 48), // direct delegation AS112
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20), // documentation
];

fn v4_in(ip: Ipv4Addr, (network, len): ([u8; 4], u8)) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(network)) & mask
}

fn v6_in(ip: Ipv6Addr, (network, len): (Ipv6Addr, u8)) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(network) & mask
}

fn check_v4(ip: Ipv4Addr) -> Result<(), Refused> {
    let [a, b, _, _] = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) || ip == Ipv4Addr::new(169, 254, 170, 2) {
        return Err(Refused::Metadata);
    }
    if ip.is_unspecified() || a == 0 {
        return Err(Refused::Unspecified);
    }
    if ip.is_loopback() {
        return Err(Refused::Loopback);
    }
    if ip.is_private() {
        return Err(Refused::Private);
    }
    if ip.is_link_local() {
        return Err(Refused::LinkLocal);
    }
    if a == 100 && (64..=127).contains(&b) {
        return Err(Refused::SharedAddressSpace);
    }
    if ip.is_multicast() {
        return Err(Refused::Multicast);
    }
    if ip.is_broadcast() || IPV4_SPECIAL.iter().any(|block| v4_in(ip, *block)) {
        return Err(Refused::Reserved);
    }
    Ok(())
}

fn check_v6(ip: Ipv6Addr) -> Result<(), Refused> {
    // An IPv4 address in IPv6 clothing is judged as the IPv4 address it carries: a socket to
    // ::ffff:a.b.c.d reaches a.b.c.d.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return check_v4(v4);
    }
    let first = ip.segments()[0];
    if first & 0xe000 == 0x2000 {
        // Global unicast, less its special-purpose blocks.
        return if IPV6_SPECIAL_IN_GLOBAL.iter().any(|block| v6_in(ip, *block)) {
            Err(Refused::NotGlobalUnicast)
        } else {
            Ok(())
        };
    }
    // Outside 2000::/3: refused; the reason names what it is where that helps.
    Err(
        if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
            Refused::Metadata
        } else if ip.is_unspecified() {
            Refused::Unspecified
        } else if ip.is_loopback() {
            Refused::Loopback
        } else if ip.is_multicast() {
            Refused::Multicast
        } else if first & 0xfe00 == 0xfc00 {
            Refused::Private // unique local fc00::/7
        } else if first & 0xffc0 == 0xfe80 {
            Refused::LinkLocal
        } else {
            Refused::NotGlobalUnicast
        },
    )
}

/// Whether a fetch may connect to `ip`.
pub fn check_ip(ip: IpAddr) -> Result<(), Refused> {
    match ip {
        IpAddr::V4(v4) => check_v4(v4),
        IpAddr::V6(v6) => check_v6(v6),
    }
}

/// Whether the function runs in AWS Lambda for real, where the local escape
/// (`SWITCHBOARD_MEDIA_ALLOW_LOCAL`) must not exist. The rule: the Lambda runtime's
/// `AWS_LAMBDA_FUNCTION_NAME` is set, and `AWS_ENDPOINT_URL` does not point at a loopback
/// address. The local Lambda emulator sets `AWS_LAMBDA_*` exactly as Lambda does, but every
/// local run also points the SDK at moto on loopback (`AWS_ENDPOINT_URL=http://127.0.0.1:4566`);
/// a deployed function has no such endpoint, and one set to loopback there could reach no AWS
/// service at all. Tests and tools outside any Lambda runtime (no `AWS_LAMBDA_FUNCTION_NAME`)
/// are not in Lambda.
pub fn running_in_real_lambda(env: impl Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| env(name).filter(|value| !value.trim().is_empty());
    if set("AWS_LAMBDA_FUNCTION_NAME").is_none() {
        return false;
    }
    let endpoint_is_loopback = set("AWS_ENDPOINT_URL")
        .is_some_and(|endpoint| crate::loopback::is_loopback_text(&endpoint));
    !endpoint_is_loopback
}

/// The address policy of one fetcher: the public internet, plus the loopback endpoints a local
/// run lets through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allowed_local: Vec<SocketAddr>,
}

impl AddressPolicy {
    /// `list` is `SWITCHBOARD_MEDIA_ALLOW_LOCAL`: comma-separated `IP:port`, each a loopback
    /// address (`127.0.0.1:8080`, `[::1]:8080`; never a name, not even `localhost`). Refused
    /// when not empty in AWS Lambda for real ([`running_in_real_lambda`], by the process
    /// environment).
    pub fn with_allowed_local(list: &str) -> Result<AddressPolicy, String> {
        AddressPolicy::with_allowed_local_in(list, |name| std::env::var(name).ok())
    }

    /// [`with_allowed_local`](AddressPolicy::with_allowed_local), with the environment given.
    pub fn with_allowed_local_in(
        list: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<AddressPolicy, String> {
        let mut allowed_local = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let addr: SocketAddr = entry.parse().map_err(|_| {
                format!(
                    "'{entry}' is not a literal IP:port (127.0.0.1:8080 or [::1]:8080; names such as localhost are not accepted)"
                )
            })?;
            if !addr.ip().is_loopback() {
                return Err(format!(
                    "'{entry}' is not a loopback address; only local endpoints can be allowed"
                ));
            }
            allowed_local.push(addr);
        }
        if !allowed_local.is_empty() && running_in_real_lambda(env) {
            return Err(
                "is for local runs only and is refused in AWS Lambda (AWS_LAMBDA_FUNCTION_NAME is set and AWS_ENDPOINT_URL is not a loopback endpoint); remove it from the function's environment"
                    .into(),
            );
        }
        Ok(AddressPolicy { allowed_local })
    }

    /// Whether this is one of the allowed local endpoints.
    pub fn is_allowed_local(&self, addr: SocketAddr) -> bool {
        self.allowed_local.contains(&addr)
    }

    /// Whether a fetch may connect to this socket address (an IP literal of a URL, with its
    /// port).
    pub fn check(&self, addr: SocketAddr) -> Result<(), Refused> {
        if self.is_allowed_local(addr) {
            return Ok(());
        }
        check_ip(addr.ip())
    }

    /// Whether an address a name resolved to may be connected to. Only names reach the
    /// resolver (IP literals do not), and the local escape never applies to a name: this is
    /// the public policy alone.
    pub fn check_resolved(&self, ip: IpAddr) -> Result<(), Refused> {
        check_ip(ip)
    }

    /// Plain http is allowed only to an allowed local endpoint, named by its literal IP.
    pub fn allows_plain_http(&self, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host.parse::<IpAddr>()
            .is_ok_and(|ip| self.is_allowed_local(SocketAddr::new(ip, port)))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn refused(text: &str) -> Option<Refused> {
        check_ip(text.parse().unwrap()).err()
    }

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_addresses_the_issue_names_are_refused() {
        for (ip, why) in [
            ("127.0.0.1", Refused::Loopback),
            ("127.1.2.3", Refused::Loopback),
            ("10.0.0.1", Refused::Private),
            ("172.16.5.4", Refused::Private),
            ("192.168.1.1", Refused::Private),
            ("169.254.169.254", Refused::Metadata),
            ("169.254.170.2", Refused::Metadata),
            ("169.254.1.1", Refused::LinkLocal),
            ("100.64.0.1", Refused::SharedAddressSpace),
            ("224.0.0.1", Refused::Multicast),
            ("0.0.0.0", Refused::Unspecified),
            ("255.255.255.255", Refused::Reserved),
            ("192.0.0.8", Refused::Reserved),
            ("192.31.196.1", Refused::Reserved),
            ("192.52.193.1", Refused::Reserved),
            ("192.175.48.1", Refused::Reserved),
            ("198.19.255.255", Refused::Reserved),
            ("::1", Refused::Loopback),
            ("::", Refused::Unspecified),
            ("fd00:ec2::254", Refused::Metadata),
            ("fc00::1", Refused::Private),
            ("fe80::1", Refused::LinkLocal),
            ("ff02::1", Refused::Multicast),
            ("2001:db8::1", Refused::NotGlobalUnicast),
        ] {
            assert_eq!(refused(ip), Some(why), "{ip}");
        }
    }

    #[test]
    fn ipv6_outside_global_unicast_and_its_special_blocks_are_refused() {
        for ip in [
            "2001::1",             // Teredo
            "2001:0:4136:e378::1", // Teredo with a server address
            "2001:2::1",           // benchmarking
            "2001:3::1",           // AMT
            "2001:4:112::1",       // AS112
            "2001:10::1",          // ORCHID
            "2001:20::1",          // ORCHIDv2
            "2001:30::1",          // DRONE
            "2001:1ff:ffff::1",    // the end of 2001::/23
            "2001:db8:ffff::1",    // documentation
            "2002:a00:1::",        // 6to4 of 10.0.0.1
            "2002:5db8:d822::1",   // 6to4 of a public address: still refused
            "2620:4f:8000::1",     // AS112 direct delegation
            "3fff::1",             // documentation (RFC 9637)
            "3fff:fff:ffff::1",    // the end of 3fff::/20
            "64:ff9b::a00:1",      // NAT64
            "64:ff9b:1::1",        // local-use NAT64
            "100::1",              // discard-only
            "::127.0.0.1",         // IPv4-compatible (deprecated)
            "::8.8.8.8",           // IPv4-compatible, public: still refused
            "::ffff:0:8.8.8.8",    // IPv4-translated
            "5f00::1",             // SRv6 SIDs
            "4000::1",             // unassigned
            "fec0::1",             // site-local (deprecated)
            "e000::1",             // unassigned
        ] {
            assert!(refused(ip).is_some(), "{ip}");
        }
    }

    #[test]
    fn a_mapped_ipv4_address_is_judged_as_that_address() {
        for (ip, why) in [
            ("::ffff:127.0.0.1", Some(Refused::Loopback)),
            ("::ffff:10.0.0.1", Some(Refused::Private)),
            ("::ffff:169.254.169.254", Some(Refused::Metadata)),
            ("::ffff:100.64.0.1", Some(Refused::SharedAddressSpace)),
            ("::ffff:8.8.8.8", None),
        ] {
            assert_eq!(refused(ip), why, "{ip}");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700::6810:85e5",
            "2001:200::1", // just past 2001::/23 (WIDE)
            "2001:4860:4860::8888",
            "2a00:1450:4001:82b::200e",
            "2620:4f:8001::1", // next to the AS112 block
            "3ffe::1",
            "3fff:1000::1", // just past 3fff::/20
        ] {
            assert_eq!(refused(ip), None, "{ip}");
        }
    }

    #[test]
    fn only_listed_loopback_ip_endpoints_are_let_through() {
        let policy =
            AddressPolicy::with_allowed_local_in("127.0.0.1:8080, [::1]:9000", env(&[])).unwrap();
        assert!(policy.check("127.0.0.1:8080".parse().unwrap()).is_ok());
        assert!(policy.check("[::1]:9000".parse().unwrap()).is_ok());
        assert!(policy.check("127.0.0.1:9000".parse().unwrap()).is_err());
        assert!(policy.check("127.0.0.1:8081".parse().unwrap()).is_err());
        assert!(policy.check("10.0.0.1:8080".parse().unwrap()).is_err());
        assert!(policy.allows_plain_http("127.0.0.1", 8080));
        assert!(policy.allows_plain_http("[::1]", 9000));
        assert!(!policy.allows_plain_http("localhost", 8080));
        assert!(!policy.allows_plain_http("example.com", 8080));
        // A name never matches, even one that resolves to the allowed address.
        assert!(policy.check_resolved("127.0.0.1".parse().unwrap()).is_err());
        for bad in [
            "10.0.0.1:80",
            "example.com:80",
            "localhost:9000",
            "127.0.0.1",
            "127.0.0.1:http",
        ] {
            assert!(
                AddressPolicy::with_allowed_local_in(bad, env(&[])).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_local_escape_is_refused_in_lambda_for_real_and_only_there() {
        let real = [("AWS_LAMBDA_FUNCTION_NAME", "switchboard-MediaFunction-abc")];
        let err = AddressPolicy::with_allowed_local_in("127.0.0.1:8080", env(&real)).unwrap_err();
        assert!(err.contains("refused in AWS Lambda"), "{err}");
        // Empty stays empty everywhere.
        assert_eq!(
            AddressPolicy::with_allowed_local_in("", env(&real)),
            Ok(AddressPolicy::default())
        );
        for endpoint in [
            "https://sqs.eu-west-1.amazonaws.com",
            "http://10.0.0.5:4566",
            "",
        ] {
            let with_endpoint = [real[0], ("AWS_ENDPOINT_URL", endpoint)];
            assert!(running_in_real_lambda(env(&with_endpoint)), "{endpoint}");
        }
        // The local emulator: AWS_LAMBDA_* set, the SDK pointed at moto on loopback.
        for endpoint in [
            "http://127.0.0.1:4566",
            "http://[::1]:4566",
            "http://localhost:4566",
        ] {
            let emulated = [real[0], ("AWS_ENDPOINT_URL", endpoint)];
            assert!(!running_in_real_lambda(env(&emulated)), "{endpoint}");
            assert!(AddressPolicy::with_allowed_local_in("127.0.0.1:8080", env(&emulated)).is_ok());
        }
        // Tests and tools outside any Lambda runtime.
        assert!(!running_in_real_lambda(env(&[])));
    }

    fn v6(bits: u128) -> Ipv6Addr {
        Ipv6Addr::from(bits)
    }

    proptest! {
        #[test]
        fn every_private_v4_range_is_refused_whole(b in any::<u8>(), c in any::<u8>(), d in any::<u8>()) {
            prop_assert!(check_v4(Ipv4Addr::new(10, b, c, d)).is_err());
            prop_assert!(check_v4(Ipv4Addr::new(127, b, c, d)).is_err());
            prop_assert!(check_v4(Ipv4Addr::new(192, 168, c, d)).is_err());
            prop_assert!(check_v4(Ipv4Addr::new(172, 16 + b % 16, c, d)).is_err());
            prop_assert!(check_v4(Ipv4Addr::new(169, 254, c, d)).is_err());
            prop_assert!(check_v4(Ipv4Addr::new(100, 64 + b % 64, c, d)).is_err());
            prop_assert!(check_v4(Ipv4Addr::new(198, 18 + b % 2, c, d)).is_err());
            prop_assert!(check_v4(Ipv4Addr::new(240 + b % 16, b, c, d)).is_err());
            prop_assert!(check_v4(Ipv4Addr::new(224 + b % 16, b, c, d)).is_err());
        }

        /// The allow-list: an IPv6 address passes only inside 2000::/3 and outside every
        /// special-purpose block there, or as a mapped IPv4 address that passes itself.
        #[test]
        fn an_allowed_ipv6_address_is_global_unicast_or_a_mapped_public_ipv4(bits in any::<u128>()) {
            let ip = v6(bits);
            if check_v6(ip).is_ok() {
                match ip.to_ipv4_mapped() {
                    Some(v4) => prop_assert!(check_v4(v4).is_ok()),
                    None => {
                        prop_assert_eq!(ip.segments()[0] & 0xe000, 0x2000);
                        prop_assert!(!IPV6_SPECIAL_IN_GLOBAL.iter().any(|b| v6_in(ip, *b)));
                    }
                }
            }
        }

        /// The same, from the other side: random addresses inside 2000::/3 are allowed unless
        /// in a special block; everything outside 2000::/3 (mapped aside) is refused.
        #[test]
        fn global_unicast_passes_and_the_rest_of_the_space_does_not(bits in any::<u128>()) {
            let inside = v6((bits & !(0b111u128 << 125)) | (0b001u128 << 125));
            let special = IPV6_SPECIAL_IN_GLOBAL.iter().any(|b| v6_in(inside, *b));
            prop_assert_eq!(check_v6(inside).is_ok(), !special, "{}", inside);
            let outside = v6(bits);
            if outside.segments()[0] & 0xe000 != 0x2000 && outside.to_ipv4_mapped().is_none() {
                prop_assert!(check_v6(outside).is_err(), "{}", outside);
            }
        }

        /// Every address of every special block inside 2000::/3 is refused, whatever its host
        /// part.
        #[test]
        fn special_blocks_are_refused_whole(block in 0..IPV6_SPECIAL_IN_GLOBAL.len(), host in any::<u128>()) {
            let (network, len) = IPV6_SPECIAL_IN_GLOBAL[block];
            let ip = v6(u128::from(network) | (host >> len));
            prop_assert!(check_v6(ip).is_err(), "{}", ip);
        }

        #[test]
        fn a_mapped_address_is_exactly_as_allowed_as_its_ipv4(ip in any::<u32>()) {
            let v4 = Ipv4Addr::from(ip);
            let mapped = IpAddr::V6(v4.to_ipv6_mapped());
            prop_assert_eq!(check_ip(mapped), check_v4(v4));
        }

        /// Whatever text `SWITCHBOARD_MEDIA_ALLOW_LOCAL` holds, it never lets through anything
        /// but literal loopback endpoints, and never a name.
        #[test]
        fn the_local_list_only_ever_holds_loopback_ip_endpoints(list in "[a-z0-9.:\\[\\], ]{0,40}") {
            if let Ok(policy) = AddressPolicy::with_allowed_local_in(&list, env(&[])) {
                for addr in &policy.allowed_local {
                    prop_assert!(addr.ip().is_loopback());
                }
                prop_assert!(!policy.allows_plain_http("localhost", 80));
            }
        }
    }
}
