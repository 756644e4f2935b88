//! Webhook vocabulary: which events a subscription wants, which receivers mailpanel
//! may call (no SSRF into the provider's own network), and the signing secret.

use std::net::IpAddr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ipnet::IpNet;
use rand::RngCore;
use secrecy::SecretString;
use url::{Host, Url};

use super::FieldError;

/// The changes the feed carries; a subscription names some of them, a family
/// (`account.*`) or all (`*`).
pub const EVENT_TYPES: &[&str] = &[
    "partner.created",
    "partner.updated",
    "partner.deleted",
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "domain.created",
    "domain.updated",
    "domain.deleted",
    "account.created",
    "account.updated",
    "account.renamed",
    "account.deleted",
    "account.restored",
    "account.purged",
    "alias.created",
    "alias.updated",
    "alias.deleted",
    "catch_all.set",
    "catch_all.deleted",
    "password.set",
    "password.changed",
    "app_password.created",
    "app_password.revoked",
    "api_key.created",
    "api_key.revoked",
    "server_profile.created",
    "server_profile.updated",
    "server_profile.deleted",
    "webhook.created",
    "webhook.updated",
    "webhook.deleted",
    "webhook.disabled",
];

pub const MAX_EVENT_TYPES: usize = 50;
pub const MAX_URL_LEN: usize = 2000;
const SECRET_PREFIX: &str = "whsec_";
/// 32 random bytes, as the Standard Webhooks specification allows (24 to 64).
const SECRET_BYTES: usize = 32;

/// What a subscription receives, each entry known or a known family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTypes(Vec<String>);

impl EventTypes {
    pub fn parse(field: &str, raw: &[String]) -> Result<Self, FieldError> {
        if raw.is_empty() || raw.len() > MAX_EVENT_TYPES {
            return Err(FieldError::new(
                field,
                "out_of_range",
                format!("names 1 to {MAX_EVENT_TYPES} event types (`*` for all)"),
            ));
        }
        let mut types: Vec<String> = Vec::with_capacity(raw.len());
        for (i, t) in raw.iter().enumerate() {
            if !Self::known(t) {
                return Err(FieldError::new(
                    format!("{field}[{i}]"),
                    "unknown_event_type",
                    format!(
                        "is not an event type; use `*`, a family such as `account.*`, or one of {}",
                        EVENT_TYPES.join(", ")
                    ),
                ));
            }
            if !types.contains(t) {
                types.push(t.clone());
            }
        }
        Ok(Self(types))
    }

    fn known(pattern: &str) -> bool {
        pattern == "*"
            || EVENT_TYPES.contains(&pattern)
            || pattern.strip_suffix(".*").is_some_and(|family| {
                EVENT_TYPES
                    .iter()
                    .any(|t| t.split_once('.').is_some_and(|(f, _)| f == family))
            })
    }

    /// Whether an event of this type goes to the subscription.
    pub fn matches(patterns: &[String], event_type: &str) -> bool {
        patterns.iter().any(|p| {
            p == "*"
                || p == event_type
                || p.strip_suffix(".*").is_some_and(|family| {
                    event_type.split_once('.').is_some_and(|(f, _)| f == family)
                })
        })
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// Every entry a subscription may name: `*`, each family, each type.
    pub fn patterns() -> Vec<String> {
        let mut out = vec!["*".to_owned()];
        for t in EVENT_TYPES {
            if let Some((family, _)) = t.split_once('.') {
                let family = format!("{family}.*");
                if !out.contains(&family) {
                    out.push(family);
                }
            }
        }
        out.extend(EVENT_TYPES.iter().map(|t| (*t).to_owned()));
        out
    }
}

/// A receiver's address as given: `https` (or `http`, where the provider allows it),
/// with a host, without credentials or fragment.
pub fn parse_url(field: &str, raw: &str, allow_http: bool) -> Result<Url, FieldError> {
    let bad = |code: &str, message: String| FieldError::new(field, code, message);
    if raw.len() > MAX_URL_LEN {
        return Err(bad(
            "too_long",
            format!("is longer than {MAX_URL_LEN} characters"),
        ));
    }
    // As written, not as a URL parser would repair it (it would encode a space, lower
    // the scheme's case, take `@` in the authority as an empty user name).
    let Some(rest) = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
    else {
        return Err(bad(
            "invalid_url",
            "must start with https:// (lower case)".into(),
        ));
    };
    if raw
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>'))
    {
        return Err(bad(
            "invalid_url",
            "must not contain spaces, quotes, angle brackets or control characters".into(),
        ));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(bad(
            "invalid_url",
            "must not carry a user name or password (they would be shown to everyone who reads the subscription); check the signature instead".into(),
        ));
    }
    let url = Url::parse(raw).map_err(|e| bad("invalid_url", format!("is not a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => {
            return Err(bad(
                "https_required",
                "must be an https URL; this provider does not deliver over plain http".into(),
            ))
        }
        other => {
            return Err(bad(
                "invalid_url",
                format!("must be an https URL, not {other}:"),
            ))
        }
    }
    if url.host().is_none() {
        return Err(bad("invalid_url", "has no host".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "invalid_url",
            "must not carry a user name or password (they would be shown to everyone who reads the subscription); check the signature instead".into(),
        ));
    }
    if url.fragment().is_some() {
        return Err(bad("invalid_url", "must not have a #fragment".into()));
    }
    Ok(url)
}

/// Which addresses mailpanel may send to: the public internet, and the networks the
/// provider lists (e.g. its own CRM's).
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    pub allowed: Vec<IpNet>,
}

impl AddressPolicy {
    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        is_public(ip) || self.allowed.iter().any(|net| net.contains(&ip))
    }

    /// A host name that names this machine or a local network whatever DNS says.
    pub fn refuses_name(&self, url: &Url) -> Option<IpAddr> {
        match url.host()? {
            Host::Ipv4(ip) => Some(IpAddr::V4(ip)).filter(|ip| !self.permits(*ip)),
            Host::Ipv6(ip) => Some(IpAddr::V6(ip)).filter(|ip| !self.permits(*ip)),
            Host::Domain(name) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                let local = name == "localhost" || name.ends_with(".localhost");
                let loopback = IpAddr::from([127, 0, 0, 1]);
                (local && !self.permits(loopback)).then_some(loopback)
            }
        }
    }
}

/// An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Globally reachable unicast: not loopback, private, link-local, shared (CGNAT),
/// documentation, benchmarking, reserved, multicast or unspecified (RFC 6890's
/// special-purpose registries).
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64: an IPv4 address in disguise
                || (s[0] == 0x2002) // 6to4: likewise
                || s[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible, deprecated
        }
    }
}

/// A new signing secret, `whsec_` and base64, as Standard Webhooks receivers expect.
pub fn new_secret() -> SecretString {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    SecretString::from(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(raw: &[&str]) -> Result<EventTypes, FieldError> {
        let raw: Vec<String> = raw.iter().map(|s| (*s).to_owned()).collect();
        EventTypes::parse("event_types", &raw)
    }

    #[test]
    fn event_types_are_known_types_families_or_all() {
        assert!(types(&["*"]).is_ok());
        assert!(types(&["account.*", "alias.created"]).is_ok());
        assert_eq!(
            types(&["account.made"]).unwrap_err().field,
            "event_types[0]"
        );
        assert!(types(&["nothing.*"]).is_err());
        assert!(types(&[]).is_err());
        assert_eq!(
            types(&["alias.created", "alias.created"])
                .unwrap()
                .as_slice(),
            ["alias.created"]
        );
    }

    #[test]
    fn every_listed_pattern_is_accepted() {
        let all = EventTypes::patterns();
        assert!(all.contains(&"catch_all.*".to_owned()));
        for p in &all {
            assert!(EventTypes::known(p), "{p}");
        }
    }

    #[test]
    fn patterns_match_their_events() {
        let p = vec!["account.*".to_owned(), "alias.deleted".to_owned()];
        assert!(EventTypes::matches(&p, "account.created"));
        assert!(EventTypes::matches(&p, "alias.deleted"));
        assert!(!EventTypes::matches(&p, "alias.created"));
        assert!(!EventTypes::matches(&p, "accounts.created"));
        assert!(EventTypes::matches(&["*".to_owned()], "domain.updated"));
    }

    #[test]
    fn urls_must_be_https_without_credentials() {
        assert!(parse_url("url", "https://crm.example.net/hooks/mail", false).is_ok());
        for (raw, code) in [
            ("http://crm.example.net/", "https_required"),
            ("ftp://crm.example.net/", "invalid_url"),
            ("https://user:pw@crm.example.net/", "invalid_url"),
            ("https://crm.example.net/#x", "invalid_url"),
            ("not a url", "invalid_url"),
            ("HTTPS://crm.example.net/", "invalid_url"),
            ("https://@crm.example.net/", "invalid_url"),
            ("https://crm.example.net/a b", "invalid_url"),
        ] {
            assert_eq!(
                parse_url("url", raw, false).unwrap_err().code,
                code,
                "{raw}"
            );
        }
        assert!(parse_url("url", "http://crm.example.net/", true).is_ok());
    }

    #[test]
    fn private_and_loopback_receivers_are_refused_unless_allowed() {
        let strict = AddressPolicy::default();
        for raw in [
            "https://127.0.0.1/",
            "https://127.1/",
            "https://0x7f000001/",
            "https://[::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://10.1.2.3/",
            "https://192.168.0.10/",
            "https://169.254.169.254/latest/meta-data/",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://localhost/",
            "https://api.localhost./",
        ] {
            let url = parse_url("url", raw, false).unwrap();
            assert!(strict.refuses_name(&url).is_some(), "{raw}");
        }
        for raw in [
            "https://93.184.215.14/",
            "https://[2a00:1450::1]/",
            "https://crm.example.net/",
        ] {
            let url = parse_url("url", raw, false).unwrap();
            assert!(strict.refuses_name(&url).is_none(), "{raw}");
        }
        let lab = AddressPolicy {
            allowed: vec!["127.0.0.0/8".parse().unwrap()],
        };
        let url = parse_url("url", "https://localhost/", false).unwrap();
        assert!(lab.refuses_name(&url).is_none());
        assert!(!lab.permits("10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn secrets_are_standard_webhooks_secrets() {
        use secrecy::ExposeSecret;
        let secret = new_secret();
        let encoded = secret.expose_secret().strip_prefix("whsec_").unwrap();
        assert_eq!(STANDARD.decode(encoded).unwrap().len(), 32);
    }
}
