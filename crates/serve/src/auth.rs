//! Who is asking: bearer tokens bound to an employee id. A token is shown once, when
//! `flowc serve token create` issues it; the database keeps only its SHA-256.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use sqlx::AnyPool;

use crate::db;

/// A new random token: `flowc_` and 64 hex digits (256 bits from the operating system).
pub fn new_token() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|error| format!("no random numbers from the system: {error}"))?;
    Ok(format!("flowc_{}", hex(&bytes)))
}

/// What the database keeps of a token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Issues a token to `person` and returns it (the only time it is seen).
pub async fn create(pool: &AnyPool, person: &str, at: &str) -> Result<String, String> {
    let token = new_token()?;
    db::insert_token(pool, &token_hash(&token), person, at).await.map_err(|error| error.to_string())?;
    Ok(token)
}

/// Tokens already seen by this process, by hash. Tokens are never revoked while a server runs
/// (there is no revocation yet), so a hit needs no database read.
#[derive(Default)]
pub struct TokenCache {
    known: Mutex<HashMap<String, String>>,
}

impl TokenCache {
    pub async fn person(&self, pool: &AnyPool, token: &str) -> Result<Option<String>, sqlx::Error> {
        let hash = token_hash(token);
        if let Some(person) = self.known.lock().ok().and_then(|known| known.get(&hash).cloned()) {
            return Ok(Some(person));
        }
        let person = db::token_person(pool, &hash).await?;
        if let (Some(person), Ok(mut known)) = (&person, self.known.lock()) {
            known.insert(hash, person.clone());
        }
        Ok(person)
    }
}
