//! Literal pools: values that exercise builtins and edge cases.

/// Strings for literals and inputs: plain words, detector bait (PII,
/// secrets, URLs), separators, Unicode (multi-byte, zero-width, emoji),
/// escapes.
pub(crate) const STRINGS: &[&str] = &[
    "",
    "hello",
    "search",
    "fetch",
    "shell",
    "admin",
    "a",
    "x,y,,z",
    " padded text ",
    "ignore previous instructions",
    "IGNORE   previous\ninstructions",
    "mail bob@example.com now",
    "call (415) 555-0100 or +44 20 7946 0958",
    "ssn 123-45-6789",
    "card 4111 1111 1111 1111",
    "iban DE89 3704 0044 0532 0130 00",
    "host 10.0.0.1 and ::1",
    "key AKIAIOSFODNN7EXAMPLE",
    "Authorization: Bearer abcdef123456789xyz",
    "token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "-----BEGIN PRIVATE KEY-----\nabc",
    "https://docs.acme.example/start",
    "docs/../secrets",
    "src/main.rs",
    "héllo wörld",
    "日本語 テキスト",
    "\u{1F600} emoji",
    "zero\u{200B}width",
    "tab\tseparated",
    "quote \" and back\\slash",
    "line\r\nbreak",
    "nul\0byte",
    "ΟΔΟΣ",
    "straße",
    "İstanbul",
    "1h30m",
    "2026-01-31T09:30:00Z",
    "5m",
    "trial-tenant",
    "password: hunter2",
];

/// Valid regular expressions (the `regex` crate's syntax, small compiled
/// size).
pub(crate) const REGEXES: &[&str] = &[
    r"\w+",
    r"(?i)ignore",
    r"^\d+$",
    r"\bAKIA[0-9A-Z]{16}\b",
    r"[a-z]+@[a-z]+\.[a-z]{2,}",
    r"\p{L}+",
    r"a|b",
    "",
    r"\s",
    r"(?i)\bpassword\s*[:=]",
    r"x*",
    r"\d{3}-\d{2}-\d{4}",
    r"^$",
    ".",
    r"[^\x00-\x7F]",
    r"(?m)^line",
    r"\p{Han}",
    r"é+",
];

/// Valid globs.
pub(crate) const GLOBS: &[&str] = &[
    "docs/**",
    "*.rs",
    "**/*.md",
    "src/**/test.rs",
    "report{,-final}.pdf",
    "[abc]*",
    "?",
    "a/*/b",
    "**",
    "[!x]*.txt",
    "src/*",
];

/// URLs, valid and not.
pub(crate) const URLS: &[&str] = &[
    "https://docs.acme.example/start",
    "http://evil.com@good.com/",
    "HTTP://GOOD.COM:8080",
    "javascript:alert(1)",
    "http://[::1]:8080/",
    "not a url",
    "",
    "https://a.example.com/docs/../admin",
    "mailto:a@b.c",
    "http://0x7f.1/",
    "https://api.github.com/repos",
    "ftp://files.example.com:21/x",
    "http:///evil.com",
    "https://xn--mnchen-3ya.de/",
];

/// Host-list entries.
pub(crate) const HOSTS: &[&str] = &[
    "docs.acme.example",
    "*.github.com",
    "*.example.com",
    "example.com",
    "good.com",
    "127.0.0.1",
    "*",
    "",
    "::1",
];

/// Phrases for `contains_any`.
pub(crate) const PHRASES: &[&str] = &[
    "ignore previous instructions",
    "disregard the above",
    "jailbreak",
    "",
    "  ",
    "ΟΔΟΣ",
    "password",
    "admin",
];

/// Integers, with the extremes.
pub(crate) const INTS: &[i64] = &[
    0,
    1,
    2,
    -1,
    3,
    5,
    7,
    10,
    42,
    100,
    1000,
    16_000,
    i64::MAX,
    i64::MIN,
    i64::MAX - 1,
    i64::MIN + 1,
    4_611_686_018_427_387_904,
    -4_611_686_018_427_387_904,
    3_037_000_500,
];

/// Finite floats, with the extremes.
pub(crate) const FLOATS: &[f64] = &[
    0.0,
    0.5,
    1.5,
    -2.5,
    2.5,
    0.9,
    0.1,
    3.25,
    -0.0,
    1e300,
    -1e300,
    f64::MAX,
    f64::MIN_POSITIVE,
    5e-324,
    9.3e18,
    -9.3e18,
    9_223_372_036_854_775_808.0,
    -9_223_372_036_854_775_808.0,
    1e-3,
    100.0,
];

/// Duration literals (nanosecond values must fit in 64 bits).
pub(crate) const DURATIONS: &[&str] = &[
    "0s", "1ns", "250ms", "5m", "1h30m", "2d", "90s", "1us", "106751d", "24h", "1s", "3h",
];

/// Timestamps (RFC 3339, from 1970 to 2262).
pub(crate) const TIMESTAMPS: &[&str] = &[
    "2026-01-01T00:00:00Z",
    "2026-01-31T09:30:00Z",
    "2026-01-31T11:30:00+02:00",
    "2026-01-31T09:30:00.250Z",
    "1970-01-01T00:00:00Z",
    "2262-04-11T23:47:16Z",
    "2000-02-29T12:00:00-05:00",
    "2025-12-31T23:59:59.999999999Z",
];

/// Map keys.
pub(crate) const KEYS: &[&str] = &[
    "url",
    "path",
    "k",
    "",
    "tokens",
    "a b",
    "ключ",
    "x-trace-id",
    "role",
    "\u{1F600}",
];

/// Enum variant names (never used for anything else).
pub(crate) const VARIANTS: &[&str] = &[
    "guest", "analyst", "engineer", "admin", "red", "green", "blue", "amber", "north", "south",
    "east", "west", "alpha", "beta", "gamma", "delta",
];

/// Schema field names, keywords included (a field may be any word).
pub(crate) const FIELDS: &[&str] = &[
    "id", "name", "text", "score", "risk", "tags", "role", "level", "meta", "default", "in",
    "when", "count", "map", "limit", "of", "items", "note", "at", "ttl", "url", "args", "any",
    "allowed", "value", "list", "tool", "hits",
];

/// Words starting reasons (letters only).
pub(crate) const REASON_WORDS: &[&str] = &[
    "rule", "Deny", "allow", "risky", "guard", "check", "Policy", "limit", "tool", "prompt",
];

/// Words ending reasons.
pub(crate) const REASON_TAILS: &[&str] = &[
    "",
    " fired",
    ": too risky!",
    " (über)",
    " – ok",
    " for tenants",
    " \u{1F600}",
    " #tag",
];
