//! Connection guidance for mailbox owners, in German and English: the provider's
//! help page, rewritten as a support engineer would explain it, filled with the
//! account's own values. The texts are data, kept here and nowhere else; `{name}`
//! placeholders are filled by `render`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    De,
    En,
}

impl Language {
    /// `?lang=` wins; else the first supported language of the client's preferences
    /// (best first); else German. `None` for a `?lang=` we do not speak.
    pub fn choose<'a>(
        query: Option<&str>,
        preferred: impl IntoIterator<Item = &'a str>,
    ) -> Option<Self> {
        match query {
            Some(q) => Self::parse(q),
            None => Some(
                preferred
                    .into_iter()
                    .find_map(|tag| Self::parse(tag.split('-').next()?))
                    .unwrap_or(Language::De),
            ),
        }
    }

    /// The tag: `de` or `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::De => "de",
            Language::En => "en",
        }
    }

    fn parse(tag: &str) -> Option<Self> {
        match tag.trim().to_ascii_lowercase().as_str() {
            "de" => Some(Language::De),
            "en" => Some(Language::En),
            _ => None,
        }
    }
}

/// One section: `(id, German title, German body, English title, English body)`.
type Text = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const SECTIONS: [Text; 5] = [
    (
        "credentials",
        "Benutzername und Passwort",
        "Benutzername: Ihre vollständige E-Mail-Adresse, also {address}. Passwort: das Passwort, das Sie beim Anlegen des E-Mail-Kontos gewählt haben. Sie können es jederzeit im Control Panel unter „E-Mail Konten“ ändern oder direkt im Webmail ({webmail}). Nach einer Änderung verwenden alle Programme und Geräte sofort das neue Passwort; tragen Sie es dort neu ein.",
        "User name and password",
        "User name: your full email address, {address}. Password: the password chosen when the email account was created. You can change it at any time in the Control Panel under \"E-Mail Konten\" (email accounts) or directly in webmail ({webmail}). After a change, every program and device needs the new password at once; enter it there again.",
    ),
    (
        "servers",
        "Posteingangs- und Postausgangsserver",
        "Posteingangsserver: {incoming_host}. Postausgangsserver (SMTP): {outgoing_host}. Verfügbare Verbindungen für den Posteingang: {incoming_list}. Für den Postausgang: {outgoing_list}. Der Postausgangsserver verlangt eine Anmeldung mit demselben Benutzernamen und Passwort.",
        "Incoming and outgoing server",
        "Incoming server: {incoming_host}. Outgoing server (SMTP): {outgoing_host}. Connections for incoming mail: {incoming_list}. For outgoing mail: {outgoing_list}. The outgoing server requires you to log in with the same user name and password.",
    ),
    (
        "encryption",
        "Verschlüsselung",
        "Wir empfehlen, jede Verbindung verschlüsselt aufzubauen, beim Posteingang wie beim Postausgang. Am besten wählen Sie „SSL/TLS“ (Ports {tls_ports}); wo das nicht geht, „STARTTLS“ (Ports {starttls_ports}). Unverschlüsselte Verbindungen übertragen Ihr Passwort und Ihre Nachrichten lesbar durch das Netz und werden nicht empfohlen.",
        "Encryption",
        "We recommend encrypting every connection, incoming and outgoing. Choose \"SSL/TLS\" (ports {tls_ports}) where you can, otherwise \"STARTTLS\" (ports {starttls_ports}). Unencrypted connections send your password and your messages across the network in readable form and are not recommended.",
    ),
    (
        "imap_vs_pop3",
        "IMAP oder POP3?",
        "Wir empfehlen IMAP. Mit IMAP bleiben alle Nachrichten auf dem Server und werden mit allen Ihren Geräten synchronisiert: Löschen Sie eine Nachricht etwa auf dem Tablet, ist sie auch auf dem Server und auf Ihren anderen Geräten gelöscht. Weil alles am Server liegt, ist es auch in unseren täglichen Sicherungen enthalten. POP3 holt die Nachrichten dagegen auf ein einzelnes Gerät; je nach Programm werden sie danach am Server gelöscht oder nur als Kopie behalten. Es gibt keine Synchronisation zwischen mehreren Geräten. Werden Nachrichten vom Server gelöscht und fällt später z. B. die Festplatte Ihres Computers aus, können wir sie nicht aus einer Sicherung wiederherstellen, weil sie zum Zeitpunkt der Sicherung nicht mehr am Server lagen.",
        "IMAP or POP3?",
        "We recommend IMAP. With IMAP all messages stay on the server and are kept in sync across all your devices: delete a message on your tablet, for example, and it is gone from the server and your other devices too. Because everything is on the server, it is also covered by our daily backups. POP3, by contrast, downloads messages to one device; depending on the program they are then deleted from the server or kept there as a copy. Nothing is synchronised between devices. If messages are deleted from the server and your computer's disk fails later, we cannot restore them from a backup, because they were no longer on the server when the backup was made.",
    ),
    (
        "webmail",
        "Webmail: ganz ohne Einrichtung",
        "Sie können Ihre E-Mails auch ohne eigenes Programm im Browser lesen und schreiben: Webmail unter {webmail}. Dort ist alles bereits eingerichtet; Sie melden sich nur mit {address} und Ihrem Passwort an.",
        "Webmail: no setup at all",
        "You can also read and write your email in the browser without any mail program: webmail at {webmail}. Everything is already set up there; just log in with {address} and your password.",
    ),
];

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Section {
    /// `credentials`, `servers`, `encryption`, `imap_vs_pop3` or `webmail`.
    pub id: &'static str,
    pub title: String,
    pub body: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Guidance {
    pub language: Language,
    pub sections: Vec<Section>,
}

/// The values the texts mention.
pub struct Values<'a> {
    pub address: &'a str,
    pub incoming_host: &'a str,
    pub outgoing_host: &'a str,
    pub incoming_list: String,
    pub outgoing_list: String,
    pub tls_ports: String,
    pub starttls_ports: String,
    pub webmail: &'a str,
}

/// Fills `{name}` placeholders in one pass; an unknown name stays as it is.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 128);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            rest = &rest[start..];
            break;
        };
        let name = &after[..end];
        match values.iter().find(|(k, _)| *k == name) {
            Some((_, value)) => out.push_str(value),
            None => out.push_str(&rest[start..start + end + 2]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

pub fn render(language: Language, v: &Values<'_>) -> Guidance {
    let values = [
        ("address", v.address),
        ("incoming_host", v.incoming_host),
        ("outgoing_host", v.outgoing_host),
        ("incoming_list", v.incoming_list.as_str()),
        ("outgoing_list", v.outgoing_list.as_str()),
        ("tls_ports", v.tls_ports.as_str()),
        ("starttls_ports", v.starttls_ports.as_str()),
        ("webmail", v.webmail),
    ];
    let sections = SECTIONS
        .iter()
        .map(|(id, de_title, de_body, en_title, en_body)| {
            let (title, body) = match language {
                Language::De => (de_title, de_body),
                Language::En => (en_title, en_body),
            };
            Section {
                id,
                title: (*title).to_owned(),
                body: fill(body, &values),
            }
        })
        .collect();
    Guidance { language, sections }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_comes_from_the_query_then_the_preferences_then_german() {
        assert_eq!(Language::choose(Some("en"), ["de"]), Some(Language::En));
        assert_eq!(Language::choose(Some("fr"), []), None);
        assert_eq!(
            Language::choose(None, ["fr-FR", "en-GB", "de"]),
            Some(Language::En)
        );
        assert_eq!(Language::choose(None, ["de-AT"]), Some(Language::De));
        assert_eq!(Language::choose(None, ["fr"]), Some(Language::De));
        assert_eq!(Language::choose(None, []), Some(Language::De));
    }

    #[test]
    fn fill_replaces_known_names_and_keeps_the_rest() {
        assert_eq!(fill("a {x} b {y} {", &[("x", "1")]), "a 1 b {y} {");
        assert_eq!(fill("{x}{x}", &[("x", "ü")]), "üü");
    }

    #[test]
    fn every_placeholder_is_filled() {
        let v = Values {
            address: "max@mustermann.at",
            incoming_host: "mail.ipax.at",
            outgoing_host: "mail.ipax.at",
            incoming_list: "IMAP 993".into(),
            outgoing_list: "SMTP 465".into(),
            tls_ports: "993".into(),
            starttls_ports: "143".into(),
            webmail: "https://webmail.ipax.at/",
        };
        for lang in [Language::De, Language::En] {
            for s in render(lang, &v).sections {
                assert!(!s.body.contains('{'), "{}: {}", s.id, s.body);
            }
        }
    }
}
