//! Who the client is at the network level: its address (the TCP peer, or,
//! from a trusted proxy, the address the proxy forwarded), and whether a
//! browser page's `Origin` is one the server trusts.
//!
//! A leaf: the middleware takes only the trusted proxies (an axum substate
//! of the server's state), so that the configuration can use [`Cidr`]
//! without a cycle through the state.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;

/// The proxies whose forwarded addresses are believed; cheap to clone.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustedProxies(pub(crate) Arc<[Cidr]>);

/// An address or a network in CIDR form (`10.0.0.0/8`, `fd00::/8`; a bare
/// address is a network of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| "not an IP address or CIDR network".to_owned())?;
        let network = network.to_canonical();
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("the prefix length must be 0 to {max}"))?,
            None => max,
        };
        Ok(Self { network, prefix })
    }
}

impl Cidr {
    /// Whether `ip` lies in this network (IPv4-mapped IPv6 counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The client's address, as [`identify`] found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// One hop of a `Forwarded` (`for=`) or `X-Forwarded-For` list.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    if let Some(rest) = hop.strip_prefix('[') {
        // "[2001:db8::1]:4711"
        return rest.split_once(']')?.0.parse().ok();
    }
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    // "192.0.2.43:4711"
    hop.parse::<SocketAddr>().ok().map(|a| a.ip())
}

/// The hops a proxy chain forwarded, first (the original client) to last:
/// from `Forwarded` when present, else `X-Forwarded-For`. `None` marks a
/// hop that is not an address (`unknown`, an obfuscated name, garbage).
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers
        .get_all(header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (k, v) = pair.split_once('=')?;
                    k.trim().eq_ignore_ascii_case("for").then(|| parse_hop(v))
                })
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| v.to_str().ok())
        .flat_map(|v| match v {
            Some(v) => v.split(',').map(parse_hop).collect::<Vec<_>>(),
            None => vec![None],
        })
        .collect()
}

/// The client's address: the TCP `peer`, unless it is a trusted proxy;
/// then the forwarded hops are read from the last back, past trusted
/// proxies, and the first hop that is not one is the client. A hop that
/// is not an address stops the walk at the proxy that forwarded it.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    let mut client = peer.to_canonical();
    if !is_trusted(client) {
        return client;
    }
    for hop in forwarded_hops(headers).into_iter().rev() {
        match hop {
            Some(ip) => {
                client = ip.to_canonical();
                if !is_trusted(client) {
                    break;
                }
            }
            None => break,
        }
    }
    client
}

/// Middleware on every route: puts the [`ClientAddr`] into the request.
pub(crate) async fn identify(
    State(trusted): State<TrustedProxies>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(peer) = peer {
        let client = client_address(peer, request.headers(), &trusted.0);
        request.extensions_mut().insert(ClientAddr(client));
    }
    next.run(request).await
}

/// Whether a setting's origin is `scheme://host[:port]` (http or https,
/// nothing after the authority).
pub(crate) fn check_origin_setting(origin: &str) -> Result<(), String> {
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    match rest {
        Some(authority)
            if !authority.is_empty()
                && !authority.contains(['/', '?', '#', '@', ' '])
                && authority.parse::<axum::http::uri::Authority>().is_ok() =>
        {
            Ok(())
        }
        _ => Err(format!(
            "allowed_origins: {origin:?} is not scheme://host[:port] (http or https)"
        )),
    }
}

/// Whether a WebSocket handshake's `Origin` may open a socket: none sent
/// (not a browser page: browsers always send it), the server's own (the
/// origin's host and port are the request's `Host`), or one of `allowed`.
pub(crate) fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)) {
        return true;
    }
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (authority, host) {
        (Some(authority), Some(host)) => {
            let default_port = if origin.starts_with("https://") {
                ":443"
            } else {
                ":80"
            };
            let strip = |s: &str| {
                s.strip_suffix(default_port)
                    .unwrap_or(s)
                    .to_ascii_lowercase()
            };
            strip(authority) == strip(host)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_parse_and_contain() {
        let net: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(net.contains(ip("10.1.200.3")));
        assert!(net.contains(ip("::ffff:10.1.0.9")));
        assert!(!net.contains(ip("10.2.0.1")));
        let one: Cidr = "192.0.2.7".parse().unwrap();
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        let v6: Cidr = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "host.example", "10.0.0.0/x", ""] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let trusted: Vec<Cidr> = vec!["10.0.0.0/8".parse().unwrap()];
        let xff = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.9")]);
        // From the proxy: the last hop before it.
        assert_eq!(
            client_address(ip("10.0.0.1"), &xff, &trusted),
            ip("203.0.113.9")
        );
        // From anyone else: the header is ignored.
        assert_eq!(
            client_address(ip("198.51.100.1"), &xff, &trusted),
            ip("198.51.100.1")
        );
        // Through two trusted proxies.
        let chain = headers(&[("x-forwarded-for", "203.0.113.9, 10.0.0.2")]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &chain, &trusted),
            ip("203.0.113.9")
        );
        // RFC 7239, preferred over X-Forwarded-For.
        let fwd = headers(&[
            (
                "forwarded",
                "for=6.6.6.6, for=\"[2001:db8::17]:4711\";proto=https",
            ),
            ("x-forwarded-for", "1.2.3.4"),
        ]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &fwd, &trusted),
            ip("2001:db8::17")
        );
        // A hop that is not an address: the proxy is all we know.
        let junk = headers(&[("x-forwarded-for", "6.6.6.6, unknown")]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &junk, &trusted),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn origins_must_be_the_servers_own_or_allowed() {
        let allowed = vec!["https://record.example.vn".to_owned()];
        let h = |origin: &str, host: &str| headers(&[("origin", origin), ("host", host)]);
        assert!(origin_allowed(&headers(&[("host", "a:8080")]), &[]));
        assert!(origin_allowed(
            &h("http://127.0.0.1:8080", "127.0.0.1:8080"),
            &[]
        ));
        assert!(origin_allowed(
            &h("https://Rec.Example", "rec.example:443"),
            &[]
        ));
        assert!(!origin_allowed(
            &h("http://evil.example", "127.0.0.1:8080"),
            &[]
        ));
        assert!(!origin_allowed(&h("null", "127.0.0.1:8080"), &[]));
        assert!(!origin_allowed(
            &h("http://127.0.0.1:9999", "127.0.0.1:8080"),
            &[]
        ));
        assert!(origin_allowed(
            &h("https://record.example.vn", "127.0.0.1:8080"),
            &allowed
        ));
        assert!(check_origin_setting("https://record.example.vn").is_ok());
        assert!(check_origin_setting("http://10.0.0.1:8080").is_ok());
        assert!(check_origin_setting("record.example.vn").is_err());
        assert!(check_origin_setting("https://x.vn/path").is_err());
    }
}
