//! Apple configuration profile (`.mobileconfig`) with one `com.apple.mail.managed`
//! payload: IMAP and SMTP with the profile's recommended encrypted endpoints.
//! Identifiers are UUIDv5 of the address, so the same account always gets the same
//! profile and installing it again replaces instead of duplicating. Unsigned.

use plist::{Dictionary, Value};
use uuid::Uuid;

use crate::domain::profile::{Protocol, Security, ServerProfile};

/// Namespace for mailpanel's payload UUIDs.
const NAMESPACE: Uuid = Uuid::from_u128(0x6d61_696c_7061_6e65_6c2d_6d6f_6269_6c65);
pub const CONTENT_TYPE: &str = "application/x-apple-aspen-config";

pub struct Identity<'a> {
    pub address: &'a str,
    /// The user name: the address, or for an alias domain the target's address.
    pub login: &'a str,
    pub display_name: Option<&'a str>,
    /// Reverse-DNS prefix for `PayloadIdentifier`s.
    pub organisation: &'a str,
}

/// The profile as an XML property list, or `None` when the server profile offers no
/// encrypted IMAP or SMTP endpoint to configure.
pub fn document(id: &Identity<'_>, profile: &ServerProfile) -> Option<Vec<u8>> {
    let imap = profile.best(Protocol::Imap)?;
    let smtp = profile.best(Protocol::Smtp)?;
    let outer = Uuid::new_v5(&NAMESPACE, id.address.as_bytes());
    let inner = Uuid::new_v5(&NAMESPACE, format!("{}#mail", id.address).as_bytes());
    let base = format!("{}.mailpanel.{}", id.organisation, outer.simple());

    let mut mail = Dictionary::new();
    let mut put = |k: &str, v: Value| {
        mail.insert(k.to_owned(), v);
    };
    put("PayloadType", "com.apple.mail.managed".into());
    put("PayloadVersion", 1.into());
    put("PayloadIdentifier", format!("{base}.mail").into());
    put("PayloadUUID", inner.to_string().to_uppercase().into());
    put(
        "PayloadDisplayName",
        format!("E-Mail {}", id.address).into(),
    );
    put("EmailAccountDescription", id.address.into());
    if let Some(name) = id.display_name {
        put("EmailAccountName", name.into());
    }
    put("EmailAccountType", "EmailTypeIMAP".into());
    put("EmailAddress", id.address.into());
    put(
        "IncomingMailServerAuthentication",
        "EmailAuthPassword".into(),
    );
    put(
        "IncomingMailServerHostName",
        profile.incoming_host.as_str().into(),
    );
    put("IncomingMailServerPortNumber", i64::from(imap.port).into());
    put(
        "IncomingMailServerUseSSL",
        (imap.security == Security::Tls).into(),
    );
    put("IncomingMailServerUsername", id.login.into());
    put(
        "OutgoingMailServerAuthentication",
        "EmailAuthPassword".into(),
    );
    put(
        "OutgoingMailServerHostName",
        profile.outgoing_host.as_str().into(),
    );
    put("OutgoingMailServerPortNumber", i64::from(smtp.port).into());
    put(
        "OutgoingMailServerUseSSL",
        (smtp.security == Security::Tls).into(),
    );
    put("OutgoingMailServerUsername", id.login.into());
    put("OutgoingPasswordSameAsIncomingPassword", true.into());

    let mut root = Dictionary::new();
    root.insert(
        "PayloadContent".into(),
        Value::Array(vec![Value::Dictionary(mail)]),
    );
    root.insert(
        "PayloadDisplayName".into(),
        format!("E-Mail {}", id.address).into(),
    );
    root.insert(
        "PayloadDescription".into(),
        format!(
            "Richtet das E-Mail-Konto {} ein. / Sets up the email account {}.",
            id.address, id.address
        )
        .into(),
    );
    root.insert("PayloadIdentifier".into(), base.into());
    root.insert("PayloadType".into(), "Configuration".into());
    root.insert(
        "PayloadUUID".into(),
        outer.to_string().to_uppercase().into(),
    );
    root.insert("PayloadVersion".into(), 1.into());
    root.insert("PayloadRemovalDisallowed".into(), false.into());

    let mut out = Vec::new();
    Value::Dictionary(root).to_writer_xml(&mut out).ok()?;
    Some(out)
}
