//! The bounds of request fields in the OpenAPI document, taken from the same
//! constants the checks use, so that the spec cannot drift from what is enforced.
//! (utoipa's `#[schema(max_length = …)]` takes only literals, which would state
//! every limit twice.)

use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ArrayItems, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{OpenApi, RefOr};
use utoipa::Number;

use crate::app::accounts::MAX_BATCH;
use crate::app::passwords::MAX_CURRENT_LEN;
use crate::domain::account::{MAX_DISPLAY_NAME, MAX_ITEMS_LIMIT, MAX_QUOTA_LIMIT, MAX_QUOTA_MB};
use crate::domain::address::{MAX_ADDRESS_LEN, MAX_LOCAL_LEN};
use crate::domain::paging::{MAX_CURSOR_LEN, MAX_LIMIT};
use crate::domain::routing::{DEFAULT_MAX_DESTINATIONS, MAX_DESCRIPTION};
use crate::domain::text::{
    MAX_CUSTOMER_NAME, MAX_EXTERNAL_REF, MAX_KEY_DESCRIPTION, MAX_PARTNER_NAME, MAX_SEARCH,
};
use crate::domain::{app_password, domain_name, imported_hash, password, profile, webhook};

#[derive(Debug, Clone, Copy)]
enum Bound {
    /// At most this many characters.
    Length(usize),
    /// Free text (trimmed, not empty, no control characters), at most this long.
    Text(usize),
    /// Text matching a pattern, at most this long.
    Pattern(&'static str, usize),
    /// A string of a JSON Schema format, at most this long.
    Format(&'static str, usize),
    /// One of these values.
    OneOf(&'static [&'static str]),
    /// An integer in this range.
    Range(i64, i64),
    /// At least and at most this many items.
    Items(usize, usize),
    /// At least and at most this many mail addresses.
    Addresses(usize, usize),
    /// At least and at most this many webhook event types (`EventTypes::patterns`).
    EventTypes(usize, usize),
    /// At least and at most this many of these values.
    ItemsOf(usize, usize, &'static [&'static str]),
}

use Bound::{Addresses, EventTypes, Format, Items, ItemsOf, Length, OneOf, Pattern, Range, Text};

/// Free text: some visible character, no control character (what `text::bounded` keeps).
const TEXT: &str = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$";
/// Text that may be empty, without control characters.
const PLAIN: &str = r"^[^\u0000-\u001f\u007f-\u009f]*$";
/// RFC 5322 dot-atom (`LocalPart::parse`).
const DOT_ATOM: &str = r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$";
/// `profile::parse_name`.
const PROFILE_NAME: &str = r"^[a-z0-9][a-z0-9_-]*$";
/// `profile::webmail`: http(s), no spaces, quotes or angle brackets.
const WEB_URL: &str = r#"^https?://[^\s"<>\u0000-\u001f\u007f-\u009f]+$"#;
/// A webhook receiver (`webhook::parse_url`): http(s), no spaces, quotes, angle
/// brackets, controls or fragment, no `@` (credentials) before the path.
const RECEIVER_URL: &str = r#"^https?://[^\s"<>@#/?\u0000-\u001f\u007f-\u009f]+([/?][^\s"<>#\u0000-\u001f\u007f-\u009f]*)?$"#;
/// `*` or a list of entity tags (`extract::if_match`).
const ENTITY_TAGS: &str = r#"^(\*|(W/)?"[^"]*"(\s*,\s*(W/)?"[^"]*")*)$"#;
/// Unpadded base64url, as `Page` writes cursors.
const CURSOR: &str = r"^([A-Za-z0-9_-]{4})*([A-Za-z0-9_-]{2,3})?$";
const MAX_PROFILE: usize = profile::MAX_NAME_LEN;
const MAX_HOST: usize = domain_name::MAX_LEN;

/// Every bounded field of every request body: (schema, property, bound).
#[rustfmt::skip]
const FIELDS: &[(&str, &str, Bound)] = &[
    ("CreateAccount", "local_part", Pattern(DOT_ATOM, MAX_LOCAL_LEN)),
    ("CreateAccount", "password", Length(password::MAX_LEN)),
    ("CreateAccount", "password_hash", Length(imported_hash::MAX_LEN)),
    ("CreateAccount", "display_name", Text(MAX_DISPLAY_NAME)),
    ("CreateAccount", "quota_mb", Range(1, MAX_QUOTA_MB as i64)),
    ("UpdateAccount", "display_name", Text(MAX_DISPLAY_NAME)),
    ("UpdateAccount", "quota_mb", Range(1, MAX_QUOTA_MB as i64)),
    ("CreatePartner", "name", Text(MAX_PARTNER_NAME)),
    ("UpdatePartner", "name", Text(MAX_PARTNER_NAME)),
    ("CreateCustomer", "name", Text(MAX_CUSTOMER_NAME)),
    ("CreateCustomer", "external_ref", Text(MAX_EXTERNAL_REF)),
    ("UpdateCustomer", "name", Text(MAX_CUSTOMER_NAME)),
    ("UpdateCustomer", "external_ref", Text(MAX_EXTERNAL_REF)),
    ("CreateApiKey", "description", Pattern(PLAIN, MAX_KEY_DESCRIPTION)),
    ("CreateDomain", "name", Format("idn-hostname", MAX_HOST)),
    ("CreateDomain", "server_profile", Pattern(PROFILE_NAME, MAX_PROFILE)),
    ("CreateDomain", "alias_of", Format("idn-hostname", MAX_HOST)),
    ("UpdateDomain", "server_profile", Pattern(PROFILE_NAME, MAX_PROFILE)),
    ("UpdateDomain", "max_accounts", Range(0, MAX_ITEMS_LIMIT)),
    ("UpdateDomain", "max_aliases", Range(0, MAX_ITEMS_LIMIT)),
    ("UpdateDomain", "max_quota_mb", Range(0, MAX_QUOTA_LIMIT)),
    ("RenameAccount", "local_part", Pattern(DOT_ATOM, MAX_LOCAL_LEN)),
    ("CreateAccounts", "accounts", Items(1, MAX_BATCH)),
    ("WelcomeIn", "send_to", Format("email", MAX_ADDRESS_LEN)),
    ("ForwardingIn", "to", Addresses(1, DEFAULT_MAX_DESTINATIONS)),
    ("CreateAlias", "local_part", Pattern(DOT_ATOM, MAX_LOCAL_LEN)),
    ("CreateAlias", "destinations", Addresses(1, DEFAULT_MAX_DESTINATIONS)),
    ("CreateAlias", "description", Text(MAX_DESCRIPTION)),
    ("UpdateAlias", "destinations", Addresses(1, DEFAULT_MAX_DESTINATIONS)),
    ("UpdateAlias", "description", Text(MAX_DESCRIPTION)),
    ("SetCatchAll", "destinations", Addresses(1, DEFAULT_MAX_DESTINATIONS)),
    ("SetPassword", "password", Length(password::MAX_LEN)),
    ("ChangePassword", "address", Format("email", MAX_ADDRESS_LEN)),
    ("ChangePassword", "current_password", Length(MAX_CURRENT_LEN)),
    ("ChangePassword", "new_password", Length(password::MAX_LEN)),
    ("CreateProfile", "name", Pattern(PROFILE_NAME, MAX_PROFILE)),
    ("CreateProfile", "incoming_host", Format("idn-hostname", MAX_HOST)),
    ("CreateProfile", "outgoing_host", Format("idn-hostname", MAX_HOST)),
    ("CreateProfile", "webmail_url", Pattern(WEB_URL, profile::MAX_URL_LEN)),
    ("CreateProfile", "endpoints", Items(1, profile::MAX_ENDPOINTS)),
    ("ProfileInput", "incoming_host", Format("idn-hostname", MAX_HOST)),
    ("ProfileInput", "outgoing_host", Format("idn-hostname", MAX_HOST)),
    ("ProfileInput", "webmail_url", Pattern(WEB_URL, profile::MAX_URL_LEN)),
    ("ProfileInput", "endpoints", Items(1, profile::MAX_ENDPOINTS)),
    ("CreateAppPassword", "name", Text(app_password::MAX_NAME)),
    ("CreateAppPassword", "protocols", ItemsOf(1, 3, &["imap", "pop3", "smtp"])),
    ("CreateWebhook", "url", Pattern(RECEIVER_URL, webhook::MAX_URL_LEN)),
    ("CreateWebhook", "event_types", EventTypes(1, webhook::MAX_EVENT_TYPES)),
    ("UpdateWebhook", "url", Pattern(RECEIVER_URL, webhook::MAX_URL_LEN)),
    ("UpdateWebhook", "event_types", EventTypes(1, webhook::MAX_EVENT_TYPES)),
];

/// Parameters, in the path or the query, by name: (name, bound).
const PARAMETERS: &[(&str, Bound)] = &[
    ("limit", Range(1, MAX_LIMIT as i64)),
    ("cursor", Pattern(CURSOR, MAX_CURSOR_LEN)),
    ("after", Pattern(CURSOR, MAX_CURSOR_LEN)),
    ("q", Pattern(PLAIN, MAX_SEARCH)),
    ("address", Format("email", MAX_ADDRESS_LEN)),
    ("emailaddress", Format("email", MAX_ADDRESS_LEN)),
    ("account", Format("email", MAX_ADDRESS_LEN)),
    ("domain", Format("idn-hostname", MAX_HOST)),
    ("name", Pattern(PROFILE_NAME, MAX_PROFILE)),
    ("lang", OneOf(&["de", "en"])),
    ("If-Match", Pattern(ENTITY_TAGS, 1024)),
    ("format", OneOf(&["json", "zone"])),
];

fn bound(schema: &mut Schema, b: Bound) -> bool {
    match (schema, b) {
        (Schema::Object(o), Length(n)) => o.max_length = Some(n),
        (Schema::Object(o), Text(n)) => {
            o.min_length = Some(1);
            o.max_length = Some(n);
            o.pattern = Some(TEXT.to_owned());
        }
        (Schema::Object(o), Pattern(p, n)) => {
            o.max_length = Some(n);
            o.pattern = Some(p.to_owned());
        }
        (Schema::Object(o), Format(f, n)) => {
            o.max_length = Some(n);
            o.format = Some(SchemaFormat::Custom(f.to_owned()));
        }
        (Schema::Object(o), OneOf(values)) => {
            o.enum_values = Some(values.iter().map(|v| (*v).into()).collect());
        }
        (Schema::Object(o), Range(min, max)) => {
            o.minimum = Some(Number::Int(min as isize));
            o.maximum = Some(Number::Int(max as isize));
        }
        (Schema::Array(a), Items(min, max)) => {
            a.min_items = Some(min);
            a.max_items = Some(max);
        }
        (Schema::Array(a), Addresses(min, max)) => {
            a.min_items = Some(min);
            a.max_items = Some(max);
            let ArrayItems::RefOrSchema(item) = &mut a.items else {
                return false;
            };
            let RefOr::T(item) = item.as_mut() else {
                return false;
            };
            return bound(item, Format("email", MAX_ADDRESS_LEN));
        }
        (Schema::Array(a), ItemsOf(min, max, values)) => {
            a.min_items = Some(min);
            a.max_items = Some(max);
            a.unique_items = true;
            let ArrayItems::RefOrSchema(item) = &mut a.items else {
                return false;
            };
            let RefOr::T(item) = item.as_mut() else {
                return false;
            };
            return bound(item, OneOf(values));
        }
        (Schema::Array(a), EventTypes(min, max)) => {
            a.min_items = Some(min);
            a.max_items = Some(max);
            let ArrayItems::RefOrSchema(item) = &mut a.items else {
                return false;
            };
            let RefOr::T(Schema::Object(o)) = item.as_mut() else {
                return false;
            };
            let patterns = webhook::EventTypes::patterns();
            o.enum_values = Some(patterns.into_iter().map(Into::into).collect());
        }
        _ => return false,
    }
    true
}

fn property<'a>(spec: &'a mut OpenApi, schema: &str, field: &str) -> Option<&'a mut Schema> {
    let components = spec.components.as_mut()?;
    let RefOr::T(Schema::Object(object)) = components.schemas.get_mut(schema)? else {
        return None;
    };
    match object.properties.get_mut(field)? {
        RefOr::T(s) => Some(s),
        RefOr::Ref(_) => None,
    }
}

/// Writes every bound into the document; returns the fields it could not find (a
/// test keeps that list empty).
pub fn apply(spec: &mut OpenApi) -> Vec<String> {
    let mut missing = Vec::new();
    for (schema, field, b) in FIELDS {
        let done = property(spec, schema, field).is_some_and(|s| bound(s, *b));
        if !done {
            missing.push(format!("{schema}.{field}"));
        }
    }
    operations(spec).for_each(bound_parameters);
    missing
}

/// Every operation of the document.
pub fn operations(spec: &mut OpenApi) -> impl Iterator<Item = &mut Operation> {
    spec.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
    })
}

fn bound_parameters(op: &mut Operation) {
    for p in op.parameters.iter_mut().flatten() {
        // An absent parameter is how a request says "none"; none is ever `null`.
        if let Some(RefOr::T(Schema::Object(o))) = p.schema.as_mut() {
            if let SchemaType::Array(types) = &o.schema_type {
                let types: Vec<Type> = types
                    .iter()
                    .filter(|t| **t != Type::Null)
                    .cloned()
                    .collect();
                if let [one] = types.as_slice() {
                    o.schema_type = SchemaType::Type(one.clone());
                }
            }
        }
        let Some((_, b)) = PARAMETERS.iter().find(|(name, _)| *name == p.name) else {
            continue;
        };
        if let Some(RefOr::T(schema)) = p.schema.as_mut() {
            bound(schema, *b);
        }
    }
}

/// Where what an operation returns is used next, as OpenAPI links, so that a client
/// generator or a stateful test follows them: (operation, status, value, the path
/// parameter it fills, the operations that take it). Links into request bodies (a new
/// customer's id into a domain's `customer_id`) are left out: OpenAPI allows them, but
/// openapi-generator's parser refuses a link body that is not an expression string.
#[rustfmt::skip]
const LINKS: &[(&str, &str, &str, &str, &[&str])] = &[
    ("createPartner", "201", "$response.body#/id", "id",
        &["getPartner", "updatePartner", "deletePartner"]),
    ("createCustomer", "201", "$response.body#/id", "id",
        &["getCustomer", "updateCustomer", "deleteCustomer"]),
    ("createApiKey", "201", "$response.body#/id", "id", &["revokeApiKey"]),
    ("createDomain", "201", "$response.body#/name", "domain",
        &["getDomain", "updateDomain", "deleteDomain", "createAccount", "listAccounts", "listDnsRecords",
          "createAlias", "listAliases", "setCatchAll", "createAccounts"]),
    ("createAccount", "201", "$response.body#/address", "address",
        &["getAccount", "updateAccount", "deleteAccount", "setPassword", "getClientSettings",
          "getAccountAppleProfile", "renameAccount", "createAppPassword", "listAppPasswords"]),
    ("createAlias", "201", "$response.body#/address", "address",
        &["getAlias", "updateAlias", "deleteAlias"]),
    ("deleteAccount", "204", "$request.path.address", "address", &["restoreAccount", "getAccount"]),
    ("createServerProfile", "201", "$response.body#/name", "name",
        &["getServerProfile", "replaceServerProfile", "deleteServerProfile"]),
    ("createWebhook", "201", "$response.body#/id", "id",
        &["getWebhook", "updateWebhook", "deleteWebhook", "listWebhookDeliveries"]),
];

/// Adds the links; returns those whose operation or response the document lacks.
pub fn link(spec: &mut OpenApi) -> Vec<String> {
    let mut missing = Vec::new();
    let known: Vec<String> = operations(spec)
        .filter_map(|op| op.operation_id.clone())
        .collect();
    for (from, status, value, parameter, targets) in LINKS {
        let response = operations(spec)
            .find(|op| op.operation_id.as_deref() == Some(*from))
            .and_then(|op| op.responses.responses.get_mut(*status));
        let Some(RefOr::T(response)) = response else {
            missing.push(format!("{from} {status}"));
            continue;
        };
        for target in *targets {
            if !known.iter().any(|k| k == target) {
                missing.push((*target).to_owned());
                continue;
            }
            let link = LinkBuilder::new()
                .operation_id(*target)
                .parameter(*parameter, *value)
                .build();
            response.links.insert((*target).to_owned(), RefOr::T(link));
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_bound_lands_in_the_document() {
        let mut spec = super::super::openapi::spec();
        assert_eq!(super::apply(&mut spec), Vec::<String>::new());
    }

    #[test]
    fn every_link_names_operations_the_document_has() {
        let mut spec = super::super::openapi::spec();
        assert_eq!(super::link(&mut spec), Vec::<String>::new());
    }
}
