//! The mailbox owner's page (`GET /setup`): the provider's help page for one address,
//! server-rendered from the same client settings as the JSON, in German or English.
//! The template engine escapes every value; the only markup not written by the
//! template is the QR code's SVG, which this module draws itself.

use askama::Template;
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use crate::domain::client_settings::{ClientSettings, Entry};
use crate::domain::guidance::Language;
use crate::domain::profile::Security;

/// What the page says around the data, in one language.
pub struct Labels {
    pub lang: &'static str,
    pub title: &'static str,
    pub intro: &'static str,
    pub login: &'static str,
    pub servers: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub password_hint: &'static str,
    pub incoming: &'static str,
    pub outgoing: &'static str,
    pub protocol: &'static str,
    pub server: &'static str,
    pub port: &'static str,
    pub security: &'static str,
    pub recommended: &'static str,
    pub not_recommended: &'static str,
    pub copy: &'static str,
    pub copied: &'static str,
    pub apple: &'static str,
    pub apple_button: &'static str,
    pub qr_caption: &'static str,
    pub qr_label: &'static str,
    pub webmail: &'static str,
    pub other_language: &'static str,
    pub other_lang: &'static str,
    pub ask_address: &'static str,
    pub address_label: &'static str,
    pub show: &'static str,
    pub not_hosted: &'static str,
    pub bad_address: &'static str,
}

const DE: Labels = Labels {
    lang: "de",
    login: "Ihre Anmeldung",
    servers: "Server und Ports",
    title: "E-Mail einrichten",
    intro: "So richten Sie Ihr E-Mail-Konto in einem E-Mail-Programm, auf dem Handy oder Tablet ein.",
    username: "Benutzername",
    password: "Passwort",
    password_hint: "das Passwort Ihres E-Mail-Kontos (es steht nicht auf dieser Seite)",
    incoming: "Posteingang",
    outgoing: "Postausgang (SMTP)",
    protocol: "Protokoll",
    server: "Server",
    port: "Port",
    security: "Verschlüsselung",
    recommended: "empfohlen",
    not_recommended: "nicht empfohlen",
    copy: "Kopieren",
    copied: "Kopiert",
    apple: "iPhone, iPad und Mac",
    apple_button: "Profil für Apple-Geräte laden",
    qr_caption: "Mit der Kamera des iPhones oder iPads scannen: Das Profil öffnet sich direkt auf dem Gerät.",
    qr_label: "QR-Code, der das Apple-Profil für diese Adresse öffnet",
    webmail: "Webmail öffnen",
    other_language: "English",
    other_lang: "en",
    ask_address: "Für welche E-Mail-Adresse möchten Sie die Einstellungen sehen?",
    address_label: "E-Mail-Adresse",
    show: "Einstellungen anzeigen",
    not_hosted: "Für diese Domain verwalten wir keine E-Mail-Adressen. Bitte prüfen Sie die Schreibweise.",
    bad_address: "Das ist keine gültige E-Mail-Adresse. Bitte geben Sie sie in der Form max@mustermann.at ein.",
};

const EN: Labels = Labels {
    lang: "en",
    login: "Your login",
    servers: "Servers and ports",
    title: "Set up email",
    intro: "How to set up your email account in a mail program, on a phone or a tablet.",
    username: "User name",
    password: "Password",
    password_hint: "your email account's password (it is not shown on this page)",
    incoming: "Incoming mail",
    outgoing: "Outgoing mail (SMTP)",
    protocol: "Protocol",
    server: "Server",
    port: "Port",
    security: "Encryption",
    recommended: "recommended",
    not_recommended: "not recommended",
    copy: "Copy",
    copied: "Copied",
    apple: "iPhone, iPad and Mac",
    apple_button: "Download the profile for Apple devices",
    qr_caption: "Scan with the iPhone's or iPad's camera: the profile opens right on the device.",
    qr_label: "QR code that opens the Apple profile for this address",
    webmail: "Open webmail",
    other_language: "Deutsch",
    other_lang: "de",
    ask_address: "Which email address would you like to see the settings for?",
    address_label: "Email address",
    show: "Show settings",
    not_hosted: "We do not host email for this domain. Please check the spelling.",
    bad_address: "This is not a valid email address. Please enter it like max@mustermann.at.",
};

pub fn labels(language: Language) -> &'static Labels {
    match language {
        Language::De => &DE,
        Language::En => &EN,
    }
}

/// One row of a server table.
pub struct Row<'a> {
    pub entry: &'a Entry,
    pub protocol: String,
    pub security: &'static str,
}

fn rows<'a>(entries: &'a [Entry], t: &Labels) -> Vec<Row<'a>> {
    entries
        .iter()
        .map(|entry| Row {
            entry,
            protocol: entry.protocol.as_str().to_uppercase(),
            security: match entry.security {
                Security::Tls => "SSL/TLS",
                Security::Starttls => "STARTTLS",
                Security::None => t.not_recommended,
            },
        })
        .collect()
}

/// One server table: incoming or outgoing.
pub struct Table<'a> {
    pub caption: &'static str,
    pub rows: Vec<Row<'a>>,
}

/// Why the page has no settings to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// No address was asked about: the page asks for one.
    None,
    NotHosted,
    BadAddress,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct Page<'a> {
    t: &'static Labels,
    settings: Option<&'a ClientSettings>,
    tables: Vec<Table<'a>>,
    /// The Apple profile, relative to the page.
    profile_href: String,
    /// The QR code's SVG, drawn here (not user input).
    qr_svg: String,
    /// The same page in the other language.
    other_href: String,
    problem: Problem,
}

/// The page with the settings for one address. `profile_url` is the absolute URL
/// the QR code opens.
pub fn render(
    settings: &ClientSettings,
    language: Language,
    profile_url: &str,
) -> Result<String, askama::Error> {
    let t = labels(language);
    let query = query_of(&settings.address);
    Page {
        t,
        settings: Some(settings),
        tables: vec![
            Table {
                caption: t.incoming,
                rows: rows(&settings.incoming, t),
            },
            Table {
                caption: t.outgoing,
                rows: rows(&settings.outgoing, t),
            },
        ],
        profile_href: format!("/apple/mobileconfig?{query}"),
        qr_svg: qr_svg(profile_url),
        other_href: format!("/setup?{query}&lang={}", t.other_lang),
        problem: Problem::None,
    }
    .render()
}

/// The page without settings: a form asking for the address, with what went wrong.
pub fn render_problem(language: Language, problem: Problem) -> Result<String, askama::Error> {
    let t = labels(language);
    Page {
        t,
        settings: None,
        tables: Vec::new(),
        profile_href: String::new(),
        qr_svg: String::new(),
        other_href: format!("/setup?lang={}", t.other_lang),
        problem,
    }
    .render()
}

/// `emailaddress=…`, percent-encoded.
pub fn query_of(address: &str) -> String {
    serde_urlencoded::to_string([("emailaddress", address)]).unwrap_or_default()
}

/// A QR code of `url` as inline SVG (no XML declaration), scaling with its box.
fn qr_svg(url: &str) -> String {
    let Ok(code) = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M) else {
        return String::new();
    };
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build();
    match image.find("<svg") {
        Some(start) => image[start..].to_owned(),
        None => image,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_is_inline_svg() {
        let svg = qr_svg("https://mail.example/apple/mobileconfig?emailaddress=max%40m.at");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(!svg.contains("<?xml"));
    }

    #[test]
    fn problems_render_in_both_languages_without_settings() {
        for lang in [Language::De, Language::En] {
            let html = render_problem(lang, Problem::NotHosted).unwrap();
            assert!(html.contains(labels(lang).not_hosted), "{html}");
        }
    }
}
