//! Pure vocabulary and rules: no I/O, no HTTP. Values are parsed once at the edge into
//! these types, and everything behind the edge trusts them.

pub mod account;
pub mod address;
pub mod api_key;
pub mod app_password;
pub mod client_settings;
pub mod dns;
pub mod domain_name;
pub mod event;
pub mod field;
pub mod guidance;
pub mod imported_hash;
pub mod integer;
pub mod paging;
pub mod password;
pub mod profile;
pub mod routing;
pub mod tenancy;
pub mod text;
pub mod webhook;

pub use address::{LocalPart, MailAddress};
pub use domain_name::DomainName;
pub use field::{FieldError, FieldErrors};
pub use tenancy::{Caller, Reach, Role};
