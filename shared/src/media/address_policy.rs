//! Which addresses a media fetch may connect to (OWASP's SSRF rules).
//!
//! Customers choose media URLs (a Sinch callback carries whatever URL the channel gave), so the
//! fetcher must never be turned against the function's own network: no loopback, private,
//! link-local, CGNAT, multicast, broadcast, documentation, unspecified or IPv4-mapped/-translated
//! address, and never the instance metadata service (169.254.169.254, fd00:ec2::254). The check
//! runs on every address the HTTP client actually connects to (the resolver applies it), so a
//! name that resolves to a private address, or a redirect to one, is refused as well.
//!
//! For local runs only, an explicit list of `host:port` loopback endpoints may be let through
//! (`SWITCHBOARD_MEDIA_ALLOW_LOCAL`); the template never sets it.

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
        }
    }
}

fn check_v4(ip: Ipv4Addr) -> Result<(), Refused> {
    let [a, b, c, _] = ip.octets();
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
    let reserved = ip.is_broadcast()
        || a >= 240
        || (a == 192 && b == 0 && c == 0)      // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)      // TEST-NET-1
        || (a == 198 && b == 51 && c == 100)   // TEST-NET-2
        || (a == 203 && b == 0 && c == 113)    // TEST-NET-3
        || (a == 198 && (b == 18 || b == 19))  // benchmarking
        || (a == 192 && b == 88 && c == 99); // 6to4 relay anycast
    if reserved {
        return Err(Refused::Reserved);
    }
    Ok(())
}

fn check_v6(ip: Ipv6Addr) -> Result<(), Refused> {
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return Err(Refused::Metadata);
    }
    // An IPv4 address in IPv6 clothing is judged as the IPv4 address it carries.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return check_v4(v4).and(Err(Refused::Reserved));
    }
    let segments = ip.segments();
    if ip.is_unspecified() {
        return Err(Refused::Unspecified);
    }
    if ip.is_loopback() {
        return Err(Refused::Loopback);
    }
    if ip.is_multicast() {
        return Err(Refused::Multicast);
    }
    if segments[0] & 0xfe00 == 0xfc00 {
        return Err(Refused::Private); // unique local fc00::/7
    }
    if segments[0] & 0xffc0 == 0xfe80 {
        return Err(Refused::LinkLocal);
    }
    let reserved = segments[0] == 0x2001 && segments[1] == 0x0db8 // documentation
        || segments[0] == 0x0064 && segments[1] == 0xff9b            // NAT64 (carries IPv4)
        || segments[0] == 0x2002                                      // 6to4 (carries IPv4)
        || segments[0] == 0x2001 && segments[1] == 0                  // Teredo
        || segments[..6] == [0, 0, 0, 0, 0, 0]                        // IPv4-compatible
        || segments[0] & 0xffc0 == 0xfec0                             // site-local (deprecated)
        || segments[0] == 0x0100 && segments[1..4] == [0, 0, 0]; // discard-only
    if reserved {
        return Err(Refused::Reserved);
    }
    Ok(())
}

/// Whether a fetch may connect to `ip`.
pub fn check_ip(ip: IpAddr) -> Result<(), Refused> {
    match ip {
        IpAddr::V4(v4) => check_v4(v4),
        IpAddr::V6(v6) => check_v6(v6),
    }
}

/// The address policy of one fetcher: the public internet, plus the loopback endpoints a local
/// run lets through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allowed_local: Vec<SocketAddr>,
}

impl AddressPolicy {
    /// `list` is `SWITCHBOARD_MEDIA_ALLOW_LOCAL`: comma-separated `host:port`, each a loopback
    /// address (`127.0.0.1:8080`, `[::1]:8080`, `localhost:8080`).
    pub fn with_allowed_local(list: &str) -> Result<AddressPolicy, String> {
        let mut allowed_local = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (host, port) = entry
                .rsplit_once(':')
                .ok_or_else(|| format!("'{entry}' is not host:port"))?;
            let port: u16 = port
                .parse()
                .map_err(|_| format!("'{entry}': '{port}' is not a port"))?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let ips: Vec<IpAddr> = if host.eq_ignore_ascii_case("localhost") {
                vec![
                    IpAddr::V4(Ipv4Addr::LOCALHOST),
                    IpAddr::V6(Ipv6Addr::LOCALHOST),
                ]
            } else {
                vec![host.parse().map_err(|_| {
                    format!("'{entry}': '{host}' is not an IP address or localhost")
                })?]
            };
            for ip in ips {
                if !ip.is_loopback() {
                    return Err(format!(
                        "'{entry}' is not a loopback address; only local endpoints can be allowed"
                    ));
                }
                allowed_local.push(SocketAddr::new(ip, port));
            }
        }
        Ok(AddressPolicy { allowed_local })
    }

    /// Whether a fetch may connect to this socket address.
    pub fn check(&self, addr: SocketAddr) -> Result<(), Refused> {
        if self.allowed_local.contains(&addr) {
            return Ok(());
        }
        check_ip(addr.ip())
    }

    /// Whether a resolved address may be connected to when the port is not known yet (the
    /// resolver sees names, not ports): public addresses, and loopback addresses that some
    /// allowed local endpoint uses. The URL's port is checked before each request.
    pub fn check_resolved(&self, ip: IpAddr) -> Result<(), Refused> {
        if self.allowed_local.iter().any(|allowed| allowed.ip() == ip) {
            return Ok(());
        }
        check_ip(ip)
    }

    /// Plain http is allowed only to an allowed local endpoint.
    pub fn allows_plain_http(&self, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ips: Vec<IpAddr> = if host.eq_ignore_ascii_case("localhost") {
            vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ]
        } else {
            host.parse().into_iter().collect()
        };
        ips.into_iter()
            .any(|ip| self.allowed_local.contains(&SocketAddr::new(ip, port)))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn refused(text: &str) -> Option<Refused> {
        check_ip(text.parse().unwrap()).err()
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
            ("169.254.1.1", Refused::LinkLocal),
            ("100.64.0.1", Refused::SharedAddressSpace),
            ("224.0.0.1", Refused::Multicast),
            ("0.0.0.0", Refused::Unspecified),
            ("255.255.255.255", Refused::Reserved),
            ("::1", Refused::Loopback),
            ("::", Refused::Unspecified),
            ("fd00:ec2::254", Refused::Metadata),
            ("fc00::1", Refused::Private),
            ("fe80::1", Refused::LinkLocal),
            ("ff02::1", Refused::Multicast),
            ("2001:db8::1", Refused::Reserved),
        ] {
            assert_eq!(refused(ip), Some(why), "{ip}");
        }
    }

    #[test]
    fn ipv4_in_ipv6_clothing_is_refused() {
        for ip in [
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:a00:1::",
            "::127.0.0.1",
        ] {
            assert!(refused(ip).is_some(), "{ip}");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::6810:85e5",
            "1.1.1.1",
        ] {
            assert_eq!(refused(ip), None, "{ip}");
        }
    }

    #[test]
    fn only_listed_loopback_endpoints_are_let_through() {
        let policy = AddressPolicy::with_allowed_local("127.0.0.1:8080, localhost:9000").unwrap();
        assert!(policy.check("127.0.0.1:8080".parse().unwrap()).is_ok());
        assert!(policy.check("[::1]:9000".parse().unwrap()).is_ok());
        assert!(policy.check("127.0.0.1:8081".parse().unwrap()).is_err());
        assert!(policy.check("10.0.0.1:8080".parse().unwrap()).is_err());
        assert!(policy.allows_plain_http("127.0.0.1", 8080));
        assert!(!policy.allows_plain_http("example.com", 8080));
        assert!(AddressPolicy::with_allowed_local("10.0.0.1:80").is_err());
        assert!(AddressPolicy::with_allowed_local("example.com:80").is_err());
        assert!(AddressPolicy::with_allowed_local("127.0.0.1").is_err());
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
        }

        #[test]
        fn a_mapped_address_is_never_more_allowed_than_its_ipv4(ip in any::<u32>()) {
            let v4 = Ipv4Addr::from(ip);
            let mapped = IpAddr::V6(v4.to_ipv6_mapped());
            if check_v4(v4).is_err() {
                prop_assert!(check_ip(mapped).is_err());
            }
        }
    }
}
