//! The bounds of request fields in the OpenAPI document, taken from the same
//! constants the checks use, so that the spec cannot drift from what is enforced.
//! (utoipa's `#[schema(max_length = …)]` takes only literals, which would state
//! every limit twice.)

use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{OpenApi, RefOr};
use utoipa::Number;

use crate::app::passwords::MAX_CURRENT_LEN;
use crate::domain::account::{MAX_DISPLAY_NAME, MAX_QUOTA_MB};
use crate::domain::address::{MAX_ADDRESS_LEN, MAX_LOCAL_LEN};
use crate::domain::paging::{MAX_CURSOR_LEN, MAX_LIMIT};
use crate::domain::text::{
    MAX_CUSTOMER_NAME, MAX_EXTERNAL_REF, MAX_KEY_DESCRIPTION, MAX_PARTNER_NAME, MAX_SEARCH,
};
use crate::domain::{domain_name, imported_hash, password, profile};

#[derive(Debug, Clone, Copy)]
enum Bound {
    /// At most this many characters.
    Length(usize),
    /// An integer in this range.
    Range(i64, i64),
    /// At most this many items.
    Items(usize),
}

use Bound::{Items, Length, Range};

/// Every bounded field of every request body: (schema, property, bound).
const FIELDS: &[(&str, &str, Bound)] = &[
    ("CreateAccount", "local_part", Length(MAX_LOCAL_LEN)),
    ("CreateAccount", "password", Length(password::MAX_LEN)),
    (
        "CreateAccount",
        "password_hash",
        Length(imported_hash::MAX_LEN),
    ),
    ("CreateAccount", "display_name", Length(MAX_DISPLAY_NAME)),
    ("CreateAccount", "quota_mb", Range(1, MAX_QUOTA_MB as i64)),
    ("UpdateAccount", "display_name", Length(MAX_DISPLAY_NAME)),
    ("UpdateAccount", "quota_mb", Range(1, MAX_QUOTA_MB as i64)),
    ("CreatePartner", "name", Length(MAX_PARTNER_NAME)),
    ("UpdatePartner", "name", Length(MAX_PARTNER_NAME)),
    ("CreateCustomer", "name", Length(MAX_CUSTOMER_NAME)),
    ("CreateCustomer", "external_ref", Length(MAX_EXTERNAL_REF)),
    ("UpdateCustomer", "name", Length(MAX_CUSTOMER_NAME)),
    ("UpdateCustomer", "external_ref", Length(MAX_EXTERNAL_REF)),
    ("CreateApiKey", "description", Length(MAX_KEY_DESCRIPTION)),
    ("CreateDomain", "name", Length(domain_name::MAX_LEN)),
    (
        "CreateDomain",
        "server_profile",
        Length(profile::MAX_NAME_LEN),
    ),
    (
        "UpdateDomain",
        "server_profile",
        Length(profile::MAX_NAME_LEN),
    ),
    ("SetPassword", "password", Length(password::MAX_LEN)),
    ("ChangePassword", "address", Length(MAX_ADDRESS_LEN)),
    (
        "ChangePassword",
        "current_password",
        Length(MAX_CURRENT_LEN),
    ),
    ("ChangePassword", "new_password", Length(password::MAX_LEN)),
    ("CreateProfile", "name", Length(profile::MAX_NAME_LEN)),
    (
        "CreateProfile",
        "incoming_host",
        Length(domain_name::MAX_LEN),
    ),
    (
        "CreateProfile",
        "outgoing_host",
        Length(domain_name::MAX_LEN),
    ),
    ("CreateProfile", "webmail_url", Length(profile::MAX_URL_LEN)),
    ("CreateProfile", "endpoints", Items(profile::MAX_ENDPOINTS)),
    (
        "ProfileInput",
        "incoming_host",
        Length(domain_name::MAX_LEN),
    ),
    (
        "ProfileInput",
        "outgoing_host",
        Length(domain_name::MAX_LEN),
    ),
    ("ProfileInput", "webmail_url", Length(profile::MAX_URL_LEN)),
    ("ProfileInput", "endpoints", Items(profile::MAX_ENDPOINTS)),
];

/// Query parameters every list shares: (name, bound).
const PARAMETERS: &[(&str, Bound)] = &[
    ("limit", Range(1, MAX_LIMIT as i64)),
    ("cursor", Length(MAX_CURSOR_LEN)),
    ("q", Length(MAX_SEARCH)),
];

fn bound(schema: &mut Schema, bound: Bound) -> bool {
    match (schema, bound) {
        (Schema::Object(o), Length(n)) => o.max_length = Some(n),
        (Schema::Object(o), Range(min, max)) => {
            o.minimum = Some(Number::Int(min as isize));
            o.maximum = Some(Number::Int(max as isize));
        }
        (Schema::Array(a), Items(n)) => a.max_items = Some(n),
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
        let Some((_, b)) = PARAMETERS.iter().find(|(name, _)| *name == p.name) else {
            continue;
        };
        if let Some(RefOr::T(schema)) = p.schema.as_mut() {
            bound(schema, *b);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_bound_lands_in_the_document() {
        let mut spec = super::super::openapi::spec();
        assert_eq!(super::apply(&mut spec), Vec::<String>::new());
    }
}
