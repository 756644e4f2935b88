//! The OpenAPI 3.1 document. Paths and schemas are collected from the routes
//! themselves (utoipa-actix-web); this module adds what is common to all of them:
//! the description of decisions API.md leaves open, the security scheme and the
//! problem+json responses every operation can give.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Spec, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::domain::FieldError;
use crate::error::Problem;

const DESCRIPTION: &str = r#"The account-management API behind the Control Panel: partners, customers, API keys, mail domains and mail accounts.

Conventions and decisions, beyond the product contract:

* **Authentication**: `Authorization: Bearer mpk_…`. Roles `admin`, `partner` (its own customers and everything below them) and `customer` (its own domains and accounts); any key may be read-only (`GET` only, else `403`). An object outside the caller's reach answers `404` exactly as if it did not exist; a function outside the role answers `403`. Every operation that takes a key names the roles it admits in its `security` requirement (OpenAPI 3.1 role names for a bearer scheme); a caller outside them gets `403` before its body is looked at, whatever the body holds. The service reads these lists at start and refuses to start when one is empty or names an unknown role. Operations with `security: []` take no key.
* **Errors** are RFC 9457 `application/problem+json` with a stable `code`, field-level `errors` and the `request_id`. Malformed JSON is `400 malformed_request`; JSON of the wrong shape (wrong types, missing or unknown fields) is `422 validation_failed`, as are bad query parameters; wrong content type `415`; bodies over the limit (64 KiB by default) `413`; unknown paths `404`; known paths with another method `405` with `Allow`.
* **Path identifiers** that cannot name anything (an id that is not a UUID, an address that is not an address) answer `404`, like any other object that does not exist.
* **Lists** use keyset pagination: `limit` 1..=500 (default 50), the opaque `cursor` from `next_cursor`. A cursor names a position, not a stored object, so any well-formed one (unpadded base64url, as the pattern says) is accepted; a malformed one answers `422`. Unknown query parameters are rejected (`422`).
* **Idempotency-Key**: any write (`POST`, `PUT`, `PATCH`, `DELETE`) with an API key may carry `Idempotency-Key: <1..255 visible ASCII>`. The first request with a key is served and its answer kept for 24 hours, sealed under a key derived from the API key and the `Idempotency-Key` (the database holds neither, so a secret shown once, such as a new API key, is not readable there); a retry with the same key and the same request gets that answer again, with `Idempotent-Replayed: true`, and changes nothing. The same key with a different request answers `422` (`idempotency_key_reused`); a retry while the first is still running answers `409`. Keys are per API key. Answers that ask for a retry (5xx, 408, 425, 429) are not kept. Without the header, a repeated `PUT …/password` is judged again (and refused as `password_unchanged`).
* **Retries**: creating an account or a domain that exists answers `409`, even under a race, so a retried create never makes two. Customers take an optional `external_ref`, unique per partner, for the same purpose; partner names are unique. `DELETE` of an already deleted account answers `204` again; revoking a revoked key likewise.
* **Optimistic concurrency**: single objects carry an `ETag`; `PATCH` (and `PUT` of a server profile) honours `If-Match`: `412` when no tag names the current version, `400` when the value is not `*` or a list of entity tags Without `If-Match` a change of a partner, customer, domain or alias applies to whatever version is there, also when another write lands meanwhile (an account's `PATCH`, whose rules read the account, may still answer `412` then: retry it).
* **Account deletion** is soft: the account leaves the mail servers at once and `GET` still shows it with `deleted_at` and `restorable_until`; `POST …/restore` brings it back as it was. `?deleted=true` lists a domain's deleted accounts. A deleted address cannot be created anew until it is purged (`409` says until when). `PATCH` of a deleted account answers `409`.
* **Domain deletion** needs the domain to have no live accounts and no alias domains pointing to it (`409`); deleted, still restorable accounts, its aliases and its catch-all go with it.
* **Mail routing**: an address is an account or an alias, never both (`409`, also under a race and against a deleted account that can still be restored). Destinations (of aliases, catch-alls and forwarding) are 1..=100 valid addresses (the bound is a setting), local or external, stored as lowercase A-labels, without duplicates; whether a local destination exists is not checked (it may be another customer's). Every write that adds a route follows the routes as Postfix would and refuses one that brings mail back where it has been with `422 routing_loop` (the message names the loop); such writes are serialised system-wide, so two cannot close a loop between them. An inactive alias delivers nothing, and Postfix refuses its mail at `RCPT TO`, as it does a deleted account's that can still be restored; the catch-all never takes mail for an account or alias, whatever their state. A write that frees an address (deleting an alias, renaming without `keep_old_as_alias`) hands its mail to the catch-all, so it is checked for loops too. Addresses outside the caller's reach stay unnamed in a loop's message. `user+tag@domain` is delivered as `user@domain`, and the loop check follows the same rule. Forwarding keeps a copy by default (`keep_copy`). Renaming an account keeps its mailbox (named by the account's id), password and settings; aliases elsewhere that named the old address are not rewritten, so `keep_old_as_alias` is the way to keep them working. Alias domains belong to their target's customer, follow it when it moves, hold no addresses of their own (`409`), and take their target's catch-all.
* **Package limits** (`max_accounts`, `max_aliases`, `max_quota_mb` on a domain; admin and partner keys; `null` unlimited) are checked under a lock of the domain's row, so two creates for the last slot give one `201` and one `409 limit_reached`. Restoring an account and raising a quota count against them too. Setting a limit below what is used is allowed: it blocks growth, it removes nothing.
* **Passwords** are stored exactly as sent (no trimming, no Unicode normalisation) so that every mail client's login matches, hashed with Argon2id as `{ARGON2ID}$argon2id$v=19$…`. The local-part rule applies to local parts of three or more characters (a one-letter mailbox must not forbid that letter). A refused password answers `422 password_policy` with one entry per broken rule, each with a machine code and German and English `messages`; on account creation, policy errors mixed with other bad fields answer `422 validation_failed` with all of them. `PUT …/password` answers `409` for a deleted account. The webmail change (`POST /v1/password-change`, no key, JSON or form) checks the current password before it judges the new one, so that the policy cannot be probed without it; when the new one is refused but the current one was proven, a legacy hash is still upgraded.
* **App passwords** are generated by mailpanel (`xxxx-xxxx-xxxx-xxxx-xxxx-xxxx`, 120 random bits), shown once, stored as Argon2id, at most 20 per account; each logs in to its `protocols` only, until `expires_at`; `last_used_at` is noted by Dovecot at most once a minute. With `require_app_passwords`, the main password stops working in mail clients (IMAP, POP3, SMTP) but keeps working for the webmail password change. Revoking one (`DELETE`, `404` when it is gone) ends the account's open sessions.
* **Usage and last login** come from Dovecot (its quota plugin and last_login plugin, written back through its SQL dict): `usage` and `last_login` are `null` until Dovecot has reported; `percent` may pass 100 after the quota was lowered.
* **Sessions end with the right to them**: after a password set or change, a suspension, a deletion, a protocol switched off or a rename, the account's open IMAP, POP3 and submission sessions are ended through Dovecot's doveadm API (where the provider configured it), usually well within a second. This never delays or fails the API call: the kick is queued in the change's transaction and retried while Dovecot cannot be reached.
* **Client settings and auto-configuration** follow the domain's server profile. Client settings list the account's enabled protocols, IMAP before POP3 and implicit TLS before STARTTLS before plain text; the first encrypted entry of each direction is `recommended`, unencrypted ones carry a `warning`. Guidance comes in German (default) or English (`?lang=`, else `Accept-Language`). The public endpoints answer for any local part of a hosted domain, `404` otherwise, never offer unencrypted endpoints, and are served from memory (updated on every change, by any instance, via `NOTIFY`, usually within milliseconds on every instance). Apple profiles are unsigned; their identifiers are stable per address. Server profiles reject STARTTLS or plain text on 465/993/995, duplicates, ports outside 1..=65535 and invalid host names; `default` cannot be deleted, nor a profile in use (`409`).
* **Limits**: a request head must arrive within 5 s and a body within 10 s once it is read (`408`); bodies are at most 64 KiB (`413`); every string and list in a body has the maximum its schema states. While the database cannot be reached, requests answer `503 unavailable` with `Retry-After` within about 1.5 s instead of waiting, and `/readyz` answers `503`. On SIGTERM the service stops accepting connections and lets requests in flight finish. The figures are settings (see the README).
* **Audit trail and change feed** show an event to the tenancy it was recorded under: the provider, and the partner and customer that owned the object at that moment. The feed's order is the writing transactions' (numerically, also where a transaction id gains a digit).
* **Webhooks** push the change feed: a subscription belongs to the key's reach (the provider, a partner or a customer) and receives exactly the events its owner could read in `GET /v1/events`, filtered by `event_types` (`*`, a family such as `account.*`, or single types). It starts with the events of transactions still running when it is created. Each event is POSTed as the feed shows it (`application/json`), with `webhook-id` (the event's id: the same on every retry and for every subscription, so receivers can skip what they have seen), `webhook-timestamp` (the attempt's time) and `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>` under the key in the `whsec_` secret, as the Standard Webhooks specification writes it; the secret is shown only in the create's answer. A `2xx` is a delivery; redirects are not followed. Failures are retried after 5 s, doubling to at most an hour, for 24 hours; then the subscription is switched off with `disabled_reason` (and a `webhook.disabled` event). `PATCH {"active": true}` resumes it: retries start afresh and everything it missed meanwhile is delivered. Delivery is at least once; order is not guaranteed (a retried event arrives after newer ones; the body's `cursor` orders them). Receivers must be `https` on public addresses: private, loopback, link-local and other special-purpose addresses are refused with `422 receiver_not_allowed`, when written and again where each connection is made, unless the provider allows their network. At most 20 subscriptions per owner (`409 limit_reached`). The timings and limits are settings.
* **Domain names** are accepted as Unicode or A-label and normalised with UTS #46 to the lowercase A-label; paths accept either form.
"#;

#[derive(OpenApi)]
#[openapi(
    info(title = "mailpanel", description = DESCRIPTION, license(name = "Apache-2.0", identifier = "Apache-2.0")),
    components(schemas(Problem, FieldError)),
    modifiers(&Common),
    tags(
        (name = "partners", description = "Resellers (admin keys only)"),
        (name = "customers", description = "Owners of domains"),
        (name = "api-keys", description = "Bearer keys"),
        (name = "domains", description = "Hosted mail domains"),
        (name = "accounts", description = "Mail accounts"),
        (name = "aliases", description = "Aliases and catch-alls"),
        (name = "passwords", description = "Password policy, Control Panel set, webmail change"),
        (name = "server-profiles", description = "Mail server host names and endpoints (admin writes, every key reads)"),
        (name = "client-settings", description = "Mail-client settings, guidance, Apple profiles and DNS records"),
        (name = "autoconfig", description = "Public auto-configuration for Thunderbird, Outlook and Apple devices"),
        (name = "audit", description = "Who changed what, and the change feed"),
        (name = "webhooks", description = "The change feed pushed to a receiver, signed as Standard Webhooks describes"),
        (name = "operations", description = "Health and metrics"),
    )
)]
struct ApiDoc;

struct Common;

fn problem(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

fn add(op: &mut Operation, status: &str, description: &str) {
    op.responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| problem(description));
}

impl Modify for Common {
    fn modify(&self, spec: &mut Spec) {
        let components = spec.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("mpk_…")
                    .description(Some(
                        "An API key; `mailpanel create-api-key --role admin` prints the first one.",
                    ))
                    .build(),
            ),
        );
        // Relative to wherever the document is served from.
        spec.servers = Some(vec![utoipa::openapi::server::Server::new("/")]);
        for op in super::schema::operations(spec) {
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            if !secured {
                // Public, said explicitly: no key needed.
                op.security = Some(Vec::new());
            }
            if secured {
                add(op, "401", "Missing, unknown or revoked API key");
                add(
                    op,
                    "403",
                    "The key's role may not do this, or the key is read-only",
                );
            }
            if op.request_body.is_some() {
                add(op, "400", "Malformed JSON");
                add(op, "408", "The body did not arrive in time");
                add(op, "413", "Body too large");
                add(op, "415", "Not application/json");
            }
            if op.operation_id.as_deref() != Some("getHealth") {
                add(
                    op,
                    "503",
                    "The database cannot be reached, or the server is busy; see Retry-After",
                );
            }
            if secured
                || op.request_body.is_some()
                || op.parameters.as_ref().is_some_and(|p| !p.is_empty())
            {
                add(op, "422", "Invalid input; `errors` names each field");
            }
            add(
                op,
                "500",
                "Internal error; the body carries only the request id",
            );
        }
    }
}

/// The whole document, built from the same route configuration the server uses.
pub fn spec() -> Spec {
    let (_, spec) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(super::configure)
        .split_for_parts();
    let mut spec = spec;
    // Modifiers ran on the empty document; run ours again now that paths exist.
    Common.modify(&mut spec);
    super::schema::apply(&mut spec);
    super::schema::link(&mut spec);
    spec.info.version = env!("CARGO_PKG_VERSION").to_owned();
    spec
}

/// The document as served and committed. utoipa 5 writes a link's fields in snake
/// case (`operation_id`); OpenAPI spells them in camel case, so they are renamed here.
pub fn spec_value() -> serde_json::Value {
    let mut value = serde_json::to_value(spec()).unwrap_or_default();
    if let Some(paths) = value.get_mut("paths").and_then(|p| p.as_object_mut()) {
        let links = paths
            .values_mut()
            .filter_map(|item| item.as_object_mut())
            .flat_map(|item| item.values_mut())
            .filter_map(|op| op.get_mut("responses")?.as_object_mut())
            .flat_map(|responses| responses.values_mut())
            .filter_map(|response| response.get_mut("links")?.as_object_mut())
            .flat_map(|links| links.values_mut())
            .filter_map(|link| link.as_object_mut());
        for link in links {
            for (snake, camel) in [
                ("operation_id", "operationId"),
                ("operation_ref", "operationRef"),
                ("request_body", "requestBody"),
            ] {
                if let Some(v) = link.remove(snake) {
                    link.insert(camel.to_owned(), v);
                }
            }
        }
    }
    value
}

pub fn spec_json() -> String {
    serde_json::to_string_pretty(&spec_value()).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
