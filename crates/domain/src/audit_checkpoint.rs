//! Signed checkpoints of the audit chain, kept outside the database.
//!
//! The hash chain proves that the rows it holds are in order and unedited, but not that the
//! newest rows are still there: whoever can write the database can delete the tail and move
//! `audit_head` back, and what remains is a shorter chain that verifies. A checkpoint records
//! how far the chain reached at a moment — the newest event's position and hash — with an
//! HMAC-SHA-256 under a key the database does not hold. Written where the database's writers
//! cannot reach (a file shipped off the host, the log), it lets the privacy officer ask later
//! whether the chain still contains that exact event. If it does, every event up to it is as
//! it was (each hash covers all before it); if the chain now ends before it, its tail was
//! removed; if the event there has another hash, the chain was rewritten from there back.
//!
//! A checkpoint is one line of text, so it survives log shipping and `grep`:
//!
//! ```text
//! stepdown-audit-checkpoint v1 seq=42 hash=<64 hex> at=2026-11-27T10:00:00.123Z mac=<64 hex>
//! ```
//!
//! It carries positions, hashes and a time only, never an event's content.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::audit::GENESIS_HASH;

/// What starts every checkpoint line (and what a reader looks for in a log).
pub const PREFIX: &str = "stepdown-audit-checkpoint v1";

/// How far the chain reached at a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The newest event's sequence number (0: the chain was empty).
    pub seq: i64,
    /// That event's hash.
    pub hash: [u8; 32],
    /// When the checkpoint was taken, Unix epoch milliseconds (UTC).
    pub at_ms: i64,
}

/// A checkpoint and its MAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    pub mac: [u8; 32],
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("not a checkpoint line")]
    NotACheckpoint,
    #[error("the checkpoint's {0} is missing or malformed")]
    Malformed(&'static str),
}

/// HMAC-SHA-256 (RFC 2104), checked against RFC 4231's test vectors below.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // Any key length is valid for HMAC; the error case cannot happen.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else { return [0; 32] };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

impl Checkpoint {
    /// The bytes the MAC covers: fixed-width fields after a versioned label, so no two
    /// checkpoints share them.
    fn message(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(PREFIX.len() + 1 + 8 + 32 + 8);
        m.extend_from_slice(PREFIX.as_bytes());
        m.push(0);
        m.extend_from_slice(&self.seq.to_be_bytes());
        m.extend_from_slice(&self.hash);
        m.extend_from_slice(&self.at_ms.to_be_bytes());
        m
    }

    pub fn sign(self, key: &[u8]) -> SignedCheckpoint {
        SignedCheckpoint { mac: hmac_sha256(key, &self.message()), checkpoint: self }
    }
}

impl SignedCheckpoint {
    /// Whether the MAC is right for `key` (compared in constant time).
    pub fn is_authentic(&self, key: &[u8]) -> bool {
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else { return false };
        mac.update(&self.checkpoint.message());
        // Constant-time comparison, by the crate.
        mac.verify_slice(&self.mac).is_ok()
    }

    /// The time as RFC 3339 in UTC, milliseconds kept.
    pub fn at_rfc3339(&self) -> String {
        let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.checkpoint.at_ms) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        at.format(&Rfc3339).unwrap_or_else(|_| self.checkpoint.at_ms.to_string())
    }

    pub fn to_line(&self) -> String {
        format!(
            "{PREFIX} seq={} hash={} at={} mac={}",
            self.checkpoint.seq,
            hex::encode(self.checkpoint.hash),
            self.at_rfc3339(),
            hex::encode(self.mac)
        )
    }

    /// Reads the checkpoint in `line`, which may carry other text around it (a log line).
    pub fn parse(line: &str) -> Result<Self, CheckpointError> {
        let start = line.find(PREFIX).ok_or(CheckpointError::NotACheckpoint)?;
        let rest = &line[start + PREFIX.len()..];
        let mut fields = rest.split_whitespace();
        let mut next = |name: &'static str| -> Result<&str, CheckpointError> {
            fields
                .next()
                .and_then(|f| f.strip_prefix(name))
                .and_then(|f| f.strip_prefix('='))
                .ok_or(CheckpointError::Malformed(name))
        };
        let seq = next("seq")?.parse::<i64>().map_err(|_| CheckpointError::Malformed("seq"))?;
        let hash = hex32(next("hash")?).ok_or(CheckpointError::Malformed("hash"))?;
        let at = OffsetDateTime::parse(next("at")?, &Rfc3339).map_err(|_| CheckpointError::Malformed("at"))?;
        // In a JSON log the line ends inside a string: take the MAC's 64 characters only.
        let mac = next("mac")?;
        let mac = hex32(mac.get(..64).unwrap_or(mac)).ok_or(CheckpointError::Malformed("mac"))?;
        let at_ms =
            i64::try_from(at.unix_timestamp_nanos() / 1_000_000).map_err(|_| CheckpointError::Malformed("at"))?;
        if seq < 0 {
            return Err(CheckpointError::Malformed("seq"));
        }
        Ok(SignedCheckpoint { checkpoint: Checkpoint { seq, hash, at_ms }, mac })
    }
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    hex::decode(s).ok()?.try_into().ok()
}

/// Every checkpoint in a text (a checkpoint file or a log), with its 1-based line number.
/// Lines without [`PREFIX`] are skipped; lines with it that do not parse are returned as errors.
pub fn scan(text: &str) -> Vec<(usize, Result<SignedCheckpoint, CheckpointError>)> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| line.contains(PREFIX))
        .map(|(i, line)| (i + 1, SignedCheckpoint::parse(line)))
        .collect()
}

/// What the chain says about a checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Witness {
    /// The chain still holds the checkpoint's event with the same hash.
    Holds,
    /// The chain now ends at `head_seq`, before the checkpoint's event: its tail was removed.
    Truncated { head_seq: i64 },
    /// The event at the checkpoint's position has another hash: the chain was rewritten.
    Rewritten,
}

/// Compares a checkpoint with the chain as it stands: its newest position, and the hash of the
/// event at the checkpoint's position if the chain has one there. The chain itself must have
/// verified first; this only answers whether it still reaches as far, unchanged.
pub fn witness(checkpoint: &Checkpoint, head_seq: i64, hash_at_seq: Option<[u8; 32]>) -> Witness {
    if checkpoint.seq == 0 {
        return if checkpoint.hash == GENESIS_HASH { Witness::Holds } else { Witness::Rewritten };
    }
    if checkpoint.seq > head_seq {
        return Witness::Truncated { head_seq };
    }
    match hash_at_seq {
        Some(h) if h == checkpoint.hash => Witness::Holds,
        Some(_) => Witness::Rewritten,
        None => Witness::Truncated { head_seq },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        let cases: [(Vec<u8>, &[u8], &str); 4] = [
            (vec![0x0b; 20], b"Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (
                b"Jefe".to_vec(),
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (vec![0xaa; 20], &[0xdd; 50], "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
            (
                vec![0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
        ];
        for (key, data, mac) in cases {
            assert_eq!(hmac_sha256(&key, data).to_vec(), unhex(mac));
        }
    }

    fn sample() -> Checkpoint {
        Checkpoint { seq: 42, hash: [7; 32], at_ms: 1_795_000_000_123 }
    }

    #[test]
    fn a_line_round_trips_and_only_its_key_authenticates_it() {
        let signed = sample().sign(b"a key of at least thirty-two bytes!!");
        let line = signed.to_line();
        assert!(line.starts_with("stepdown-audit-checkpoint v1 seq=42 hash=0707"), "{line}");
        assert!(line.contains(" at=2026-11-18T"), "{line}");
        let parsed = SignedCheckpoint::parse(&line).unwrap();
        assert_eq!(parsed, signed);
        assert!(parsed.is_authentic(b"a key of at least thirty-two bytes!!"));
        assert!(!parsed.is_authentic(b"another key of thirty-two bytes!!!!"));
        // Any edited field fails the MAC.
        for edited in [line.replace("seq=42", "seq=41"), line.replace("hash=07", "hash=08")] {
            let p = SignedCheckpoint::parse(&edited).unwrap();
            assert!(!p.is_authentic(b"a key of at least thirty-two bytes!!"), "{edited}");
        }
    }

    #[test]
    fn checkpoints_are_found_inside_log_lines() {
        let line = sample().sign(b"k").to_line();
        let text = format!(
            "starting\n{{\"level\":\"INFO\",\"message\":\"{line}\"}}\n2026-11-27 INFO {line}\n{PREFIX} seq=x\n"
        );
        let found = scan(&text);
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].0, 2);
        assert_eq!(found[0].1.as_ref().unwrap().checkpoint, sample());
        assert_eq!(found[1].1.as_ref().unwrap().checkpoint, sample());
        assert_eq!(found[2], (4, Err(CheckpointError::Malformed("seq"))));
    }

    #[test]
    fn a_chain_is_compared_with_a_checkpoint() {
        let cp = sample();
        assert_eq!(witness(&cp, 50, Some([7; 32])), Witness::Holds);
        assert_eq!(witness(&cp, 42, Some([7; 32])), Witness::Holds);
        assert_eq!(witness(&cp, 41, None), Witness::Truncated { head_seq: 41 });
        assert_eq!(witness(&cp, 50, Some([8; 32])), Witness::Rewritten);
        let empty = Checkpoint { seq: 0, hash: GENESIS_HASH, at_ms: 0 };
        assert_eq!(witness(&empty, 0, None), Witness::Holds);
    }
}
