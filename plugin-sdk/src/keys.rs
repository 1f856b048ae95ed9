//! Keys the gateway manages (`sluice keys create`, `/admin/keys`), for auth plugins.

use crate::bindings::sluice::plugin0_2_0::keys as imp;

/// A managed key: who owns it, what it may use, and whether it is still valid.
pub use imp::KeyRecord;

/// The managed key whose secret hashes to `sha256_hex` (lower-case hex), if any.
///
/// ```no_run
/// let hash = "…"; // hex sha256 of the presented secret
/// if let Some(key) = sluice_plugin_sdk::keys::lookup(hash) {
///     let usable = !key.revoked
///         && key.expires_at_ms.is_none_or(|t| t > sluice_plugin_sdk::now_ms());
///     # let _ = usable;
/// }
/// ```
pub fn lookup(sha256_hex: &str) -> Option<KeyRecord> {
    imp::lookup(sha256_hex)
}
