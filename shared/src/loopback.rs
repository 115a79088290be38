//! Whether a URL points at this machine: the one test behind every "loopback only for local
//! runs" rule (simulators, moto, local file servers, the emulator's stand-ins).

/// `Some(true)` for a loopback IP or `localhost`, `Some(false)` for any other host, `None` for
/// a URL without a host.
pub fn is_loopback(url: &url::Url) -> Option<bool> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(ip.is_loopback()),
        url::Host::Ipv6(ip) => Some(ip.is_loopback()),
        url::Host::Domain(name) => Some(name.eq_ignore_ascii_case("localhost")),
    }
}

/// For URL text: `false` when it does not parse or has no host.
pub fn is_loopback_text(text: &str) -> bool {
    url::Url::parse(text.trim())
        .ok()
        .and_then(|url| is_loopback(&url))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_told_apart() {
        for local in [
            "http://127.0.0.1:4566",
            "http://[::1]:3001",
            "https://LocalHost/x",
        ] {
            assert!(is_loopback_text(local), "{local}");
        }
        for other in [
            "https://127.0.0.1.evil.example",
            "https://eu.conversation.api.sinch.com",
            "http://10.0.0.1",
            "not a url",
        ] {
            assert!(!is_loopback_text(other), "{other}");
        }
        assert_eq!(
            is_loopback(&url::Url::parse("data:text/plain,x").unwrap()),
            None
        );
    }
}
