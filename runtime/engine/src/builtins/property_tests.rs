//! Every scanner over pseudo-random text: spans in bounds, on `char`
//! boundaries, non-empty and sorted; and no function panics. The text is
//! drawn from fragments that make detectors fire (digits, separators,
//! prefixes such as `AKIA`, `eyJ`, `@`, `::`) mixed with multi-byte
//! characters, so partial and overlapping near-matches are exercised.

use super::{Finding, is_sorted, pattern, phrase, pii, secrets, text, time, url};

/// A seeded linear congruential generator (Knuth's MMIX constants).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const FRAGMENTS: &[&str] = &[
    "0",
    "1",
    "2",
    "4",
    "5",
    "9",
    "12",
    "255",
    "256",
    "999",
    "4111",
    "1111",
    "0000",
    "415",
    "555",
    "0100",
    "123",
    "45",
    "6789",
    " ",
    "  ",
    "-",
    ".",
    ",",
    ":",
    "::",
    "@",
    "+",
    "(",
    ")",
    "[",
    "]",
    "/",
    "\\",
    "_",
    "=",
    "\n",
    "\t",
    "a",
    "b",
    "e",
    "f",
    "x",
    "Z",
    "DE89",
    "GB82",
    "WEST",
    "AKIA",
    "ASIA",
    "IOSFODNN7EXAMPLE",
    "eyJ",
    "hbGciOiJIUzI1NiJ9",
    "Bearer ",
    "bearer\t",
    "ghp_",
    "github_pat_",
    "xoxb-",
    // Whole positives, so that every kind fires and gets cut and glued.
    "123-45-6789",
    "DE89 3704 0044 0532 0130 00",
    "GB82WEST12345698765432",
    "4111 1111 1111 1111",
    "378282246310005",
    "+1 415-555-0100",
    "(212) 555-0123",
    "bob@example.com",
    "AKIAIOSFODNN7EXAMPLE",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.c2ln",
    "ghp_1234567890abcdefghijklmnopqrstuvwxyz",
    "xoxb-123456789012-abc",
    "-----BEGIN EC PRIVATE KEY-----",
    "xox",
    "gh",
    "1234567890",
    "abcdefghijklmnopqrstuvwxyz",
    "-----BEGIN ",
    "PRIVATE KEY-----",
    "-----END ",
    "RSA ",
    "example",
    ".com",
    "bob",
    "%2e",
    "%41",
    "http",
    "://",
    "?",
    "#",
    "é",
    "€",
    "日本",
    "😀",
    "\u{200B}",
    "\u{00AD}",
    "\u{FEFF}",
    "\u{a0}",
    "İ",
    "ς",
    "Σ",
    "ß",
    "\u{7f}",
    "fe80",
    "db8",
    "ffff",
    "10.0.0.1",
    "2001:db8::1",
    "1.2.3.4",
    "v",
    "ignore",
    "previous",
    "instructions",
];

fn random_text(rng: &mut Lcg) -> String {
    let n = rng.below(40);
    let mut s = String::new();
    for _ in 0..n {
        s.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
    }
    s
}

fn check(name: &str, text: &str, found: &[Finding]) {
    for f in found {
        assert!(
            f.start < f.end && f.end <= text.len(),
            "{name}: span {f:?} out of bounds in {text:?}"
        );
        assert!(
            text.is_char_boundary(f.start) && text.is_char_boundary(f.end),
            "{name}: span {f:?} not on char boundaries in {text:?}"
        );
    }
    assert!(
        is_sorted(found),
        "{name}: not sorted in {text:?}: {found:?}"
    );
}

fn check_disjoint(name: &str, text: &str, found: &[Finding]) {
    for w in found.windows(2) {
        assert!(
            w[0].end <= w[1].start,
            "{name}: overlapping {w:?} in {text:?}"
        );
    }
}

/// The fewest bytes the cost bound assumes a finding of this scanner has
/// (`pol_ir::cost::work::min_finding_len`): a text of `L` bytes has at most
/// `L / min` findings.
fn check_min_len(name: &str, text: &str, found: &[Finding]) {
    use pol_ir::Builtin as B;
    let id = match name {
        "pii.scan" => B::PiiScan,
        "pii.emails" => B::PiiEmails,
        "pii.phones" => B::PiiPhones,
        "pii.ssns" => B::PiiSsns,
        "pii.ibans" => B::PiiIbans,
        "pii.cards" => B::PiiCards,
        "pii.ips" => B::PiiIps,
        // Every detector `secrets.scan` runs.
        n if n.starts_with("secrets.") && n != "secrets.high_entropy" => B::SecretsScan,
        _ => return,
    };
    let min = pol_ir::cost::work::min_finding_len(id) as usize;
    for f in found {
        assert!(
            f.end - f.start >= min,
            "{name}: {f:?} is shorter than the {min} bytes the cost bound assumes, in {text:?}"
        );
    }
}

#[test]
fn scanners_on_random_text() {
    let mut rng = Lcg(0x5eed_1234_abcd_0001);
    let phrases =
        phrase::PhraseSet::new(["ignore previous instructions", "İ", "σ", "e-e", "example"]);
    let regex = pattern::Pattern::new(r"\d+|[^\x00-\x7f]+|e.").expect("valid");
    let mut hits = std::collections::BTreeMap::<&str, usize>::new();
    for _ in 0..4000 {
        let t = random_text(&mut rng);
        let scanners: [(&str, Vec<Finding>); 17] = [
            ("pii.scan", pii::scan(&t)),
            ("pii.emails", pii::emails(&t)),
            ("pii.phones", pii::phones(&t)),
            ("pii.ssns", pii::ssns(&t)),
            ("pii.ibans", pii::ibans(&t)),
            ("pii.cards", pii::cards(&t)),
            ("pii.ips", pii::ips(&t)),
            ("secrets.scan", secrets::scan(&t)),
            ("secrets.aws", secrets::aws_access_keys(&t)),
            ("secrets.jwt", secrets::jwts(&t)),
            ("secrets.bearer", secrets::bearer_tokens(&t)),
            ("secrets.private_keys", secrets::private_keys(&t)),
            ("secrets.github", secrets::github_tokens(&t)),
            ("secrets.slack", secrets::slack_tokens(&t)),
            (
                "secrets.high_entropy",
                secrets::high_entropy(&t, rng.below(8) as i64 - 2, 1.5),
            ),
            ("phrase.find_all", phrases.find_all(&t)),
            ("pattern.find_all", regex.find_all(&t)),
        ];
        for (name, found) in &scanners {
            check(name, &t, found);
            *hits.entry(name).or_default() += found.len();
            for f in found {
                *hits.entry(f.kind).or_default() += 1;
            }
        }
        for (name, found) in &scanners {
            check_disjoint(name, &t, found);
            check_min_len(name, &t, found);
        }

        // Everything else: must not panic, and keep its invariants.
        let all = &scanners[0].1;
        let redacted = text::redact_findings(&t, all);
        assert_eq!(redacted.matches("[REDACTED:").count(), all.len(), "{t:?}");
        let spans: Vec<(&str, i64, i64)> = (0..4)
            .map(|_| {
                (
                    "k",
                    rng.below(t.len() + 3) as i64 - 1,
                    rng.below(t.len() + 3) as i64 - 1,
                )
            })
            .collect();
        let _ = text::redact(&t, spans);
        let n = text::normalize(&t);
        assert_eq!(text::normalize(&n), n, "normalize is idempotent on {t:?}");
        let e = text::entropy(&t);
        assert!((0.0..=8.0).contains(&e));
        assert!(text::token_count(&t) >= text::word_count(&t));
        let sep = FRAGMENTS[rng.below(FRAGMENTS.len())];
        assert_eq!(
            text::join(text::split(&t, sep), sep).as_deref(),
            Some(t.as_str())
        );
        let _ = text::replace(&t, sep, "<>");
        let _ = phrases.contains_any(&t);
        let _ = url::parse(&t);
        let _ = url::host_matches(&t, ["*.example.com", &t]);
        let with_scheme = format!("http://{t}");
        if let Some(u) = url::parse(&with_scheme) {
            assert!(u.path.starts_with('/'), "{with_scheme:?}");
        }
        let _ = time::parse(&t);
        let _ = time::parse_duration(&t);
        let _ = super::glob::matches(&t, &t);
        let _ = pattern::matches(&t, &t);
    }
    // The generator must exercise every kind, not just survive.
    for kind in [
        "email",
        "phone",
        "ssn",
        "iban",
        "card",
        "ipv4",
        "ipv6",
        "aws_access_key",
        "private_key",
        "jwt",
        "bearer_token",
        "github_token",
        "slack_token",
        "high_entropy",
        "phrase",
        "match",
    ] {
        assert!(
            hits.get(kind).copied().unwrap_or(0) >= 20,
            "too few `{kind}` findings: {hits:?}"
        );
    }
}

#[test]
fn scanners_on_large_inputs() {
    // Long runs that could make a careless scanner quadratic or overflow.
    let inputs = [
        "1".repeat(200_000),
        "1 ".repeat(100_000),
        "a@".repeat(100_000),
        "a.".repeat(100_000) + "@example.com",
        ":".repeat(100_000),
        "-----BEGIN PRIVATE KEY-----".repeat(10_000),
        "eyJ".repeat(100_000),
        "Bearer ".repeat(50_000),
        "é".repeat(100_000),
        "+1 ".repeat(100_000),
    ];
    for t in &inputs {
        for found in [
            pii::scan(t),
            secrets::scan(t),
            secrets::high_entropy(t, 1, 0.0),
        ] {
            check("large", t, &found);
        }
    }
}

/// The fused scan answers as `contains_any` and `matches_any` do, on text
/// made of fragments of the phrases, of what the patterns look for, and of
/// the generic fragments (case, whitespace and zero-width variants
/// included), for pattern sets with and without required literals.
#[test]
fn a_fused_scan_agrees_with_the_two_builtins_on_random_text() {
    use super::scan::{Answers, FusedScan};
    let mut rng = Lcg(0x5eed_f00d_0000_0003);
    let phrases = phrase::PhraseSet::new([
        "ignore previous instructions",
        "system prompt",
        "begin",
        "tem",
        "İ",
    ]);
    let pattern_sets: [&[&str]; 3] = [
        &[
            r"(?i)\[\s*system\s*\]|<\|im_start\|>\s*system",
            r"\bAKIA[0-9A-Z]{16}\b",
            r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b",
            r"-----BEGIN (?:RSA |EC |OPENSSH )?PRIVATE KEY-----",
            r"\bghp_[A-Za-z0-9]{36}\b",
            r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+",
        ],
        &[
            r"\d{3}-\d{2}-\d{4}",
            r"(?i)pass\s*word",
            r"^\s*$",
            r"a \t b",
        ],
        &[],
    ];
    let extra = [
        "IGNORE",
        "previous",
        "Instructions",
        "\u{200B}",
        "\t",
        "\n",
        "SYSTEM",
        "[",
        "]",
        "<|im_start|>",
        "AKIA",
        "ABCDEFGHIJKLMNOP",
        "QRST",
        "ghp_",
        "eyJ",
        "abc",
        "-----BEGIN ",
        "RSA ",
        "PRIVATE KEY-----",
        "ana",
        "@",
        "example.org",
        "Pass",
        "word",
        "a",
        "b",
        "ſ",
        "İ",
        "ẞ",
    ];
    let mut hits = [0usize; 4];
    for patterns in pattern_sets {
        let fused = FusedScan::new(&phrases, patterns).expect("builds");
        let set = pattern::PatternSet::new(patterns.iter().copied()).expect("compiles");
        for _ in 0..3000 {
            let mut text = String::new();
            // A quarter long enough for the two-reader scan.
            let pieces = if rng.below(4) == 0 {
                100 + rng.below(200)
            } else {
                rng.below(24)
            };
            for _ in 0..pieces {
                if rng.below(2) == 0 {
                    text.push_str(extra[rng.below(extra.len())]);
                } else {
                    text.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
                }
            }
            let expected = Answers {
                phrase: phrases.contains_any(&text),
                pattern: set.matches_any(&text),
            };
            assert_eq!(fused.scan(&text), expected, "{text:?} with {patterns:?}");
            hits[usize::from(expected.phrase) * 2 + usize::from(expected.pattern)] += 1;
        }
    }
    // Every combination of answers came up.
    assert!(hits.iter().all(|&n| n > 50), "{hits:?}");
}
