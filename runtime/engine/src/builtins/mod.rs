//! The builtin library: one plain Rust function per builtin that does real
//! work, over Rust types. The interpreter adapts Pol values to these
//! signatures and wires each [`pol_ir::Builtin`] id to its function; the
//! mapping is the table at the end of `docs/stdlib.md`.
//!
//! Conventions shared by every module:
//!
//! * **No panics, on any input**: non-ASCII, empty, huge, or (for
//!   [`text::redact`]) spans that are out of range or not on character
//!   boundaries. The property test in this module runs every scanner over
//!   pseudo-random text.
//! * **Findings are byte spans** into the scanned text, on `char`
//!   boundaries, with `start < end`; scanners return them sorted by `start`
//!   (then `end`). Pol's `Finding.text` is `&text[start..end]`
//!   ([`Finding::text`]).
//! * **Counts are `usize`**; Pol ints are `i64`: convert with [`to_int`].
//! * Constant arguments (phrase sets, regexes, globs, host lists) have a
//!   compiled form built once ([`phrase::PhraseSet`], [`pattern::PatternSet`],
//!   [`glob::GlobPatterns`], [`url::HostList`]); the plain functions compile
//!   on every call and are meant for dynamic arguments.

pub mod collections;
pub mod glob;
pub mod numbers;
pub mod pattern;
pub mod phrase;
pub mod pii;
pub mod scan;
pub mod secrets;
pub mod text;
pub mod time;
pub mod url;

/// A detector's match: a byte span of the scanned text and what was found.
///
/// Pol's `Finding` record is `{ kind, start, end, text }`; its `text` is
/// [`Finding::text`] of the scanned string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Finding {
    /// What was found: `email`, `jwt`, `match`, ...
    pub kind: &'static str,
    /// Byte offset of the first byte (on a `char` boundary).
    pub start: usize,
    /// Byte offset one past the last byte (on a `char` boundary).
    pub end: usize,
}

impl Finding {
    /// A finding of `kind` over `start..end`.
    pub const fn new(kind: &'static str, start: usize, end: usize) -> Finding {
        Finding { kind, start, end }
    }

    /// The matched text: `&text[start..end]`, or `""` when the span does
    /// not fit `text` (a finding from another string).
    pub fn text<'t>(&self, text: &'t str) -> &'t str {
        text.get(self.start..self.end).unwrap_or("")
    }

    /// The finding as [`text::redact`] takes it: `(kind, start, end)` with
    /// Pol's `int` offsets.
    pub fn as_span(&self) -> (&'static str, i64, i64) {
        (self.kind, to_int(self.start), to_int(self.end))
    }
}

/// A count or offset as a Pol `int` (saturating; a string never gets near
/// `i64::MAX` bytes).
pub fn to_int(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Sorts findings by `start`, then `end`, then `kind`: the order every
/// scanner returns.
pub(crate) fn sort_findings(findings: &mut [Finding]) {
    findings.sort_unstable_by(|a, b| (a.start, a.end, a.kind).cmp(&(b.start, b.end, b.kind)));
}

/// The rank of `kind` in a precedence list (earlier wins), for
/// [`resolve_overlaps`]; kinds not listed come last.
pub(crate) fn rank_in(precedence: &[&str], kind: &str) -> usize {
    precedence
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(precedence.len())
}

/// Resolves overlaps between findings of different kinds: `rank(kind)`
/// gives the precedence (lower wins). Every finding is kept unless it
/// overlaps a finding of higher precedence (lower rank) that was kept; among
/// equal ranks, the earlier and then the longer finding wins. The result is
/// sorted.
pub(crate) fn resolve_overlaps(
    mut findings: Vec<Finding>,
    rank: impl Fn(&str) -> usize,
) -> Vec<Finding> {
    findings.sort_unstable_by(|a, b| {
        (rank(a.kind), a.start, std::cmp::Reverse(a.end)).cmp(&(
            rank(b.kind),
            b.start,
            std::cmp::Reverse(b.end),
        ))
    });
    let mut kept: Vec<Finding> = Vec::with_capacity(findings.len());
    // Kept spans by start; they never overlap each other.
    let mut spans: std::collections::BTreeMap<usize, usize> = std::collections::BTreeMap::new();
    for f in findings {
        // Kept spans are disjoint, so among those starting before `f.end`
        // the last one also ends last: it is the only one to test.
        let overlaps = spans
            .range(..f.end)
            .next_back()
            .is_some_and(|(_, &end)| end > f.start);
        if !overlaps {
            spans.insert(f.start, f.end);
            kept.push(f);
        }
    }
    sort_findings(&mut kept);
    kept
}

/// Whether findings are in the order [`sort_findings`] gives.
#[cfg(test)]
pub(crate) fn is_sorted(f: &[Finding]) -> bool {
    f.windows(2)
        .all(|w| (w[0].start, w[0].end, w[0].kind) <= (w[1].start, w[1].end, w[1].kind))
}

#[cfg(test)]
mod property_tests;

#[cfg(test)]
mod docs_tests {
    /// `docs/stdlib.md` maps every builtin of the pol-ir table to its Rust
    /// function, so the interpreter can be wired from it.
    #[test]
    fn stdlib_doc_maps_every_builtin() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/stdlib.md");
        let doc = std::fs::read_to_string(path).expect("docs/stdlib.md exists");
        for sig in pol_ir::builtins::BUILTINS {
            let row = format!("| `{:?}` |", sig.id);
            assert!(
                doc.contains(&row),
                "docs/stdlib.md: no mapping row for {:?}",
                sig.id
            );
            assert!(
                doc.contains(&format!("{}(", sig.name)),
                "docs/stdlib.md: `{}` is not described",
                sig.name
            );
        }
    }
}
