//! What mailpanel's outgoing HTTP clients (webhooks, doveadm) share.

/// A request's failure with its causes, for logs and delivery records (reqwest's own
/// message names only the outer one: "error sending request").
pub fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_owned()
    } else {
        e.to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
