//! Microsoft Autodiscover, the plain-old-XML flavour Outlook sends to
//! `/autodiscover/autodiscover.xml`: read the requested address from the request,
//! answer with one `Protocol` block per protocol (the best encrypted endpoint).
//!
//! The request is parsed defensively: a bounded body, no DTD at all (so no external
//! entities and no entity expansion), bounded depth and element count.

use std::io::Cursor;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::{Reader, Writer};

use crate::domain::profile::{Protocol, Security, ServerProfile};

pub const RESPONSE_SCHEMA: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
const MAX_EVENTS: usize = 200;
const MAX_DEPTH: usize = 8;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("the request is not well-formed XML")]
    Malformed,
    #[error("a DOCTYPE is not accepted")]
    Doctype,
    #[error("entity references are not accepted")]
    Entity,
    #[error("the request is too deeply nested or too long")]
    TooComplex,
    #[error("the request names no EMailAddress")]
    NoAddress,
}

/// The `EMailAddress` of an Autodiscover request. The five predefined entities and
/// character references are resolved (an address may hold `&` or `'`); any other
/// entity is refused, and there is no DTD to declare one.
pub fn requested_address(body: &str) -> Result<String, RequestError> {
    let mut reader = Reader::from_str(body);
    let mut depth = 0usize;
    let mut in_address = false;
    let mut current = String::new();
    let mut address = None;
    for _ in 0..MAX_EVENTS {
        match reader.read_event().map_err(|_| RequestError::Malformed)? {
            Event::DocType(_) => return Err(RequestError::Doctype),
            Event::Start(e) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(RequestError::TooComplex);
                }
                in_address = e.local_name().as_ref() == "EMailAddress";
                current.clear();
            }
            Event::End(_) => {
                if in_address && !current.trim().is_empty() {
                    address = Some(current.trim().to_owned());
                }
                depth = depth.saturating_sub(1);
                in_address = false;
            }
            Event::Text(t) if in_address => current.push_str(&t),
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .ok()
                        .flatten()
                        .ok_or(RequestError::Entity)?
                } else {
                    match &*r {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => return Err(RequestError::Entity),
                    }
                };
                if in_address {
                    current.push(c);
                }
            }
            Event::Eof => return address.ok_or(RequestError::NoAddress),
            _ => {}
        }
        if current.len() > 1024 {
            return Err(RequestError::TooComplex);
        }
    }
    Err(RequestError::TooComplex)
}

fn protocol_block(
    w: &mut Writer<Cursor<Vec<u8>>>,
    kind: &str,
    host: &str,
    port: u16,
    security: Security,
    login: &str,
) -> std::io::Result<()> {
    let text = |w: &mut Writer<Cursor<Vec<u8>>>, name: &str, value: &str| -> std::io::Result<()> {
        w.create_element(name)
            .write_text_content(BytesText::new(value))?;
        Ok(())
    };
    w.create_element("Protocol").write_inner_content(|w| {
        text(w, "Type", kind)?;
        text(w, "Server", host)?;
        text(w, "Port", &port.to_string())?;
        text(w, "DomainRequired", "off")?;
        text(w, "LoginName", login)?;
        text(w, "SPA", "off")?;
        text(w, "SSL", "on")?;
        // Encryption overrides SSL in Outlook: SSL = implicit TLS, TLS = STARTTLS.
        text(
            w,
            "Encryption",
            if security == Security::Tls {
                "SSL"
            } else {
                "TLS"
            },
        )?;
        text(w, "AuthRequired", "on")?;
        Ok(())
    })?;
    Ok(())
}

/// The answer for `address` (any local part of a hosted domain).
pub fn response(address: &str, profile: &ServerProfile) -> std::io::Result<Vec<u8>> {
    let mut w = Writer::new(Cursor::new(Vec::new()));
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    w.create_element("Autodiscover")
        .with_attribute((
            "xmlns",
            "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006",
        ))
        .write_inner_content(|w| {
            w.create_element("Response")
                .with_attribute(("xmlns", RESPONSE_SCHEMA))
                .write_inner_content(|w| {
                    w.create_element("Account").write_inner_content(|w| {
                        w.create_element("AccountType")
                            .write_text_content(BytesText::new("email"))?;
                        w.create_element("Action")
                            .write_text_content(BytesText::new("settings"))?;
                        for (protocol, kind) in [
                            (Protocol::Imap, "IMAP"),
                            (Protocol::Pop3, "POP3"),
                            (Protocol::Smtp, "SMTP"),
                        ] {
                            if let Some(e) = profile.best(protocol) {
                                protocol_block(
                                    w,
                                    kind,
                                    profile.host_for(protocol),
                                    e.port,
                                    e.security,
                                    address,
                                )?;
                            }
                        }
                        Ok(())
                    })?;
                    Ok(())
                })?;
            Ok(())
        })?;
    Ok(w.into_inner().into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>max@mustermann.at</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>"#;

    #[test]
    fn reads_the_address() {
        assert_eq!(
            requested_address(REQUEST),
            Ok("max@mustermann.at".to_owned())
        );
    }

    #[test]
    fn resolves_predefined_entities_only() {
        let req =
            "<a><Request><EMailAddress>o&apos;brien&amp;co&#64;x.at</EMailAddress></Request></a>";
        assert_eq!(requested_address(req), Ok("o'brien&co@x.at".to_owned()));
    }

    #[test]
    fn refuses_what_could_expand_or_fetch() {
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><Autodiscover><Request><EMailAddress>&lol2;</EMailAddress></Request></Autodiscover>"#;
        assert_eq!(requested_address(laughs), Err(RequestError::Doctype));
        let external = r#"<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a><EMailAddress>&x;</EMailAddress></a>"#;
        assert_eq!(requested_address(external), Err(RequestError::Doctype));
        assert_eq!(
            requested_address("<a><EMailAddress>&x;</EMailAddress></a>"),
            Err(RequestError::Entity)
        );
        assert!(requested_address("not xml <").is_err());
        assert_eq!(
            requested_address(&"<a>".repeat(20)),
            Err(RequestError::TooComplex)
        );
        assert_eq!(requested_address("<a/>"), Err(RequestError::NoAddress));
    }
}
