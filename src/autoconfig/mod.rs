//! Auto-configuration in the mail clients' own formats, built from the same server
//! profile as the client settings: Thunderbird's `clientConfig` 1.1, Microsoft's
//! Autodiscover (POX) and Apple's configuration profile. Documents are built with
//! real serialisers (quick-xml, plist), so every value is escaped; unencrypted
//! endpoints are never offered.

pub mod autodiscover;
pub mod mobileconfig;
pub mod setup_page;
pub mod thunderbird;
pub mod welcome;

use crate::domain::profile::{Endpoint, Protocol, Security, ServerProfile};

/// The profile's encrypted endpoints for a protocol, best first.
pub fn encrypted(profile: &ServerProfile, protocol: Protocol) -> Vec<Endpoint> {
    profile
        .ordered(|p| p == protocol)
        .into_iter()
        .filter(|e| e.security != Security::None)
        .collect()
}
