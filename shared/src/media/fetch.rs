//! Fetching a URL that a stranger chose, safely (OWASP's SSRF rules): customers' media in the
//! inbound stage, and agents' media URLs that a tenant has the outbound function fetch first.
//!
//! - https only; plain http only to a loopback endpoint a local run allowed;
//! - every address the client connects to passes the address policy, because the policy runs
//!   inside the resolver reqwest itself uses (a name that resolves to a private address, even
//!   on the second lookup, is refused), and IP literals in URLs, which skip the resolver, are
//!   checked before each request;
//! - the web's port only: 443 (any other explicit port is refused, naming it), except the
//!   literal `IP:port` loopback endpoints a local run allowed;
//! - at most 3 redirects, each checked the same way, and no `Referer` on them (reqwest would
//!   send the URL redirected from, which may be signed); no proxy; a connect timeout and a read
//!   (idle) timeout here ([`FetchTimeouts`]), and a total bound, the invocation's deadline,
//!   around the whole download (`crate::media::download`);
//! - a tenant's host allow-list (`media.allowed_hosts`), when it has one, on the URL and on
//!   every redirect: a host off the list is never contacted.
//!
//! Whether a failure is worth retrying is decided here: a blocked address, a 404 or a refused
//! redirect will not change; a timeout, a reset or a 5xx may.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

use crate::config::media::host_allowed;
use crate::media::address_policy::AddressPolicy;

pub const MAX_REDIRECTS: usize = 3;

/// How long a connection may take to open, and how long the host may stay silent (before the
/// headers or between two reads of the body). A slow but steady body is not cut off here: the
/// invocation's deadline bounds the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchTimeouts {
    pub connect: Duration,
    pub read: Duration,
}

impl Default for FetchTimeouts {
    fn default() -> Self {
        FetchTimeouts {
            connect: Duration::from_secs(5),
            read: Duration::from_secs(20),
        }
    }
}

/// Why a fetch failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Will not change: the item is forwarded as failed with this reason (shown to agents).
    #[error("{0}")]
    Permanent(String),
    /// May pass later: the record is retried.
    #[error("{0}")]
    Transient(String),
}

/// Refused by the address policy (inside the resolver).
#[derive(Debug, thiserror::Error)]
#[error("blocked address: {0}")]
struct Blocked(&'static str);

struct PolicyResolver {
    policy: Arc<AddressPolicy>,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let mut refusal = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| match policy.check_resolved(addr.ip()) {
                    Ok(()) => true,
                    Err(why) => {
                        refusal = Some(why);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why = refusal.map_or("no address", |why| why.as_str());
                return Err(Box::new(Blocked(why)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// The checks a URL must pass before a request (and each redirect) goes out.
pub fn check_url(url: &Url, policy: &AddressPolicy) -> Result<(), FetchError> {
    let refuse = |why: String| Err(FetchError::Permanent(why));
    let host = match url.host() {
        Some(host) => host,
        None => return refuse("the URL has no host".into()),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return refuse("the URL carries credentials".into());
    }
    let port = url.port_or_known_default().unwrap_or(0);
    let host_text = match &host {
        url::Host::Domain(name) => (*name).to_owned(),
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => ip.to_string(),
    };
    match url.scheme() {
        "https" => {}
        "http" if policy.allows_plain_http(&host_text, port) => {}
        "http" => return refuse("plain http is not allowed; https only".into()),
        other => return refuse(format!("scheme '{other}' is not allowed; https only")),
    }
    let literal: Option<IpAddr> = match host {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    };
    // The web's port only: 443 for https (plain http never reaches a public host). An allowed
    // local endpoint is named with its own port, by its literal IP.
    let local = literal.is_some_and(|ip| policy.is_allowed_local(SocketAddr::new(ip, port)));
    if !local && port != 443 {
        return refuse(format!(
            "port {port} is not allowed; media is fetched from the standard https port 443 only"
        ));
    }
    if let Some(ip) = literal
        && let Err(why) = policy.check(SocketAddr::new(ip, port))
    {
        return refuse(format!("blocked address: {}", why.as_str()));
    }
    // A loopback name (localhost) is only ever let through to an allowed endpoint.
    if host_text.eq_ignore_ascii_case("localhost") && !policy.allows_plain_http(&host_text, port) {
        return refuse("blocked address: loopback address".into());
    }
    Ok(())
}

/// The host allow-list check: a refusal says which host and why, for the agent.
pub fn check_host(url: &Url, allowed_hosts: &[String]) -> Result<(), FetchError> {
    if allowed_hosts.is_empty() {
        return Ok(());
    }
    let host = url.host_str().unwrap_or_default();
    if host_allowed(allowed_hosts, host) {
        Ok(())
    } else {
        Err(FetchError::Permanent(format!(
            "the media host {host} is not on this tenant's list of allowed hosts"
        )))
    }
}

/// Builds clients that share the address policy: one without a host list, and one per host
/// list in use (a redirect's host is checked inside reqwest, where only the client's own
/// policy is known).
#[derive(Clone)]
pub struct SafeFetcher {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
    timeouts: FetchTimeouts,
    by_hosts: Arc<Mutex<HashMap<Vec<String>, reqwest::Client>>>,
}

/// Distinct host lists whose clients are kept; past it they are built again (few tenants set
/// one, and those share a container's batches).
const MAX_HOST_LIST_CLIENTS: usize = 64;

impl SafeFetcher {
    /// With the default timeouts.
    pub fn new(policy: AddressPolicy) -> Result<SafeFetcher, String> {
        SafeFetcher::with_timeouts(policy, FetchTimeouts::default())
    }

    pub fn with_timeouts(
        policy: AddressPolicy,
        timeouts: FetchTimeouts,
    ) -> Result<SafeFetcher, String> {
        let policy = Arc::new(policy);
        let client = build_client(&policy, timeouts, Vec::new())?;
        Ok(SafeFetcher {
            client,
            policy,
            timeouts,
            by_hosts: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// GETs `url`; a response is returned only for a 2xx answer.
    pub async fn get(&self, url: &str) -> Result<reqwest::Response, FetchError> {
        self.get_within(url, &[]).await
    }

    /// GETs `url` if it and every redirect are on `allowed_hosts` (empty: any public host).
    pub async fn get_within(
        &self,
        url: &str,
        allowed_hosts: &[String],
    ) -> Result<reqwest::Response, FetchError> {
        let url = Url::parse(url).map_err(|_| FetchError::Permanent("not a valid URL".into()))?;
        check_url(&url, &self.policy)?;
        check_host(&url, allowed_hosts)?;
        let client = self.client_for(allowed_hosts)?;
        let response = client.get(url).send().await.map_err(classify)?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let code = status.as_u16();
        Err(match code {
            408 | 425 | 429 | 500..=599 => {
                FetchError::Transient(format!("the media host answered {code}"))
            }
            _ => FetchError::Permanent(format!("the media host answered {code}")),
        })
    }

    fn client_for(&self, allowed_hosts: &[String]) -> Result<reqwest::Client, FetchError> {
        if allowed_hosts.is_empty() {
            return Ok(self.client.clone());
        }
        let mut clients = self.by_hosts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(client) = clients.get(allowed_hosts) {
            return Ok(client.clone());
        }
        let client = build_client(&self.policy, self.timeouts, allowed_hosts.to_vec())
            .map_err(FetchError::Transient)?;
        if clients.len() >= MAX_HOST_LIST_CLIENTS {
            clients.clear();
        }
        clients.insert(allowed_hosts.to_vec(), client.clone());
        Ok(client)
    }
}

fn build_client(
    policy: &Arc<AddressPolicy>,
    timeouts: FetchTimeouts,
    allowed_hosts: Vec<String>,
) -> Result<reqwest::Client, String> {
    let redirect_policy = Arc::clone(policy);
    reqwest::Client::builder()
        .dns_resolver(Arc::new(PolicyResolver {
            policy: Arc::clone(policy),
        }))
        .no_proxy()
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error(FetchError::Permanent(format!(
                    "more than {MAX_REDIRECTS} redirects"
                )));
            }
            match check_url(attempt.url(), &redirect_policy)
                .and_then(|()| check_host(attempt.url(), &allowed_hosts))
            {
                Ok(()) => attempt.follow(),
                Err(err) => attempt.error(err),
            }
        }))
        // reqwest sets `Referer` on a redirect by default: the URL redirected from (a signed
        // URL, with its token) would go to the next host. Never.
        .referer(false)
        .connect_timeout(timeouts.connect)
        .read_timeout(timeouts.read)
        .user_agent("switchboard-media/1")
        .build()
        .map_err(|err| format!("cannot build the media HTTP client: {err}"))
}

/// A failed request: refused by our checks (permanent) or by the network (transient).
pub fn classify(err: reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(cause) = source {
        if let Some(blocked) = cause.downcast_ref::<Blocked>() {
            return FetchError::Permanent(blocked.to_string());
        }
        if let Some(ours) = cause.downcast_ref::<FetchError>() {
            return ours.clone();
        }
        source = cause.source();
    }
    if err.is_redirect() {
        return FetchError::Permanent("too many redirects".into());
    }
    // Timeouts, resets, DNS hiccups: worth another try. The text never carries the URL (it may
    // be signed); the causes say what went wrong.
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    let mut text = format!("the media host did not answer: {}", err.without_url());
    for cause in causes {
        text.push_str(": ");
        text.push_str(&cause);
    }
    FetchError::Transient(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str, policy: &AddressPolicy) -> bool {
        check_url(&Url::parse(url).unwrap(), policy).is_err()
    }

    #[test]
    fn urls_are_checked_before_any_request() {
        let none = AddressPolicy::default();
        for url in [
            "http://example.com/a.jpg",
            "ftp://example.com/a.jpg",
            "https://127.0.0.1/a.jpg",
            "https://10.0.0.1/a.jpg",
            "https://169.254.169.254/latest/meta-data/",
            "https://[::1]/a.jpg",
            "https://[::ffff:127.0.0.1]/a.jpg",
            "https://[fd00:ec2::254]/",
            "https://localhost/a.jpg",
            "https://user:pw@example.com/a.jpg",
        ] {
            assert!(refused(url, &none), "{url}");
        }
        assert!(!refused("https://example.com/a.jpg", &none));
        assert!(!refused("https://93.184.216.34/a.jpg", &none));
    }

    #[test]
    fn an_allowed_local_endpoint_is_reachable_over_http_and_only_it() {
        let policy = AddressPolicy::with_allowed_local("127.0.0.1:8080").unwrap();
        assert!(!refused("http://127.0.0.1:8080/a.jpg", &policy));
        assert!(refused("http://127.0.0.1:8081/a.jpg", &policy));
        assert!(refused("https://127.0.0.1:22/", &policy));
        assert!(refused("http://10.0.0.1:8080/", &policy));
        // A name is never the local endpoint, even one that resolves to it.
        assert!(refused("http://localhost:8080/a.jpg", &policy));
    }

    fn reason(url: &str, policy: &AddressPolicy) -> String {
        match check_url(&Url::parse(url).unwrap(), policy) {
            Err(FetchError::Permanent(reason)) => reason,
            other => panic!("{url}: {other:?}"),
        }
    }

    #[test]
    fn only_the_https_port_is_reached_on_public_hosts() {
        let none = AddressPolicy::default();
        assert!(!refused("https://example.com:443/a.jpg", &none));
        assert!(!refused("https://[2606:4700::6810:85e5]/a.jpg", &none));
        for url in [
            "https://example.com:8443/a.jpg",
            "https://example.com:22/",
            "https://93.184.216.34:6379/",
            "https://[2606:4700::6810:85e5]:25/",
            "https://example.com:80/",
        ] {
            let why = reason(url, &none);
            assert!(
                why.starts_with("port ") && why.contains("443 only"),
                "{url}: {why}"
            );
        }
        // The local escape does not open other ports of public hosts either.
        let local = AddressPolicy::with_allowed_local("127.0.0.1:8080").unwrap();
        assert!(reason("https://example.com:8080/", &local).contains("443 only"));
    }

    #[test]
    fn ipv6_literals_follow_the_allow_list() {
        let none = AddressPolicy::default();
        for url in [
            "https://[2001:db8::1]/",
            "https://[2002:a00:1::]/",
            "https://[2001::1]/",
            "https://[3fff::1]/",
            "https://[64:ff9b::a00:1]/",
            "https://[::ffff:10.0.0.1]/",
        ] {
            assert!(reason(url, &none).starts_with("blocked address"), "{url}");
        }
        assert!(!refused("https://[::ffff:8.8.8.8]/", &none));
    }

    /// A loopback server answering each connection's one request: `/start` redirects to
    /// `/end`, which answers 200; the head of every request is kept.
    async fn redirecting_server() -> (
        std::net::SocketAddr,
        Arc<Mutex<Vec<String>>>,
        tokio::task::JoinHandle<()>,
    ) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&heads);
        let server = tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buffer = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let answer = if head.starts_with("GET /start") {
                    format!(
                        "HTTP/1.1 302 Found\r\nLocation: http://{addr}/end\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                } else {
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".to_owned()
                };
                kept.lock().unwrap().push(head);
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.shutdown().await;
            }
        });
        (addr, heads, server)
    }

    #[tokio::test]
    async fn a_redirect_never_tells_the_next_host_where_it_came_from() {
        let (addr, heads, server) = redirecting_server().await;
        let fetcher =
            SafeFetcher::new(AddressPolicy::with_allowed_local(&addr.to_string()).unwrap())
                .unwrap();
        let response = fetcher
            .get(&format!("http://{addr}/start?signature=secret"))
            .await
            .expect("the redirect is followed");
        assert_eq!(response.status(), 200);
        server.abort();
        let heads = heads.lock().unwrap().clone();
        assert_eq!(heads.len(), 2, "{heads:?}");
        assert!(heads[1].starts_with("GET /end"), "{heads:?}");
        assert!(
            !heads[1].to_ascii_lowercase().contains("\r\nreferer:"),
            "no Referer on the redirect: {}",
            heads[1]
        );
    }
}
