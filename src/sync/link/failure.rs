//! What went wrong with one request to head office, sorted by what the
//! link does about it: retry after a backoff, halve the batch, rewind to
//! the seq head office expects, wait for a fixed credential, or halt until
//! an operator acts.

use std::time::Duration;

use crate::sync::protocol::Problem;

/// What went wrong with one request, and what to do about it.
#[derive(Debug, thiserror::Error)]
pub(super) enum Failure {
    /// Network error, 5xx, 429: retry after a backoff.
    #[error("{message}")]
    Retry {
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("head office says the batch is too large")]
    TooLarge,
    #[error("head office expects seq {expected} next")]
    Rewind { expected: u64 },
    #[error("{0}")]
    Credential(String),
    /// Stop until an operator acts.
    #[error("{0}")]
    Halt(String),
    #[error("the local store failed: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// Head office could not be reached at all: retry.
pub(super) fn unreachable(cause: impl std::fmt::Display) -> Failure {
    Failure::Retry {
        message: format!("cannot reach head office: {cause}"),
        retry_after: None,
    }
}

/// Sorts head office's error answer: its HTTP `code`, its `Retry-After`
/// header if any, and its body (a `Problem`, or text of which the first
/// 200 characters are kept).
pub(super) fn classify(code: u16, retry_after: Option<&str>, body: &str) -> Failure {
    let retry_after = retry_after
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let problem: Option<Problem> = serde_json::from_str(body).ok();
    let message = problem
        .as_ref()
        .map(|p| p.error.clone())
        .unwrap_or_else(|| body.chars().take(200).collect());
    match code {
        401 | 403 => Failure::Credential(format!("HTTP {code}: {message}")),
        409 => match problem.and_then(|p| p.expected_seq) {
            Some(expected) => Failure::Rewind { expected },
            None => Failure::Halt(format!("HTTP 409 without an expected seq: {message}")),
        },
        413 => Failure::TooLarge,
        408 | 429 | 500..=599 => Failure::Retry {
            message: format!("head office answered HTTP {code}: {message}"),
            retry_after,
        },
        // A held seq with other content is also what a store started
        // empty (or from an old backup) on a replacement PC sends: say
        // what cures that.
        422 if problem.as_ref().is_some_and(|p| p.code == "conflict") => Failure::Halt(format!(
            "head office refused this site's history (HTTP 422): {message}; if this store was started empty, or from a backup older than head office's copy, on a PC that replaced a dead one: stop the daemon, move the data directory aside and run `scantrail restore --from-hq` (README, \"Replacing a dead site PC\")"
        )),
        422 => Failure::Halt(format!(
            "head office refused this site's history (HTTP 422): {message}"
        )),
        _ => Failure::Halt(format!("head office answered HTTP {code}: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(error: &str, expected_seq: Option<u64>) -> String {
        serde_json::to_string(&Problem {
            error: error.into(),
            code: "x".into(),
            expected_seq,
            seq: None,
        })
        .unwrap()
    }

    #[test]
    fn a_conflict_names_the_restore_that_cures_a_replacement_pc() {
        let conflict = serde_json::to_string(&Problem {
            error: "seq 1 is held already with different content".into(),
            code: "conflict".into(),
            expected_seq: None,
            seq: Some(1),
        })
        .unwrap();
        match classify(422, None, &conflict) {
            Failure::Halt(m) => assert!(m.contains("scantrail restore --from-hq"), "{m}"),
            other => panic!("{other:?}"),
        }
        match classify(422, None, &problem("broken link", None)) {
            Failure::Halt(m) => assert!(!m.contains("restore"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_refused_credential_waits_for_an_operator_to_fix_it() {
        for code in [401, 403] {
            match classify(code, None, &problem("unknown token", None)) {
                Failure::Credential(m) => assert_eq!(m, format!("HTTP {code}: unknown token")),
                other => panic!("{code}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_gap_rewinds_to_the_expected_seq_and_a_bare_conflict_halts() {
        assert!(matches!(
            classify(409, None, &problem("gap", Some(41))),
            Failure::Rewind { expected: 41 }
        ));
        match classify(409, None, "conflict") {
            Failure::Halt(m) => assert!(m.contains("without an expected seq"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn overload_and_server_errors_retry_after_what_head_office_asks() {
        for code in [408, 429, 500, 503, 599] {
            match classify(code, Some(" 7 "), "busy") {
                Failure::Retry {
                    message,
                    retry_after,
                } => {
                    assert_eq!(retry_after, Some(Duration::from_secs(7)), "{code}");
                    assert!(message.contains(&format!("HTTP {code}: busy")), "{message}");
                }
                other => panic!("{code}: {other:?}"),
            }
        }
        // A Retry-After that is not whole seconds is ignored, not obeyed.
        assert!(matches!(
            classify(429, Some("Wed, 21 Oct 2026 07:28:00 GMT"), ""),
            Failure::Retry {
                retry_after: None,
                ..
            }
        ));
    }

    #[test]
    fn too_large_halves_and_a_refused_history_or_other_answer_halts() {
        assert!(matches!(classify(413, None, ""), Failure::TooLarge));
        match classify(422, None, &problem("bad hash at seq 3", None)) {
            Failure::Halt(m) => assert!(m.contains("HTTP 422): bad hash at seq 3"), "{m}"),
            other => panic!("{other:?}"),
        }
        match classify(404, None, &"x".repeat(500)) {
            Failure::Halt(m) => assert_eq!(m.len(), "head office answered HTTP 404: ".len() + 200),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_unreachable_head_office_is_retried() {
        assert!(matches!(
            unreachable("connection refused"),
            Failure::Retry {
                retry_after: None,
                ..
            }
        ));
    }
}
