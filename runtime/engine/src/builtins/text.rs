//! String methods and `std.text`.
//!
//! The trivial methods are one std call each; they live here anyway so that
//! every builtin maps to exactly one function.

use super::Finding;

/// `s.len()`: length in bytes (UTF-8). Trivial: `str::len`.
pub fn len(s: &str) -> usize {
    s.len()
}

/// `s.char_count()`: length in Unicode scalar values.
pub fn char_count(s: &str) -> usize {
    s.chars().count()
}

/// `s.lower()`: Unicode lowercase (`str::to_lowercase`, so a final capital
/// sigma becomes `ς`).
pub fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// `s.upper()`: Unicode uppercase (`str::to_uppercase`; `ß` becomes `SS`).
pub fn upper(s: &str) -> String {
    s.to_uppercase()
}

/// `s.trim()`: without leading and trailing Unicode whitespace
/// (`char::is_whitespace`). Zero-width characters are not whitespace.
pub fn trim(s: &str) -> &str {
    s.trim()
}

/// `s.contains(needle)`: case-sensitive substring test; the empty needle
/// occurs in every string.
pub fn contains(s: &str, needle: &str) -> bool {
    s.contains(needle)
}

/// `s.starts_with(prefix)`; every string starts with `""`.
pub fn starts_with(s: &str, prefix: &str) -> bool {
    s.starts_with(prefix)
}

/// `s.ends_with(suffix)`; every string ends with `""`.
pub fn ends_with(s: &str, suffix: &str) -> bool {
    s.ends_with(suffix)
}

/// `s.word_count()`: the number of maximal runs of non-whitespace
/// characters (`str::split_whitespace`).
pub fn word_count(s: &str) -> usize {
    s.split_whitespace().count()
}

/// `s.token_count()`: an approximate LLM token count,
/// `max(word_count, ceil(len_in_bytes / 4))`. About four bytes a token for
/// English prose, and never fewer tokens than words. `0` for the empty
/// string.
pub fn token_count(s: &str) -> usize {
    word_count(s).max(s.len().div_ceil(4))
}

/// `s.split(separator)`: the parts between occurrences of `separator`, left
/// to right, non-overlapping. Always at least one part for a non-empty
/// separator (`"".split(",")` is `[""]`, `"a,".split(",")` is `["a", ""]`).
/// An empty separator splits into single characters (`"ab"` gives
/// `["a", "b"]`, `""` gives `[]`). In every case
/// `text.join(s.split(sep), sep) == s`.
pub fn split<'a>(s: &'a str, separator: &str) -> Vec<&'a str> {
    if separator.is_empty() {
        s.char_indices()
            .map(|(i, c)| &s[i..i + c.len_utf8()])
            .collect()
    } else {
        s.split(separator).collect()
    }
}

/// The longest string [`replace`] and [`join`] build: 16 MiB. Their
/// results grow with the product of two inputs (`big.replace(" ", big)`),
/// so a longer result is refused (`None`, an evaluation error) instead of
/// exhausting memory.
pub const MAX_RESULT_BYTES: usize = 16 << 20;

/// `s.replace(from, to)`: every non-overlapping occurrence of `from`, left
/// to right, replaced by `to`. An empty `from` leaves the string unchanged
/// (rather than inserting `to` between every character). `None` when the
/// result would be longer than [`MAX_RESULT_BYTES`] (and than `s`).
pub fn replace(s: &str, from: &str, to: &str) -> Option<String> {
    if from.is_empty() {
        return Some(s.to_string());
    }
    if to.len() > from.len() {
        let n = s.matches(from).count();
        let len = (s.len() - n * from.len()).checked_add(n.checked_mul(to.len())?)?;
        if len > MAX_RESULT_BYTES.max(s.len()) {
            return None;
        }
    }
    Some(s.replace(from, to))
}

/// Whether `c` is removed by [`normalize`] and ignored by phrase matching:
/// zero-width space, non-joiner and joiner (U+200B..U+200D), word joiner
/// (U+2060), zero-width no-break space / byte order mark (U+FEFF) and soft
/// hyphen (U+00AD).
pub fn is_zero_width(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    )
}

/// `text.normalize(s)`: zero-width characters ([`is_zero_width`]) removed,
/// every run of whitespace (`char::is_whitespace`, which includes newlines,
/// tabs and U+00A0) replaced by one space, leading and trailing whitespace
/// removed, then lowercased (`str::to_lowercase`). Zero-width characters
/// are removed first, so `"a \u{200B} b"` becomes `"a b"`.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if is_zero_width(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out.to_lowercase()
}

/// `text.entropy(s)`: the Shannon entropy of the string's bytes in bits per
/// byte, `-sum(p * log2 p)` over the byte frequencies `p`. Between 0.0 (one
/// distinct byte, or the empty string) and 8.0.
pub fn entropy(s: &str) -> f64 {
    bytes_entropy(s.as_bytes())
}

/// Shannon entropy of `bytes`, in bits per byte (0.0 when empty).
pub(crate) fn bytes_entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0usize; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let n = bytes.len() as f64;
    let h: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum();
    // A single distinct byte gives -0.0; report it as 0.0.
    h.max(0.0)
}

/// `text.join(parts, separator)`: the parts, in iteration order (a list's
/// order; for a set, the interpreter's set order, which is first-insertion
/// order), with `separator` between consecutive parts. No parts give `""`.
/// `None` when the result would be longer than [`MAX_RESULT_BYTES`].
pub fn join<S: AsRef<str>>(parts: impl IntoIterator<Item = S>, separator: &str) -> Option<String> {
    let mut out = String::new();
    for (i, p) in parts.into_iter().enumerate() {
        let p = p.as_ref();
        let sep = if i > 0 { separator } else { "" };
        if out.len().saturating_add(sep.len()).saturating_add(p.len()) > MAX_RESULT_BYTES {
            return None;
        }
        out.push_str(sep);
        out.push_str(p);
    }
    Some(out)
}

/// `text.redact(s, findings)`: the text with each finding's span replaced
/// by `[REDACTED:<kind>]`. Findings are `(kind, start, end)` with Pol's int
/// offsets (see [`Finding::as_span`]) and may come from anywhere (another
/// string, a record literal), so the spans are made safe first:
///
/// * offsets are clamped to `0..=len`; a span that is then empty or
///   inverted (`start >= end`) is ignored;
/// * a start inside a UTF-8 character moves back to the character's start,
///   an end inside one moves forward to its end (never less is redacted);
/// * the findings are taken in order of start (then longest first), and a
///   span overlapping an earlier one is merged into it; the merged span
///   keeps the kind of the finding that starts first (the longest of those
///   starting there; ties keep the earliest in the list). Spans that merely
///   touch (`end == next start`) are redacted separately.
pub fn redact<'k>(s: &str, findings: impl IntoIterator<Item = (&'k str, i64, i64)>) -> String {
    let len = s.len();
    let clamp = |x: i64| -> usize {
        if x <= 0 {
            0
        } else {
            usize::try_from(x).map_or(len, |x| x.min(len))
        }
    };
    let mut spans: Vec<(usize, usize, &str)> = findings
        .into_iter()
        .filter_map(|(kind, start, end)| {
            let mut start = clamp(start);
            let mut end = clamp(end);
            while !s.is_char_boundary(start) {
                start -= 1;
            }
            while !s.is_char_boundary(end) {
                end += 1;
            }
            (start < end).then_some((start, end, kind))
        })
        .collect();
    // Stable: ties keep their input order.
    spans.sort_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)));

    let mut merged: Vec<(usize, usize, &str)> = Vec::with_capacity(spans.len());
    for (start, end, kind) in spans {
        match merged.last_mut() {
            Some(last) if start < last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end, kind)),
        }
    }

    let mut out = String::with_capacity(len);
    let mut at = 0;
    for (start, end, kind) in merged {
        out.push_str(&s[at..start]);
        out.push_str("[REDACTED:");
        out.push_str(kind);
        out.push(']');
        at = end;
    }
    out.push_str(&s[at..]);
    out
}

/// [`redact`] for findings of this library's detectors.
pub fn redact_findings(s: &str, findings: &[Finding]) -> String {
    redact(s, findings.iter().map(Finding::as_span))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trivial_methods() {
        assert_eq!(len("héllo"), 6);
        assert_eq!(char_count("héllo"), 5);
        assert_eq!(char_count(""), 0);
        assert_eq!(lower("ÀB Σ"), "àb σ");
        assert_eq!(lower("ΟΔΟΣ"), "οδος");
        assert_eq!(upper("straße"), "STRASSE");
        assert_eq!(trim("\u{a0} a b\n\t"), "a b");
        assert_eq!(trim("\u{200B}a"), "\u{200B}a");
        assert!(contains("Ignore previous", "previous"));
        assert!(!contains("Ignore previous", "PREVIOUS"));
        assert!(contains("abc", ""));
        assert!(starts_with("trial-acme", "trial-"));
        assert!(!starts_with("acme", "trial-"));
        assert!(ends_with("report.pdf", ".pdf"));
        assert!(!ends_with("report.pdf.exe", ".pdf"));
        assert!(starts_with("", "") && ends_with("x", ""));
    }

    #[test]
    fn words_and_tokens() {
        assert_eq!(word_count(""), 0);
        assert_eq!(word_count("   "), 0);
        assert_eq!(word_count(" one\ttwo\nthree  "), 3);
        assert_eq!(word_count("日本語 テキスト"), 2);
        assert_eq!(token_count(""), 0);
        assert_eq!(token_count("a b c d e"), 5); // 9 bytes -> 3, 5 words
        assert_eq!(token_count("abcdefghij"), 3); // ceil(10/4)
        assert_eq!(token_count("abcd"), 1);
        assert_eq!(token_count("日本"), 2); // 6 bytes
    }

    #[test]
    fn split_and_join() {
        assert_eq!(split("a,b,,c", ","), ["a", "b", "", "c"]);
        assert_eq!(split("", ","), [""]);
        assert_eq!(split("a,", ","), ["a", ""]);
        assert_eq!(split("a--b--c", "--"), ["a", "b", "c"]);
        assert_eq!(split("né", ""), ["n", "é"]);
        assert!(split("", "").is_empty());
        for (s, sep) in [
            ("a,b,,c", ","),
            ("", ","),
            ("né", ""),
            ("xyx", "y"),
            ("", ""),
        ] {
            assert_eq!(join(split(s, sep), sep).as_deref(), Some(s));
        }
        assert_eq!(join(["a", "b", "c"], ", ").as_deref(), Some("a, b, c"));
        assert_eq!(join(Vec::<String>::new(), ",").as_deref(), Some(""));
        assert_eq!(join(vec!["only".to_string()], ",").as_deref(), Some("only"));
        let big = "x".repeat(1 << 20);
        assert_eq!(
            join([big.as_str(); 16], "").map(|s| s.len()),
            Some(16 << 20)
        );
        assert_eq!(join([big.as_str(); 16], ","), None);
        assert_eq!(join([big.as_str(); 17], ""), None);
    }

    #[test]
    fn replace_cases() {
        let r = |s: &str, from: &str, to: &str| replace(s, from, to).expect("small");
        assert_eq!(r("a.b.c", ".", "/"), "a/b/c");
        assert_eq!(r("aaa", "aa", "b"), "ba");
        assert_eq!(r("abc", "", "X"), "abc");
        assert_eq!(r("héllo", "é", "e"), "hello");
        assert_eq!(r("abc", "z", "y"), "abc");
        assert_eq!(r("a b c", " ", "  "), "a  b  c");
        // A result beyond the limit is refused, not allocated.
        let big = " ".repeat(256 * 1024);
        assert_eq!(replace(&big, " ", &big), None);
        assert_eq!(replace(&big, " ", "ab").map(|s| s.len()), Some(512 * 1024));
        // Shrinking is always fine.
        assert!(replace(&big, " ", "").is_some_and(|s| s.is_empty()));
    }

    #[test]
    fn normalize_cases() {
        assert_eq!(
            normalize("  Ignore\u{200B}   PREVIOUS\n\tInstructions "),
            "ignore previous instructions"
        );
        assert_eq!(
            normalize("in\u{00AD}struc\u{2060}tions\u{FEFF}"),
            "instructions"
        );
        assert_eq!(normalize("a \u{200B} b"), "a b");
        assert_eq!(normalize("a\u{200C}\u{200D}b"), "ab");
        assert_eq!(normalize("A\u{a0}B"), "a b");
        assert_eq!(normalize(""), "");
        assert_eq!(normalize(" \u{200B} "), "");
        assert_eq!(normalize("ÉCOLE"), "école");
    }

    #[test]
    fn entropy_values() {
        assert_eq!(entropy(""), 0.0);
        assert_eq!(entropy("aaaa"), 0.0);
        assert!((entropy("ab") - 1.0).abs() < 1e-12);
        assert!((entropy("abcd") - 2.0).abs() < 1e-12);
        let all: Vec<u8> = (0..=127).collect();
        let s = String::from_utf8(all).expect("ascii");
        assert!((entropy(&s) - 7.0).abs() < 1e-12);
        assert!(entropy("hello world") < entropy("aZ3$kQ9!xP2@"));
    }

    #[test]
    fn redact_basic() {
        let s = "mail bob@example.com or call 555";
        let out = redact(s, [("email", 5, 20)]);
        assert_eq!(out, "mail [REDACTED:email] or call 555");
        assert_eq!(redact(s, []), s);
        assert_eq!(redact("", [("x", 0, 5)]), "");
    }

    #[test]
    fn redact_unsorted_overlapping_and_touching() {
        let s = "0123456789";
        // Unsorted, overlapping: merged, kind of the first-starting span.
        assert_eq!(redact(s, [("b", 4, 8), ("a", 2, 5)]), "01[REDACTED:a]89");
        // Contained span: merged into the outer one.
        assert_eq!(
            redact(s, [("in", 3, 4), ("out", 2, 6)]),
            "01[REDACTED:out]6789"
        );
        // Same start: the longer one's kind.
        assert_eq!(
            redact(s, [("short", 2, 3), ("long", 2, 6)]),
            "01[REDACTED:long]6789"
        );
        // Touching spans stay separate.
        assert_eq!(
            redact(s, [("a", 0, 2), ("b", 2, 4)]),
            "[REDACTED:a][REDACTED:b]456789"
        );
        // Duplicates.
        assert_eq!(
            redact(s, [("a", 1, 2), ("a", 1, 2)]),
            "0[REDACTED:a]23456789"
        );
    }

    #[test]
    fn redact_out_of_range_and_boundaries() {
        let s = "0123456789";
        assert_eq!(redact(s, [("x", -5, 2)]), "[REDACTED:x]23456789");
        assert_eq!(redact(s, [("x", 8, 100)]), "01234567[REDACTED:x]");
        assert_eq!(redact(s, [("x", i64::MIN, i64::MAX)]), "[REDACTED:x]");
        assert_eq!(redact(s, [("x", 5, 5), ("y", 7, 3), ("z", 50, 60)]), s);
        // Offsets inside a multi-byte character widen to the whole character.
        let s = "aé€b"; // a=0, é=1..3, €=3..6, b=6
        assert_eq!(redact(s, [("x", 2, 4)]), "a[REDACTED:x]b");
        assert_eq!(redact(s, [("x", 2, 3)]), "a[REDACTED:x]€b");
    }

    #[test]
    fn redact_with_findings() {
        let s = "key AKIAIOSFODNN7EXAMPLE";
        let f = [Finding::new("aws_access_key", 4, 24)];
        assert_eq!(redact_findings(s, &f), "key [REDACTED:aws_access_key]");
        assert_eq!(f[0].text(s), "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(Finding::new("x", 3, 99).text(s), "");
    }
}
