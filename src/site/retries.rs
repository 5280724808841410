//! Handheld retries: a handheld that got no answer (Wi-Fi dropped, the
//! daemon restarted) sends the same scan again with the same `scan_id`,
//! and must get the first answer without a second movement being
//! recorded. Like Stripe's idempotency keys, an id is scoped to the device
//! that sent it (two handhelds numbering their scans alike never swallow
//! each other's), and an id reused for a different scan is refused
//! (`scan_id_reused`) rather than answered with the first scan's answer:
//! that second scan would otherwise be lost while the operator heard
//! "accepted".
//!
//! Answers are remembered here for the retries of a running daemon; each
//! answered movement or rejected scan also has a receipt in the store
//! (`store::scan_receipts`, written in the same durable batch), which the
//! desk reads for an id this memory does not know, so a retry after a
//! restart gets the first answer too.

use std::collections::{HashMap, VecDeque};

use sha2::{Digest, Sha256};

use tokio::sync::oneshot;

use super::answer::Answer;
use crate::model::RefusalCode;

/// How many answers are remembered in memory; older ones are read back
/// from the store's receipts, which give the same answer. A handheld
/// retries within seconds, so a few thousand cover nearly every retry; an
/// answer holds its whole movement (about 2 KB here), and 100,000 of them
/// were a third of the daemon's memory (BENCHMARKS.md, "The soak").
const REMEMBERED: usize = 4_096;

/// A scan id as the device that sent it owns it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScanKey {
    pub(super) device: String,
    pub(super) scan_id: String,
}

/// What makes two sends "the same scan": station, data and operator, as
/// a SHA-256 (stable across restarts and versions: it is stored in the
/// scan's receipt). Each field is length-prefixed so no two differ only
/// in where one ends.
pub fn fingerprint(station: &str, raw: &[u8], operator: Option<&str>) -> [u8; 32] {
    let mut h = Sha256::new();
    for field in [station.as_bytes(), raw] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field);
    }
    match operator {
        None => h.update([0]),
        Some(o) => {
            h.update([1]);
            h.update((o.len() as u64).to_be_bytes());
            h.update(o.as_bytes());
        }
    }
    h.finalize().into()
}

#[derive(Default)]
pub(super) struct Retries {
    answered: HashMap<ScanKey, ([u8; 32], Answer)>,
    order: VecDeque<ScanKey>,
    /// Scans being decided or committed, with the retries waiting for them.
    waiting: HashMap<ScanKey, ([u8; 32], Vec<oneshot::Sender<Answer>>)>,
}

impl Retries {
    /// A scan with an id arrives. `Some(reply)`: it is new, decide it and
    /// `settle` it later. `None`: it was answered here (a retry, or an id
    /// reused for another scan).
    pub fn arrive(
        &mut self,
        key: &ScanKey,
        body: [u8; 32],
        reply: oneshot::Sender<Answer>,
    ) -> Option<oneshot::Sender<Answer>> {
        if let Some((first, answer)) = self.answered.get(key) {
            let _ = reply.send(if *first == body {
                answer.clone()
            } else {
                reused(key)
            });
            return None;
        }
        if let Some((first, waiters)) = self.waiting.get_mut(key) {
            if *first == body {
                waiters.push(reply);
            } else {
                let _ = reply.send(reused(key));
            }
            return None;
        }
        self.waiting.insert(key.clone(), (body, Vec::new()));
        Some(reply)
    }

    /// The scan's answer, for the retries waiting for it; remembered for
    /// later retries unless `remember` is false (an answer worth retrying,
    /// such as a store failure).
    pub fn settle(&mut self, key: &ScanKey, answer: &Answer, remember: bool) {
        let Some((body, waiters)) = self.waiting.remove(key) else {
            return;
        };
        for w in waiters {
            let _ = w.send(answer.clone());
        }
        if !remember {
            return;
        }
        if self.order.len() >= REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.answered.remove(&old);
            }
        }
        self.order.push_back(key.clone());
        self.answered.insert(key.clone(), (body, answer.clone()));
    }
}

/// The answer to a scan id reused for another scan.
pub fn reused(key: &ScanKey) -> Answer {
    Answer::refused(
        REUSED,
        format!(
            "scan_id {:?} was already used by {} for a different scan: give every scan its own scan_id; this scan was not recorded",
            key.scan_id, key.device
        ),
    )
}

/// The answer's code for an id reused with another body (HTTP 409).
pub const REUSED: RefusalCode = RefusalCode::ScanIdReused;

#[cfg(test)]
mod tests {
    use super::*;

    fn key(device: &str, id: &str) -> ScanKey {
        ScanKey {
            device: device.into(),
            scan_id: id.into(),
        }
    }

    fn accepted() -> Answer {
        Answer::context("ok".into())
    }

    #[test]
    fn a_retry_gets_the_first_answer_and_another_scan_under_the_id_is_refused() {
        let mut r = Retries::default();
        let (tx, _rx) = oneshot::channel();
        let a = fingerprint("dock-1", b"S1", None);
        assert!(r.arrive(&key("hh-1", "1"), a, tx).is_some());
        // A retry while the first is still being committed waits for it.
        let (tx, mut waiting) = oneshot::channel();
        assert!(r.arrive(&key("hh-1", "1"), a, tx).is_none());
        // Another scan under the same id is refused at once.
        let (tx, mut other) = oneshot::channel();
        let b = fingerprint("dock-1", b"S2", None);
        assert!(r.arrive(&key("hh-1", "1"), b, tx).is_none());
        assert_eq!(other.try_recv().unwrap().code, Some(REUSED));
        r.settle(&key("hh-1", "1"), &accepted(), true);
        assert_eq!(waiting.try_recv().unwrap(), accepted());
        let (tx, mut later) = oneshot::channel();
        assert!(r.arrive(&key("hh-1", "1"), a, tx).is_none());
        assert_eq!(later.try_recv().unwrap(), accepted());
        let (tx, mut later) = oneshot::channel();
        assert!(r.arrive(&key("hh-1", "1"), b, tx).is_none());
        assert_eq!(later.try_recv().unwrap().code, Some(REUSED));
        // The same id from another handheld is another scan.
        let (tx, _rx) = oneshot::channel();
        assert!(r.arrive(&key("hh-2", "1"), b, tx).is_some());
    }

    #[test]
    fn an_answer_not_remembered_lets_the_retry_be_decided_again() {
        let mut r = Retries::default();
        let a = fingerprint("dock-1", b"S1", Some("ann"));
        let (tx, _rx) = oneshot::channel();
        assert!(r.arrive(&key("hh-1", "7"), a, tx).is_some());
        r.settle(&key("hh-1", "7"), &accepted(), false);
        let (tx, _rx) = oneshot::channel();
        assert!(r.arrive(&key("hh-1", "7"), a, tx).is_some());
    }
}
