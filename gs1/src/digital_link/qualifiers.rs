//! Which qualifiers may follow a primary key in a Digital Link path, and
//! in which order: the dictionary's `dlpkey=` sequences, e.g. `22,10,21|235`
//! for a GTIN.

use crate::dictionary::{same_ai, AiEntry};

/// The key's allowed qualifier sequences, every ordered selection of each
/// alternative (the empty one included), sorted as dl.c sorts its table of
/// `"key q1 q2"` strings.
pub(super) fn sequences(key: &AiEntry) -> Vec<Vec<&'static str>> {
    let mut out: Vec<Vec<&'static str>> = vec![Vec::new()];
    for alternative in key.dl_pkey.unwrap_or(&[]) {
        let n = alternative.len();
        for mask in 1u32..(1 << n) {
            out.push(
                (0..n)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| alternative[i])
                    .collect(),
            );
        }
    }
    out.sort_by_key(|s| s.join(" "));
    out.dedup();
    out
}

/// Whether `qualifiers` may follow the primary key in the path: in the
/// order of one of its allowed sequences (each qualifier at most once).
pub(super) fn fits(key: &AiEntry, qualifiers: &[&str]) -> bool {
    qualifiers.is_empty()
        || key.dl_pkey.unwrap_or(&[]).iter().any(|alt| {
            let mut from = 0;
            qualifiers
                .iter()
                .all(|q| match alt[from..].iter().position(|a| same_ai(a, q)) {
                    Some(n) => {
                        from += n + 1;
                        true
                    }
                    None => false,
                })
        })
}

/// Why `qualifiers`, which do not [`fit`](fits), may not follow the key: the
/// index of the qualifier at fault and the reason.
pub(super) fn explain(key: &AiEntry, qualifiers: &[&str]) -> (usize, String) {
    let alternatives = key.dl_pkey.unwrap_or(&[]);
    let key_ai = key.ai;
    if alternatives.is_empty() {
        return (
            0,
            format!(
                "({key_ai}) takes no qualifiers in the Digital Link path, but ({}) follows it",
                qualifiers[0]
            ),
        );
    }
    let allowed = alternatives
        .iter()
        .map(|alt| alt.join(", "))
        .collect::<Vec<_>>()
        .join(" or ");
    for (i, q) in qualifiers.iter().enumerate() {
        if qualifiers[..i].contains(q) {
            return (
                i,
                format!("qualifier ({q}) appears twice in the Digital Link path"),
            );
        }
        if !alternatives.iter().any(|alt| alt.contains(q)) {
            return (
                i,
                format!(
                    "({q}) is not a qualifier of ({key_ai}) in the Digital Link path; the path may carry {allowed}, in that order"
                ),
            );
        }
    }
    // Every qualifier is allowed: either they are in the wrong order within
    // one sequence, or they come from different sequences.
    if let Some(alt) = alternatives
        .iter()
        .find(|alt| qualifiers.iter().all(|q| alt.contains(q)))
    {
        let rank = |q: &str| alt.iter().position(|a| *a == q).unwrap_or(0);
        for i in 1..qualifiers.len() {
            if rank(qualifiers[i]) < rank(qualifiers[i - 1]) {
                return (
                    i - 1,
                    format!(
                        "qualifier ({}) comes before ({}); the order must be {}",
                        qualifiers[i - 1],
                        qualifiers[i],
                        alt.join(", ")
                    ),
                );
            }
        }
    }
    let last = qualifiers.len() - 1;
    (
        last,
        format!(
            "qualifiers {} cannot be used together with ({key_ai}); the path may carry {allowed}, in that order",
            qualifiers
                .iter()
                .map(|q| format!("({q})"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dictionary;

    // dl.c, test_dl_testValidateDLpathAIseq, plus sequences it rejects.
    #[test]
    fn dl_c_key_qualifier_sequences() {
        let valid: &[&[&str]] = &[
            &["00"],
            &["01"],
            &["01", "21"],
            &["01", "10"],
            &["01", "10", "21"],
            &["01", "22"],
            &["01", "22", "21"],
            &["01", "22", "10"],
            &["01", "22", "10", "21"],
            &["01", "235"],
            &["253"],
            &["255"],
            &["401"],
            &["402"],
            &["414"],
            &["414", "254"],
            &["414", "7040"],
            &["417"],
            &["417", "7040"],
            &["8003"],
            &["8004"],
            &["8004", "7040"],
            &["8006"],
            &["8006", "22", "10", "21"],
            &["8006", "10"],
            &["8010"],
            &["8010", "8011"],
            &["8013"],
            &["8017"],
            &["8017", "8019"],
            &["8018"],
            &["8018", "8019"],
        ];
        for seq in valid {
            let key = dictionary::lookup(seq[0].as_bytes()).unwrap();
            assert!(key.dl_pkey.is_some(), "{seq:?}");
            assert!(fits(key, &seq[1..]), "{seq:?}");
        }
        let invalid: &[&[&str]] = &[
            &["01", "21", "10"],
            &["01", "10", "22"],
            &["01", "10", "10"],
            &["01", "22", "235"],
            &["414", "254", "7040"],
            &["00", "10"],
        ];
        for seq in invalid {
            let key = dictionary::lookup(seq[0].as_bytes()).unwrap();
            assert!(!fits(key, &seq[1..]), "{seq:?}");
        }
    }
}
