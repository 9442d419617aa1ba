//! `std.secrets`: detectors for credentials. Hand-written scanners, linear
//! in the text; every finding is a byte span on `char` boundaries.
//!
//! "Not glued" below means the byte before the match is not an ASCII
//! letter, digit or `_`, so a key-shaped substring inside a longer base64
//! blob or identifier is not reported.

use super::text::bytes_entropy;
use super::{Finding, rank_in, resolve_overlaps};

/// Kinds of [`scan`], most specific first: when findings of two kinds
/// overlap, the one listed first is kept.
pub const PRECEDENCE: [&str; 6] = [
    "private_key",
    "jwt",
    "github_token",
    "slack_token",
    "aws_access_key",
    "bearer_token",
];

/// `secrets.scan(text)`: every secret finding, sorted by start, kinds
/// `aws_access_key`, `private_key`, `jwt`, `bearer_token`, `github_token`,
/// `slack_token` (see the functions below for each format). Overlapping
/// findings are resolved by [`PRECEDENCE`]: a JWT sent as a bearer token is
/// reported once, as `jwt`; anything inside a private key block is the
/// block.
pub fn scan(text: &str) -> Vec<Finding> {
    let mut all = aws_access_keys(text);
    all.extend(private_keys(text));
    all.extend(jwts(text));
    all.extend(bearer_tokens(text));
    all.extend(github_tokens(text));
    all.extend(slack_tokens(text));
    resolve_overlaps(all, |kind| rank_in(&PRECEDENCE, kind))
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn glued_before(b: &[u8], i: usize) -> bool {
    i > 0 && is_word_byte(b[i - 1])
}

/// The end of the run of bytes satisfying `pred` starting at `i`.
fn run_end(b: &[u8], mut i: usize, pred: impl Fn(u8) -> bool) -> usize {
    while i < b.len() && pred(b[i]) {
        i += 1;
    }
    i
}

/// AWS access key ids, kind `aws_access_key`: `AKIA` (long-term) or `ASIA`
/// (temporary) followed by exactly 16 uppercase letters or digits, not glued
/// to letters or digits on either side.
pub fn aws_access_keys(text: &str) -> Vec<Finding> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    for prefix in ["AKIA", "ASIA"] {
        for (i, _) in text.match_indices(prefix) {
            let end = run_end(b, i + 4, |c| c.is_ascii_uppercase() || c.is_ascii_digit());
            if !glued_before(b, i)
                && end - i == 20
                && !b.get(end).is_some_and(u8::is_ascii_alphanumeric)
            {
                out.push(Finding::new("aws_access_key", i, end));
            }
        }
    }
    out.sort_unstable_by_key(|f| f.start);
    out
}

/// PEM private keys, kind `private_key`: from `-----BEGIN <label>-----`,
/// where the label is uppercase letters and spaces ending in `PRIVATE KEY`
/// (`RSA PRIVATE KEY`, `EC PRIVATE KEY`, `OPENSSH PRIVATE KEY`,
/// `ENCRYPTED PRIVATE KEY`, plain `PRIVATE KEY`) or `PRIVATE KEY BLOCK`
/// (PGP), through the matching `-----END <label>-----`; to the end of the
/// text when that line is missing (a truncated key is still a secret).
/// Public keys and certificates are not reported.
pub fn private_keys(text: &str) -> Vec<Finding> {
    const BEGIN: &str = "-----BEGIN ";
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find(BEGIN) {
        let start = from + found;
        let label_start = start + BEGIN.len();
        let rest = &text[label_start..];
        let label_len = rest
            .bytes()
            .take_while(|&c| c.is_ascii_uppercase() || c == b' ')
            .count();
        let label = &rest[..label_len];
        let is_private = label.ends_with("PRIVATE KEY") || label.ends_with("PRIVATE KEY BLOCK");
        if !is_private || !rest[label_len..].starts_with("-----") {
            from = label_start;
            continue;
        }
        let body = label_start + label_len + 5;
        let end_line = format!("-----END {label}-----");
        let end = text[body..]
            .find(&end_line)
            .map_or(text.len(), |p| body + p + end_line.len());
        out.push(Finding::new("private_key", start, end));
        from = end;
    }
    out
}

fn is_base64url(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// JSON Web Tokens, kind `jwt`: a header segment starting `eyJ` (base64url
/// of `{"`) of at least 10 characters, a payload segment of at least 3, and
/// a signature segment (possibly empty, for unsecured tokens), separated by
/// `.`, all base64url (`A-Z a-z 0-9 _ -`). A JWE's two further segments are
/// included when present. Not glued to a base64url character before.
pub fn jwts(text: &str) -> Vec<Finding> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("eyJ") {
        let start = from + found;
        from = start + 3;
        if start > 0 && is_base64url(b[start - 1]) {
            continue;
        }
        let Some(end) = jwt_end(b, start) else {
            continue;
        };
        out.push(Finding::new("jwt", start, end));
        from = end;
    }
    out
}

fn jwt_end(b: &[u8], start: usize) -> Option<usize> {
    let header_end = run_end(b, start, is_base64url);
    if header_end - start < 10 || b.get(header_end) != Some(&b'.') {
        return None;
    }
    let payload_end = run_end(b, header_end + 1, is_base64url);
    if payload_end - (header_end + 1) < 3 || b.get(payload_end) != Some(&b'.') {
        return None;
    }
    let mut end = run_end(b, payload_end + 1, is_base64url);
    // JWE: five segments.
    for _ in 0..2 {
        if b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(|&c| is_base64url(c)) {
            end = run_end(b, end + 1, is_base64url);
        } else {
            break;
        }
    }
    Some(end)
}

fn is_b64token(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'~' | b'+' | b'/' | b'-')
}

/// Bearer tokens, kind `bearer_token`: the word `bearer` (any case, not
/// glued before), one or more spaces or tabs, then a token of RFC 6750
/// characters (`A-Z a-z 0-9 . _ ~ + / -`, then any `=` padding) of at least
/// 12 characters that is not all letters (so "bearer of bad news" and
/// "Bearer authentication" are not tokens). The finding is the token alone
/// (the text keeps `Authorization: Bearer `); trailing `.` (end of a
/// sentence) is not part of it.
pub fn bearer_tokens(text: &str) -> Vec<Finding> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 6 < b.len() {
        if !((b[i] | 0x20) == b'b' && b[i..i + 6].eq_ignore_ascii_case(b"bearer"))
            || glued_before(b, i)
        {
            i += 1;
            continue;
        }
        let token_start = run_end(b, i + 6, |c| c == b' ' || c == b'\t');
        if token_start == i + 6 {
            i += 6;
            continue;
        }
        let mut end = run_end(b, token_start, is_b64token);
        while end > token_start && b[end - 1] == b'.' {
            end -= 1;
        }
        let core = &b[token_start..end];
        let padded_end = if end == run_end(b, token_start, is_b64token) {
            run_end(b, end, |c| c == b'=')
        } else {
            end
        };
        if core.len() >= 12 && !core.iter().all(u8::is_ascii_alphabetic) {
            out.push(Finding::new("bearer_token", token_start, padded_end));
            i = padded_end;
        } else {
            i = token_start.max(i + 1);
        }
    }
    out
}

/// GitHub tokens, kind `github_token`: `ghp_` (personal), `gho_` (OAuth),
/// `ghu_` (user-to-server), `ghs_` (server-to-server) or `ghr_` (refresh)
/// followed by at least 36 letters and digits (GitHub's current length; up
/// to 251, as GitHub reserves the right to grow them), or a fine-grained
/// `github_pat_` followed by at least 22 letters, digits and `_`. Not glued
/// before, and not followed by a letter or digit beyond the run.
pub fn github_tokens(text: &str) -> Vec<Finding> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    for (i, _) in text.match_indices("gh") {
        let classic = b.len() >= i + 4
            && matches!(b[i + 2], b'p' | b'o' | b'u' | b's' | b'r')
            && b[i + 3] == b'_';
        if !classic || glued_before(b, i) {
            continue;
        }
        let end = run_end(b, i + 4, |c| c.is_ascii_alphanumeric());
        if (36..=251).contains(&(end - i - 4)) {
            out.push(Finding::new("github_token", i, end));
        }
    }
    for (i, _) in text.match_indices("github_pat_") {
        let body = i + "github_pat_".len();
        let end = run_end(b, body, is_word_byte);
        if !glued_before(b, i) && (22..=255).contains(&(end - body)) {
            out.push(Finding::new("github_token", i, end));
        }
    }
    out.sort_unstable_by_key(|f| f.start);
    out
}

/// Slack tokens, kind `slack_token`: `xoxb-` (bot), `xoxp-` (user),
/// `xoxa-`, `xoxr-` (refresh) or `xoxs-`, followed by at least 10
/// letters, digits and `-` including at least one digit (trailing `-` not
/// included). Not glued before.
pub fn slack_tokens(text: &str) -> Vec<Finding> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut floor = 0;
    for (i, _) in text.match_indices("xox") {
        if i < floor
            || glued_before(b, i)
            || !matches!(b.get(i + 3), Some(b'b' | b'p' | b'a' | b'r' | b's'))
            || b.get(i + 4) != Some(&b'-')
        {
            continue;
        }
        let body = i + 5;
        let mut end = run_end(b, body, |c| c.is_ascii_alphanumeric() || c == b'-');
        while end > body && b[end - 1] == b'-' {
            end -= 1;
        }
        let token = &b[body..end];
        if token.len() >= 10 && token.iter().any(u8::is_ascii_digit) {
            out.push(Finding::new("slack_token", i, end));
            floor = end;
        }
    }
    out
}

fn is_entropy_token_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'_' | b'-')
}

/// `secrets.high_entropy(text, min_length, threshold)`: tokens (maximal
/// runs of `A-Z a-z 0-9 + / = _ -`, the base64 and base64url alphabets) of
/// at least `min_length` bytes whose Shannon entropy
/// ([`super::text::entropy`]) is at least `threshold` bits per byte, kind
/// `high_entropy`. A `min_length` below 1 counts as 1; a NaN threshold
/// matches nothing. Note that a token of `n` bytes has at most `log2(n)`
/// bits per byte: 16 bytes reach at most 4.0, so a threshold of 4.5 needs
/// tokens of 23 bytes or more. Typical settings: `min_length` 20-24,
/// `threshold` 4.0-4.5 (random base64 of 32 bytes scores about 4.6-5.0,
/// English words and identifiers 2.5-3.5).
pub fn high_entropy(text: &str, min_length: i64, threshold: f64) -> Vec<Finding> {
    let min_length = usize::try_from(min_length.max(1)).unwrap_or(usize::MAX);
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !is_entropy_token_byte(b[i]) {
            i += 1;
            continue;
        }
        let end = run_end(b, i, is_entropy_token_byte);
        if end - i >= min_length && bytes_entropy(&b[i..end]) >= threshold {
            out.push(Finding::new("high_entropy", i, end));
        }
        i = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::is_sorted;

    const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

    fn texts(found: &[Finding], text: &str) -> Vec<String> {
        found.iter().map(|f| f.text(text).to_string()).collect()
    }

    fn one(f: fn(&str) -> Vec<Finding>, text: &str) -> Vec<String> {
        texts(&f(text), text)
    }

    #[test]
    fn aws_keys() {
        assert_eq!(
            one(aws_access_keys, "aws_access_key_id = AKIAIOSFODNN7EXAMPLE"),
            ["AKIAIOSFODNN7EXAMPLE"]
        );
        assert_eq!(
            one(aws_access_keys, "\"ASIAY34FZKBOKMUTVV7A\","),
            ["ASIAY34FZKBOKMUTVV7A"]
        );
        for text in [
            "AKIAIOSFODNN7EXAMPL",   // 15 after the prefix
            "AKIAIOSFODNN7EXAMPLE1", // 17
            "xAKIAIOSFODNN7EXAMPLE", // glued
            "AKIAiosfodnn7example",  // lowercase
            "ABIAIOSFODNN7EXAMPLE",  // other prefix
            "AKIA",
        ] {
            assert!(aws_access_keys(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn private_key_blocks() {
        let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1234\nabcd==\n-----END RSA PRIVATE KEY-----";
        let text = format!("config:\n{key}\nmore text");
        assert_eq!(one(private_keys, &text), [key]);
        for label in [
            "PRIVATE KEY",
            "EC PRIVATE KEY",
            "OPENSSH PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
            "DSA PRIVATE KEY",
            "PGP PRIVATE KEY BLOCK",
        ] {
            let k = format!("-----BEGIN {label}-----\\nAAAA\\n-----END {label}-----");
            assert_eq!(
                one(private_keys, &format!("\"{k}\"")),
                [k.as_str()],
                "{label}"
            );
        }
        // Unterminated: to the end of the text.
        let text = "key: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg";
        assert_eq!(
            one(private_keys, text),
            ["-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg"]
        );
        // Mismatched END label: also to the end.
        let text = "-----BEGIN RSA PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\nafter";
        assert_eq!(private_keys(text)[0].end, text.len());
        // Two keys.
        let two = format!("{key}\n{key}");
        assert_eq!(private_keys(&two).len(), 2);
        for text in [
            "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            "-----BEGIN RSA PRIVATE KEY",
            "BEGIN PRIVATE KEY",
        ] {
            assert!(private_keys(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn jwt_tokens() {
        assert_eq!(one(jwts, &format!("token={JWT}&x=1")), [JWT]);
        assert_eq!(one(jwts, &format!("({JWT}).")), [JWT]);
        let unsecured = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.";
        assert_eq!(one(jwts, unsecured), [unsecured]);
        let jwe = "eyJhbGciOiJSU0EtT0FFUCJ9.OKOawDo13gRp2o.48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6ji.XFBoMYUZodetZdvTiFvSkQ";
        assert_eq!(one(jwts, jwe), [jwe]);
        for text in [
            "eyJhbGciOiJIUzI1NiJ9",              // one segment
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9", // two segments
            "eyJ.abc.def",                       // header too short
            "xeyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.sig",
            "abc.eyJhbGciOiJIUzI1NiJ9x",
        ] {
            assert!(jwts(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn bearer() {
        let text = "Authorization: Bearer abcDEF123456ghiJKL789.";
        assert_eq!(one(bearer_tokens, text), ["abcDEF123456ghiJKL789"]);
        assert_eq!(
            one(
                bearer_tokens,
                "authorization: bearer\tya29.a0AfH6SMBx-y_z~1+2/3=="
            ),
            ["ya29.a0AfH6SMBx-y_z~1+2/3=="]
        );
        assert_eq!(
            one(bearer_tokens, "BEARER sk-proj-1234567890abcdef"),
            ["sk-proj-1234567890abcdef"]
        );
        for text in [
            "the bearer of bad news",
            "Bearer authentication is required",
            "Bearer abc123", // too short
            "Bearer <token>",
            "Bearer",
            "Bearer: abcDEF123456ghiJKL789",
            "xbearer abcDEF123456ghiJKL789",
            "Bearerabc123456789012",
        ] {
            assert!(bearer_tokens(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn github() {
        let classic = "ghp_1234567890abcdefghijklmnopqrstuvwxyz";
        assert_eq!(classic.len(), 40);
        assert_eq!(
            one(github_tokens, &format!("GITHUB_TOKEN={classic}\n")),
            [classic]
        );
        for p in ["gho_", "ghu_", "ghs_", "ghr_"] {
            let t = format!("{p}{}", &classic[4..]);
            assert_eq!(one(github_tokens, &t), [t.as_str()]);
        }
        let pat = "github_pat_11ABCDEFG0123456789abc_defghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd";
        assert_eq!(one(github_tokens, &format!("token: {pat}")), [pat]);
        for text in [
            "ghp_1234567890abcdefghijklmnopqrstuvwxy", // 35
            "ghx_1234567890abcdefghijklmnopqrstuvwxyz",
            "xghp_1234567890abcdefghijklmnopqrstuvwxyz",
            "github_pat_short",
            "ghp_",
        ] {
            assert!(github_tokens(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn slack() {
        let bot = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx";
        assert_eq!(one(slack_tokens, &format!("SLACK={bot}-")), [bot]);
        assert_eq!(
            one(slack_tokens, "xoxp-1234-5678-abcdef"),
            ["xoxp-1234-5678-abcdef"]
        );
        for text in [
            "xoxb-",
            "xoxb-abcdefghijklmnop",
            "xoxz-123456789012",
            "axoxb-123456789012",
            "xoxb123456789012",
        ] {
            assert!(slack_tokens(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn scan_all_kinds_and_precedence() {
        let text = format!(
            "aws AKIAIOSFODNN7EXAMPLE\nAuthorization: Bearer {JWT}\n\
             gh ghp_1234567890abcdefghijklmnopqrstuvwxyz slack xoxb-123456789012-abcdefghij\n\
             -----BEGIN PRIVATE KEY-----\nAKIAIOSFODNN7EXAMPLE\n-----END PRIVATE KEY-----\n\
             Authorization: Bearer opaque-token-1234567890"
        );
        let found = scan(&text);
        let kinds: Vec<&str> = found.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [
                "aws_access_key",
                "jwt",
                "github_token",
                "slack_token",
                "private_key",
                "bearer_token"
            ]
        );
        assert!(is_sorted(&found));
        assert!(scan("").is_empty());
        assert!(scan("just a normal sentence about bearer bonds and keys").is_empty());
    }

    #[test]
    fn entropy_tokens() {
        let random = "q8Zr2XvN7LpT4kWm9sYb3HcJ6dFg1RnE"; // 32 distinct characters: 5.0 bits
        let text = format!("key={random} and some ordinary words like configuration");
        let found = high_entropy(&text, 20, 4.5);
        assert_eq!(texts(&found, &text), [format!("key={random}")]);
        assert!(high_entropy(&text, 40, 4.5).is_empty());
        assert!(high_entropy("configuration_management_system", 20, 4.0).is_empty());
        assert!(high_entropy(&text, 20, f64::NAN).is_empty());
        // Every token counts with a zero threshold; min_length below 1 is 1.
        assert_eq!(high_entropy("a b c", -5, 0.0).len(), 3);
        assert!(high_entropy("", 1, 0.0).is_empty());
        // `.` splits tokens.
        assert_eq!(high_entropy("aaaa.bbbb", 1, 0.0).len(), 2);
    }
}
