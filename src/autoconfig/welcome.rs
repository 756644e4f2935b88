//! The welcome message for a new account: the same settings as the owner's page and
//! the client-settings JSON, as text and as HTML. Never the password.

use askama::Template;

use super::setup_page::{labels, query_of, Labels};
use crate::domain::client_settings::{ClientSettings, Entry};
use crate::domain::guidance::Language;

pub struct Welcome {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A server as one line, and whether it is the recommended one.
struct Line {
    text: String,
    recommended: bool,
}

#[derive(Template)]
#[template(path = "welcome.txt")]
struct Text<'a> {
    t: &'static Labels,
    s: &'a ClientSettings,
    greeting: &'static str,
    setup_url: &'a str,
    incoming: &'a [Line],
    outgoing: &'a [Line],
}

#[derive(Template)]
#[template(path = "welcome.html")]
struct Html<'a> {
    t: &'static Labels,
    s: &'a ClientSettings,
    greeting: &'static str,
    setup_url: &'a str,
    incoming: &'a [Line],
    outgoing: &'a [Line],
}

fn lines(entries: &[Entry], t: &Labels) -> Vec<Line> {
    entries
        .iter()
        .map(|e| Line {
            text: line(e, t),
            recommended: e.recommended,
        })
        .collect()
}

/// How a server reads in one line: `IMAP mail.ipax.at, port 993, SSL/TLS`.
pub fn line(e: &Entry, t: &Labels) -> String {
    let security = match e.security.as_str() {
        "tls" => "SSL/TLS",
        "starttls" => "STARTTLS",
        _ => t.not_recommended,
    };
    // Mid-sentence: German keeps the noun's capital, English does not.
    let port = if t.lang == "de" { "Port" } else { "port" };
    format!(
        "{} {}, {port} {}, {security}",
        e.protocol.as_str().to_uppercase(),
        e.host,
        e.port
    )
}

/// The message for `settings.address`; `public_host` serves the owner's page.
pub fn render(
    settings: &ClientSettings,
    language: Language,
    public_host: &str,
) -> Result<Welcome, askama::Error> {
    let t = labels(language);
    let setup_url = format!(
        "https://{public_host}/setup?{}&lang={}",
        query_of(&settings.address),
        t.lang
    );
    let (subject, greeting) = match language {
        Language::De => (
            format!("Ihr E-Mail-Konto {} ist eingerichtet", settings.address),
            "Ihr E-Mail-Konto ist eingerichtet. So verbinden Sie Ihr E-Mail-Programm:",
        ),
        Language::En => (
            format!("Your email account {} is ready", settings.address),
            "Your email account is ready. This is how to connect your mail program:",
        ),
    };
    let incoming = lines(&settings.incoming, t);
    let outgoing = lines(&settings.outgoing, t);
    let text = Text {
        t,
        s: settings,
        greeting,
        setup_url: &setup_url,
        incoming: &incoming,
        outgoing: &outgoing,
    }
    .render()?;
    let html = Html {
        t,
        s: settings,
        greeting,
        setup_url: &setup_url,
        incoming: &incoming,
        outgoing: &outgoing,
    }
    .render()?;
    Ok(Welcome {
        subject,
        text,
        html,
    })
}
