//! Property tests of the audit chain: any single tampering with any stored chain is found, and
//! batching never changes the chain.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use domain::access::Purpose;
use domain::audit::{AuditAction, AuditEvent, ChainBreak, ChainVerifier, ChainedEvent, GENESIS_HASH, Outcome, link};
use domain::ids::{AuditEventId, ClientId, UserId};
use domain::role::Role;
use proptest::prelude::*;
use uuid::Uuid;

fn event_strategy() -> impl Strategy<Value = AuditEvent> {
    (
        any::<u128>(),
        0i64..4_000_000_000_000,
        proptest::option::of(any::<u128>()),
        0usize..AuditAction::ALL.len(),
        proptest::option::of(any::<u128>()),
        proptest::option::of("[a-z:0-9-]{0,20}"),
        proptest::option::of("[ -~]{0,30}"),
    )
        .prop_map(|(id, at, actor, action, client, subject, detail)| AuditEvent {
            id: AuditEventId::from_uuid(Uuid::from_u128(id)),
            occurred_at_ms: at,
            actor: actor.map(|a| UserId::from_uuid(Uuid::from_u128(a))),
            actor_role: actor.map(|_| Role::Counselor),
            action: AuditAction::ALL[action],
            outcome: Outcome::Success,
            client: client.map(|c| ClientId::from_uuid(Uuid::from_u128(c))),
            subject,
            purpose: Some(Purpose::Treatment),
            source: None,
            detail,
        })
}

fn verify(rows: &[ChainedEvent], head: (i64, [u8; 32])) -> Result<u64, ChainBreak> {
    let mut v = ChainVerifier::default();
    for r in rows {
        v.check(r)?;
    }
    v.finish(head.0, &head.1)
}

#[derive(Debug, Clone)]
enum Tamper {
    EditDetail(usize, String),
    EditTime(usize, i64),
    Delete(usize),
    Swap(usize, usize),
    DropTail,
}

fn tamper_strategy() -> impl Strategy<Value = Tamper> {
    prop_oneof![
        (any::<usize>(), "[a-z]{1,8}").prop_map(|(i, s)| Tamper::EditDetail(i, s)),
        (any::<usize>(), 1i64..1000).prop_map(|(i, d)| Tamper::EditTime(i, d)),
        any::<usize>().prop_map(Tamper::Delete),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Tamper::Swap(a, b)),
        Just(Tamper::DropTail),
    ]
}

proptest! {
    #[test]
    fn any_single_tampering_is_detected(events in proptest::collection::vec(event_strategy(), 2..30), t in tamper_strategy()) {
        let mut rows = link(0, GENESIS_HASH, events);
        let head = rows.last().map(|r| (r.seq, r.hash)).unwrap_or((0, GENESIS_HASH));
        prop_assert!(verify(&rows, head).is_ok());
        let n = rows.len();
        match t {
            Tamper::EditDetail(i, s) => {
                let r = &mut rows[i % n];
                if r.event.detail.as_deref() == Some(s.as_str()) { return Ok(()); }
                r.event.detail = Some(s);
            }
            Tamper::EditTime(i, d) => rows[i % n].event.occurred_at_ms += d,
            Tamper::Delete(i) => { rows.remove(i % n); }
            Tamper::Swap(a, b) => {
                let (a, b) = (a % n, b % n);
                if a == b { return Ok(()); }
                // Content moved, sequence numbers left in order: what a reordering UPDATE would do.
                let (ea, eb) = (rows[a].clone(), rows[b].clone());
                rows[a] = ChainedEvent { seq: ea.seq, ..eb };
                rows[b] = ChainedEvent { seq: eb.seq, ..ea };
            }
            Tamper::DropTail => { rows.pop(); }
        }
        prop_assert!(verify(&rows, head).is_err());
    }

    #[test]
    fn batching_does_not_change_the_chain(events in proptest::collection::vec(event_strategy(), 1..30), cut in any::<usize>()) {
        let all = link(0, GENESIS_HASH, events.clone());
        let k = cut % events.len();
        let first = link(0, GENESIS_HASH, events[..k].to_vec());
        let (seq, hash) = first.last().map(|r| (r.seq, r.hash)).unwrap_or((0, GENESIS_HASH));
        let second = link(seq, hash, events[k..].to_vec());
        prop_assert_eq!(all, [first, second].concat());
    }
}
