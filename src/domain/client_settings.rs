//! An account's mail-client settings: the entries of its domain's server profile
//! for the protocols the account may use, in order of recommendation, with guidance.

use serde::Serialize;
use utoipa::ToSchema;

use super::account::Protocols;
use super::guidance::{self, Guidance, Language};
use super::profile::{Endpoint, Protocol, Security, ServerProfile};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Entry {
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub recommended: bool,
    /// `password` (the account's password, sent inside the encrypted connection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication: Option<&'static str>,
    /// Set on unencrypted entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientSettings {
    pub address: String,
    /// Always the full address.
    pub username: String,
    pub incoming: Vec<Entry>,
    pub outgoing: Vec<Entry>,
    pub webmail_url: Option<String>,
    pub guidance: Guidance,
}

impl Protocols {
    fn allows(self, p: Protocol) -> bool {
        match p {
            Protocol::Imap => self.imap,
            Protocol::Pop3 => self.pop3,
            Protocol::Smtp => self.smtp,
        }
    }
}

fn security_label(s: Security, language: Language) -> &'static str {
    match (s, language) {
        (Security::Tls, _) => "SSL/TLS",
        (Security::Starttls, _) => "STARTTLS",
        (Security::None, Language::De) => "ohne Verschlüsselung, nicht empfohlen",
        (Security::None, Language::En) => "unencrypted, not recommended",
    }
}

fn plain_warning(language: Language) -> String {
    match language {
        Language::De => {
            "Unverschlüsselt: Passwort und Nachrichten gehen lesbar über das Netz. Nicht empfohlen."
                .into()
        }
        Language::En => {
            "Unencrypted: password and messages cross the network readably. Not recommended.".into()
        }
    }
}

fn entries(profile: &ServerProfile, endpoints: Vec<Endpoint>, language: Language) -> Vec<Entry> {
    // The first encrypted entry is the recommended one.
    let recommended = endpoints.iter().position(|e| e.security != Security::None);
    endpoints
        .into_iter()
        .enumerate()
        .map(|(i, e)| Entry {
            protocol: e.protocol,
            host: profile.host_for(e.protocol).to_owned(),
            port: e.port,
            security: e.security,
            recommended: Some(i) == recommended,
            authentication: (e.protocol == Protocol::Smtp).then_some("password"),
            warning: (e.security == Security::None).then(|| plain_warning(language)),
        })
        .collect()
}

fn list(entries: &[Entry], language: Language) -> String {
    let port = if language == Language::De {
        "Port"
    } else {
        "port"
    };
    entries
        .iter()
        .map(|e| {
            format!(
                "{} {} {port} {} ({})",
                e.protocol.as_str().to_uppercase(),
                e.host,
                e.port,
                security_label(e.security, language)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn ports(profile: &ServerProfile, security: Security) -> String {
    let mut ports: Vec<String> = profile
        .ordered(|_| true)
        .iter()
        .filter(|e| e.security == security)
        .map(|e| format!("{} {}", e.protocol.as_str().to_uppercase(), e.port))
        .collect();
    ports.dedup();
    ports.join(", ")
}

pub fn build(
    profile: &ServerProfile,
    address: &str,
    enabled: Protocols,
    language: Language,
) -> ClientSettings {
    let incoming = entries(
        profile,
        profile.ordered(|p| p.is_incoming() && enabled.allows(p)),
        language,
    );
    let outgoing = entries(
        profile,
        profile.ordered(|p| p == Protocol::Smtp && enabled.allows(p)),
        language,
    );
    let webmail = profile.webmail_url.as_deref().unwrap_or("Webmail");
    let values = guidance::Values {
        address,
        incoming_host: &profile.incoming_host,
        outgoing_host: &profile.outgoing_host,
        incoming_list: list(&incoming, language),
        outgoing_list: list(&outgoing, language),
        tls_ports: ports(profile, Security::Tls),
        starttls_ports: ports(profile, Security::Starttls),
        webmail,
    };
    ClientSettings {
        address: address.to_owned(),
        username: address.to_owned(),
        guidance: guidance::render(language, &values),
        incoming,
        outgoing,
        webmail_url: profile.webmail_url.clone(),
    }
}
