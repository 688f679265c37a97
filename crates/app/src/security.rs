//! Credentials: Argon2id password hashes, random tokens, TOTP codes.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Builder, Totp};

use crate::error::AppError;

/// Argon2id cost. The default is OWASP's second recommended setting (19 MiB, 2 passes, 1 lane).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub lanes: u32,
}

impl Default for HashParams {
    fn default() -> Self {
        Self { memory_kib: 19_456, iterations: 2, lanes: 1 }
    }
}

impl HashParams {
    /// Cheap parameters for test suites only: real hashes, a fraction of the cost.
    pub const fn for_tests() -> Self {
        Self { memory_kib: 256, iterations: 1, lanes: 1 }
    }

    fn hasher(&self) -> Result<Argon2<'static>, AppError> {
        let params = Params::new(self.memory_kib, self.iterations, self.lanes, None)
            .map_err(|_| AppError::Internal("invalid argon2 parameters"))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    pub fn hash(&self, password: &str) -> Result<String, AppError> {
        self.hasher()?
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|_| AppError::Internal("password hashing failed"))
    }

    /// True when `password` matches the PHC string `hash` (whatever parameters it was made with).
    pub fn verify(&self, password: &str, hash: &str) -> bool {
        match self.hasher() {
            Ok(h) => h.verify_password(password.as_bytes(), hash).is_ok(),
            Err(_) => false,
        }
    }
}

/// 32 random bytes from the OS, URL-safe base64 (256 bits: far above ASVS's 64).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored in place of a bearer token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A key for throttling and similar lookups that must not store what the user typed.
pub fn keyed_digest(kind: &str, value: &str) -> String {
    let mut h = Sha256::new();
    h.update(kind.as_bytes());
    h.update([0]);
    h.update(value.as_bytes());
    hex::encode(h.finalize())
}

pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

pub const TOTP_STEP_SECONDS: u64 = 30;

pub fn new_totp_secret() -> Vec<u8> {
    let mut bytes = vec![0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

pub fn totp(secret: &[u8], issuer: &str, account: &str) -> Result<Totp, AppError> {
    Builder::new()
        .with_secret(secret.to_vec())
        .with_issuer(Some(issuer))
        .with_account_name(account)
        .with_skew(1)
        .with_step_duration(TOTP_STEP_SECONDS)
        .build()
        .map_err(|_| AppError::Internal("could not build TOTP"))
}

/// The time step a 6-digit `code` belongs to, allowing one step of clock drift either way.
pub fn totp_step(totp: &Totp, code: &str, unix_seconds: u64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    totp.check(&code, unix_seconds).and_then(|step| i64::try_from(step).ok())
}

pub fn base32(secret: &[u8]) -> String {
    totp_rs::Secret::from(secret.to_vec()).to_base32()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let p = HashParams::for_tests();
        let h = p.hash("quiet lantern orbits the harbor").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{h}");
        assert!(p.verify("quiet lantern orbits the harbor", &h));
        assert!(!p.verify("quiet lantern orbits the harbour", &h));
        assert!(HashParams::default().verify("quiet lantern orbits the harbor", &h), "params come from the hash");
        assert!(!p.verify("x", "not a hash"));
    }

    #[test]
    fn totp_codes_map_to_their_step() {
        let secret = new_totp_secret();
        let t = totp(&secret, "Stepdown", "maria").unwrap();
        let now = 1_800_000_000u64;
        let code = t.generate(now).to_string();
        assert_eq!(totp_step(&t, &code, now), Some(60_000_000));
        assert_eq!(totp_step(&t, &code, now + 30), Some(60_000_000), "one step of drift is allowed");
        assert_eq!(totp_step(&t, &code, now + 90), None);
        assert_eq!(totp_step(&t, "12a456", now), None);
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
    }
}
