//! Thunderbird's autoconfig document, `clientConfig` version 1.1.

use std::io::Cursor;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use super::encrypted;
use crate::domain::profile::{Endpoint, Protocol, Security, ServerProfile};

fn socket_type(s: Security) -> &'static str {
    match s {
        Security::Tls => "SSL",
        Security::Starttls => "STARTTLS",
        Security::None => "plain",
    }
}

fn server(
    w: &mut Writer<Cursor<Vec<u8>>>,
    element: &str,
    kind: &str,
    host: &str,
    e: Endpoint,
    username: &str,
) -> std::io::Result<()> {
    w.create_element(element)
        .with_attribute(("type", kind))
        .write_inner_content(|w| {
            w.create_element("hostname")
                .write_text_content(BytesText::new(host))?;
            w.create_element("port")
                .write_text_content(BytesText::new(&e.port.to_string()))?;
            w.create_element("socketType")
                .write_text_content(BytesText::new(socket_type(e.security)))?;
            w.create_element("authentication")
                .write_text_content(BytesText::new("password-cleartext"))?;
            w.create_element("username")
                .write_text_content(BytesText::new(username))?;
            Ok(())
        })?;
    Ok(())
}

/// The user name for addresses of a domain whose users log in with `login_domain`:
/// the address itself, or for an alias domain its local part at the target.
pub fn username(domain: &str, login_domain: &str) -> String {
    if domain == login_domain {
        "%EMAILADDRESS%".to_owned()
    } else {
        format!("%EMAILLOCALPART%@{login_domain}")
    }
}

/// The document for `domain` (A-label), whatever the local part asked about.
pub fn document(
    domain: &str,
    display_domain: &str,
    username: &str,
    profile: &ServerProfile,
) -> std::io::Result<Vec<u8>> {
    let mut w = Writer::new(Cursor::new(Vec::new()));
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("clientConfig")
        .with_attribute(("version", "1.1"))
        .write_inner_content(|w| {
            w.create_element("emailProvider")
                .with_attribute(("id", domain))
                .write_inner_content(|w| {
                    w.create_element("domain")
                        .write_text_content(BytesText::new(domain))?;
                    w.create_element("displayName")
                        .write_text_content(BytesText::new(display_domain))?;
                    w.create_element("displayShortName")
                        .write_text_content(BytesText::new(display_domain))?;
                    for protocol in [Protocol::Imap, Protocol::Pop3] {
                        for e in encrypted(profile, protocol) {
                            server(
                                w,
                                "incomingServer",
                                protocol.as_str(),
                                &profile.incoming_host,
                                e,
                                username,
                            )?;
                        }
                    }
                    for e in encrypted(profile, Protocol::Smtp) {
                        server(
                            w,
                            "outgoingServer",
                            "smtp",
                            &profile.outgoing_host,
                            e,
                            username,
                        )?;
                    }
                    Ok(())
                })?;
            if let Some(url) = &profile.webmail_url {
                w.create_element("webMail").write_inner_content(|w| {
                    w.create_element("loginPage")
                        .with_attribute(("url", url.as_str()))
                        .write_empty()?;
                    Ok(())
                })?;
            }
            Ok(())
        })?;
    Ok(w.into_inner().into_inner())
}
