//! Server profiles: which host names, ports and kinds of encryption a domain's
//! mail clients use. The shipped `default` profile is the provider's help page, with
//! the standard port assignment of RFC 8314 (implicit TLS on 993, 995 and 465;
//! STARTTLS on 143, 110 and 587).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::field::FieldError;
use super::DomainName;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Imap,
    Pop3,
    Smtp,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Implicit TLS ("SSL/TLS").
    Tls,
    Starttls,
    /// Unencrypted; never recommended, never offered by auto-configuration.
    None,
}

impl Security {
    /// As JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Security::Tls => "tls",
            Security::Starttls => "starttls",
            Security::None => "none",
        }
    }
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Imap => "imap",
            Protocol::Pop3 => "pop3",
            Protocol::Smtp => "smtp",
        }
    }

    pub fn is_incoming(self) -> bool {
        !matches!(self, Protocol::Smtp)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub protocol: Protocol,
    #[schema(minimum = 1, maximum = 65535)]
    #[serde(deserialize_with = "super::integer::whole")]
    pub port: u16,
    pub security: Security,
}

/// Ports that speak TLS from the first byte (RFC 8314): STARTTLS or plain text there
/// would never work.
const IMPLICIT_TLS_PORTS: [u16; 3] = [465, 993, 995];
pub const MAX_ENDPOINTS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ServerProfile {
    #[schema(example = "default")]
    pub name: String,
    #[schema(example = "mail.ipax.at")]
    pub incoming_host: String,
    #[schema(example = "mail.ipax.at")]
    pub outgoing_host: String,
    #[schema(example = "https://webmail.ipax.at/")]
    pub webmail_url: Option<String>,
    pub endpoints: Vec<Endpoint>,
}

/// What an admin sends to create or replace a profile.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileInput {
    #[schema(max_length = 253)]
    pub incoming_host: String,
    #[schema(max_length = 253)]
    pub outgoing_host: String,
    #[schema(max_length = 2048)]
    pub webmail_url: Option<String>,
    #[schema(max_items = 32)]
    pub endpoints: Vec<Endpoint>,
}

/// Longest profile name.
pub const MAX_NAME_LEN: usize = 64;
/// Longest webmail URL.
pub const MAX_URL_LEN: usize = 2048;

pub fn parse_name(raw: &str) -> Result<String, FieldError> {
    let ok = (1..=MAX_NAME_LEN).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && raw.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(FieldError::new(
            "name",
            "invalid_name",
            "must be 1 to 64 of a-z, 0-9, - and _, starting with a letter or digit",
        ))
    }
}

fn host(field: &str, raw: &str) -> Result<String, FieldError> {
    DomainName::parse(raw)
        .map(|d| d.as_str().to_owned())
        .map_err(|e| FieldError::new(field, "invalid_host", format!("host name {e}")))
}

fn webmail(raw: &str) -> Result<String, FieldError> {
    let ok = raw.len() <= MAX_URL_LEN
        && (raw.starts_with("https://") || raw.starts_with("http://"))
        && raw.len() > "https://".len()
        && !raw
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(FieldError::new(
            "webmail_url",
            "invalid_url",
            "must be an http(s) URL without spaces, quotes or angle brackets",
        ))
    }
}

impl ProfileInput {
    /// Validates everything at once and returns the profile, or every problem found.
    pub fn into_profile(self, name: String) -> Result<ServerProfile, Vec<FieldError>> {
        let mut errors = Vec::new();
        let incoming = host("incoming_host", &self.incoming_host)
            .map_err(|e| errors.push(e))
            .ok();
        let outgoing = host("outgoing_host", &self.outgoing_host)
            .map_err(|e| errors.push(e))
            .ok();
        let webmail_url = self
            .webmail_url
            .as_deref()
            .map(webmail)
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        if self.endpoints.is_empty() || self.endpoints.len() > MAX_ENDPOINTS {
            errors.push(FieldError::new(
                "endpoints",
                "out_of_range",
                format!("must list 1 to {MAX_ENDPOINTS} endpoints"),
            ));
        }
        for (i, e) in self.endpoints.iter().enumerate() {
            let field = format!("endpoints[{i}]");
            if e.port == 0 {
                errors.push(FieldError::new(
                    format!("{field}.port"),
                    "out_of_range",
                    "must be between 1 and 65535",
                ));
            }
            if IMPLICIT_TLS_PORTS.contains(&e.port) && e.security != Security::Tls {
                errors.push(FieldError::new(
                    format!("{field}.security"),
                    "implicit_tls_port",
                    format!("port {} is an implicit-TLS port (RFC 8314); only security \"tls\" works there", e.port),
                ));
            }
            if self.endpoints[..i].contains(e) {
                errors.push(FieldError::new(
                    field.clone(),
                    "duplicate",
                    "is listed twice",
                ));
            }
        }
        if !self.endpoints.iter().any(|e| e.protocol.is_incoming())
            || !self.endpoints.iter().any(|e| e.protocol == Protocol::Smtp)
        {
            errors.push(FieldError::new(
                "endpoints",
                "incomplete",
                "needs at least one incoming (IMAP or POP3) and one SMTP endpoint",
            ));
        }
        match (incoming, outgoing, errors.is_empty()) {
            (Some(incoming_host), Some(outgoing_host), true) => Ok(ServerProfile {
                name,
                incoming_host,
                outgoing_host,
                webmail_url,
                endpoints: self.endpoints,
            }),
            _ => Err(errors),
        }
    }
}

impl ServerProfile {
    /// Endpoints in the order a customer should consider them: IMAP before POP3,
    /// implicit TLS before STARTTLS before plain text.
    pub fn ordered(&self, protocol_filter: impl Fn(Protocol) -> bool) -> Vec<Endpoint> {
        let mut v: Vec<Endpoint> = self
            .endpoints
            .iter()
            .copied()
            .filter(|e| protocol_filter(e.protocol))
            .collect();
        v.sort_by_key(|e| (e.protocol, e.security, e.port));
        v
    }

    pub fn host_for(&self, protocol: Protocol) -> &str {
        if protocol.is_incoming() {
            &self.incoming_host
        } else {
            &self.outgoing_host
        }
    }

    /// The best encrypted endpoint for a protocol, if the profile offers one.
    pub fn best(&self, protocol: Protocol) -> Option<Endpoint> {
        self.ordered(|p| p == protocol)
            .into_iter()
            .find(|e| e.security != Security::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(endpoints: Vec<Endpoint>) -> ProfileInput {
        ProfileInput {
            incoming_host: "mail.example.at".into(),
            outgoing_host: "smtp.example.at".into(),
            webmail_url: Some("https://webmail.example.at/".into()),
            endpoints,
        }
    }

    fn ep(protocol: Protocol, port: u16, security: Security) -> Endpoint {
        Endpoint {
            protocol,
            port,
            security,
        }
    }

    #[test]
    fn starttls_or_plain_on_implicit_tls_ports_is_refused() {
        let errors = input(vec![
            ep(Protocol::Imap, 993, Security::Starttls),
            ep(Protocol::Smtp, 465, Security::None),
        ])
        .into_profile("x".into())
        .unwrap_err();
        let codes: Vec<&str> = errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, ["implicit_tls_port", "implicit_tls_port"]);
    }

    #[test]
    fn duplicates_bad_ports_and_hosts_are_refused() {
        let mut i = input(vec![
            ep(Protocol::Imap, 143, Security::Starttls),
            ep(Protocol::Imap, 143, Security::Starttls),
            ep(Protocol::Smtp, 0, Security::Tls),
        ]);
        i.incoming_host = "not a host".into();
        let errors = i.into_profile("x".into()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["incoming_host", "endpoints[1]", "endpoints[2].port"]
        );
    }

    #[test]
    fn endpoints_are_ordered_imap_first_then_by_encryption() {
        let p = input(vec![
            ep(Protocol::Pop3, 995, Security::Tls),
            ep(Protocol::Imap, 143, Security::None),
            ep(Protocol::Imap, 143, Security::Starttls),
            ep(Protocol::Imap, 993, Security::Tls),
            ep(Protocol::Smtp, 587, Security::Starttls),
        ])
        .into_profile("x".into())
        .unwrap();
        let order: Vec<(Protocol, u16, Security)> = p
            .ordered(Protocol::is_incoming)
            .iter()
            .map(|e| (e.protocol, e.port, e.security))
            .collect();
        assert_eq!(
            order,
            [
                (Protocol::Imap, 993, Security::Tls),
                (Protocol::Imap, 143, Security::Starttls),
                (Protocol::Imap, 143, Security::None),
                (Protocol::Pop3, 995, Security::Tls)
            ]
        );
        assert_eq!(p.best(Protocol::Smtp).map(|e| e.port), Some(587));
    }
}
