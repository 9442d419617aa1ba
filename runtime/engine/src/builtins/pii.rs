//! `std.pii`: detectors for personal data. Hand-written scanners, linear in
//! the text; every finding is a byte span on `char` boundaries.
//!
//! Most detectors look for digits *at a number boundary*: the character
//! before must not be a letter, digit or `_`, nor a `.`, `,` or `-` that
//! follows a digit (so `0.4111111111111111` or `1.2.3.4.5` hold no card or
//! address); the character after is tested the same way, mirrored. See
//! `docs/stdlib.md` for the exact formats and the tests behind them.

use std::net::Ipv6Addr;

use super::{Finding, rank_in, resolve_overlaps};

/// Kinds of [`scan`], most specific first: when findings of two kinds
/// overlap, the one listed first is kept.
pub const PRECEDENCE: [&str; 7] = ["email", "iban", "card", "ssn", "ipv6", "ipv4", "phone"];

/// `pii.scan(text)`: every finding of [`emails`], [`phones`], [`ssns`],
/// [`ibans`], [`cards`] and [`ips`], sorted by start. Where findings of
/// different kinds overlap, only the most specific is kept, in the order of
/// [`PRECEDENCE`] (email, iban, card, ssn, ipv6, ipv4, phone): the digits
/// of an IBAN are not also a card, an IP address inside an email is not
/// reported twice.
pub fn scan(text: &str) -> Vec<Finding> {
    let mut all = emails(text);
    all.extend(phones(text));
    all.extend(ssns(text));
    all.extend(ibans(text));
    all.extend(cards(text));
    all.extend(ips(text));
    resolve_overlaps(all, |kind| rank_in(&PRECEDENCE, kind))
}

// ---------------------------------------------------------------- helpers

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn digit_at(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(u8::is_ascii_digit)
}

/// Whether a number may start at `i`: see the module documentation.
fn number_starts(b: &[u8], i: usize) -> bool {
    let Some(prev) = i.checked_sub(1).map(|p| b[p]) else {
        return true;
    };
    if is_word_byte(prev) {
        return false;
    }
    !(matches!(prev, b'.' | b',' | b'-') && i >= 2 && b[i - 2].is_ascii_digit())
}

/// Whether a number may end at `i` (exclusive end): mirror of
/// [`number_starts`].
fn number_ends(b: &[u8], i: usize) -> bool {
    let Some(&next) = b.get(i) else {
        return true;
    };
    if is_word_byte(next) {
        return false;
    }
    !(matches!(next, b'.' | b',' | b'-') && digit_at(b, i + 1))
}

/// The end of the run of ASCII digits starting at `i`.
fn digits_end(b: &[u8], mut i: usize) -> usize {
    while digit_at(b, i) {
        i += 1;
    }
    i
}

fn digit_value(b: u8) -> u32 {
    u32::from(b - b'0')
}

// ----------------------------------------------------------------- emails

fn is_local_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-')
}

/// `pii.emails(text)`: email addresses, kind `email`.
///
/// A local part of letters and digits (Unicode), `.`, `_`, `%`, `+` and
/// `-` (at most 64 bytes, not starting or ending with `.`; after `..` only
/// the part that follows counts), `@`, then a domain of at least two labels
/// (letters, digits, inner `-`; at most 63 bytes each, 253 in all) whose
/// last label is at least two letters. A trailing `.` or `-` (end of a
/// sentence) is not part of the address; neither are surrounding `<>`,
/// quotes or `mailto:`. IP-literal domains (`a@[1.2.3.4]`) are not matched.
pub fn emails(text: &str) -> Vec<Finding> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut floor = 0; // the end of the previous email: the next one starts after it
    for (at, _) in text.match_indices('@') {
        if at < floor {
            continue;
        }
        // The local part: characters before `@`, back to the first one
        // that cannot be in it.
        let mut start = at;
        for (i, c) in text[floor..at].char_indices().rev() {
            if !is_local_char(c) {
                break;
            }
            start = floor + i;
        }
        if let Some(p) = text[start..at].rfind("..") {
            start += p + 2;
        }
        while start < at && b[start] == b'.' {
            start += 1;
        }
        if start == at || b[at - 1] == b'.' || at - start > 64 {
            continue;
        }
        if let Some(end) = domain_end(text, at + 1) {
            out.push(Finding::new("email", start, end));
            floor = end;
        }
    }
    out
}

/// The end of the longest valid email domain starting at `start`.
fn domain_end(text: &str, start: usize) -> Option<usize> {
    let is_label_char = |c: char| c.is_alphanumeric() || c == '-';
    let mut labels: Vec<(usize, usize)> = Vec::new();
    let mut i = start;
    loop {
        let rest = text.get(i..)?;
        let len: usize = rest
            .chars()
            .take_while(|&c| is_label_char(c))
            .map(char::len_utf8)
            .sum();
        let label = &rest[..len];
        let trimmed = label.trim_end_matches('-');
        if trimmed.is_empty() || trimmed.starts_with('-') || trimmed.len() > 63 {
            break;
        }
        labels.push((i, i + trimmed.len()));
        if trimmed.len() != label.len() {
            break; // a trailing `-` ends the domain
        }
        i += len;
        if rest[len..].starts_with('.') {
            i += 1;
        } else {
            break;
        }
    }
    for &(s, e) in labels.iter().skip(1).rev() {
        if e - s >= 2 && text[s..e].chars().all(char::is_alphabetic) {
            return (e - start <= 253).then_some(e);
        }
    }
    None
}

// ----------------------------------------------------------------- phones

/// `pii.phones(text)`: phone numbers, kind `phone`, in two formats.
///
/// * International: `+`, a digit 1-9, then digits in groups separated by up
///   to two of space, `-`, `.`, `(`, `)` (`+1 (415) 555-0100`,
///   `+44 20 7946 0958`, `+4930123456`): 8 to 15 digits in all (E.164). The
///   `+` must not follow a letter, digit or `+`.
/// * North American: `(415) 555-0100`, `(415)555-0100`, `415-555-0100`,
///   `415.555.0100`, `415 555 0100` (one separator kind throughout the
///   un-parenthesized form; `-`, `.` or space after the parenthesized area
///   code), optionally preceded by `1-`, `1.` or `1 `. Area code and
///   exchange must start with 2-9 (the NANP rule), so `123-456-7890` is not
///   a phone number.
///
/// Both need a number boundary after the last digit (see the module
/// documentation), and the North American form one before the first.
/// Overlapping matches of the two formats are reported once (the earlier,
/// then longer).
pub fn phones(text: &str) -> Vec<Finding> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    for (p, _) in text.match_indices('+') {
        if let Some(end) = international_phone(b, p) {
            out.push(Finding::new("phone", p, end));
        }
    }
    let mut i = 0;
    while i < b.len() {
        if (b[i].is_ascii_digit() || b[i] == b'(')
            && number_starts(b, i)
            && let Some(end) = north_american_phone(b, i)
        {
            out.push(Finding::new("phone", i, end));
            i = end;
        } else {
            i += 1;
        }
    }
    resolve_overlaps(out, |_| 0)
}

fn international_phone(b: &[u8], plus: usize) -> Option<usize> {
    if plus > 0 && (is_word_byte(b[plus - 1]) || b[plus - 1] == b'+') {
        return None;
    }
    let mut i = plus + 1;
    if !matches!(b.get(i), Some(b'1'..=b'9')) {
        return None;
    }
    let mut digits = 0;
    let mut end;
    loop {
        let run_end = digits_end(b, i);
        digits += run_end - i;
        end = run_end;
        if digits > 15 {
            return None;
        }
        let mut j = run_end;
        while j < b.len() && j - run_end < 2 && matches!(b[j], b' ' | b'-' | b'.' | b'(' | b')') {
            j += 1;
        }
        if j > run_end && digit_at(b, j) {
            i = j;
        } else {
            break;
        }
    }
    if !(8..=15).contains(&digits) || !number_ends(b, end) {
        return None;
    }
    Some(end)
}

/// Exactly `n` digits at `i`, the first in `first`: the index after them.
fn exact_digits(
    b: &[u8],
    i: usize,
    n: usize,
    first: std::ops::RangeInclusive<u8>,
) -> Option<usize> {
    let run = b.get(i..i + n)?;
    (run.iter().all(u8::is_ascii_digit) && first.contains(&run[0])).then_some(i + n)
}

fn north_american_phone(b: &[u8], start: usize) -> Option<usize> {
    // An optional `1-`, `1.` or `1 ` country prefix; without it if the rest
    // does not parse with it.
    if b[start] == b'1'
        && matches!(b.get(start + 1), Some(b'-' | b'.' | b' '))
        && let Some(end) = north_american_rest(b, start + 2)
    {
        return Some(end);
    }
    north_american_rest(b, start)
}

fn north_american_rest(b: &[u8], i: usize) -> Option<usize> {
    let (exchange_start, sep) = if b.get(i) == Some(&b'(') {
        let j = exact_digits(b, i + 1, 3, b'2'..=b'9')?;
        if b.get(j) != Some(&b')') {
            return None;
        }
        let j = j + 1;
        if b.get(j) == Some(&b' ') {
            (j + 1, None)
        } else {
            (j, None)
        }
    } else {
        let j = exact_digits(b, i, 3, b'2'..=b'9')?;
        let sep = *b.get(j)?;
        if !matches!(sep, b'-' | b'.' | b' ') {
            return None;
        }
        (j + 1, Some(sep))
    };
    let j = exact_digits(b, exchange_start, 3, b'2'..=b'9')?;
    let second = *b.get(j)?;
    match sep {
        Some(s) if s != second => return None,
        None if !matches!(second, b'-' | b'.' | b' ') => return None,
        _ => {}
    }
    let end = exact_digits(b, j + 1, 4, b'0'..=b'9')?;
    number_ends(b, end).then_some(end)
}

// ------------------------------------------------------------------- SSNs

/// `pii.ssns(text)`: US social security numbers, kind `ssn`: `ddd-dd-dddd`
/// at number boundaries, with a valid area (not `000`, `666` or
/// `900`-`999`), group (not `00`) and serial (not `0000`). Only the dashed
/// form: nine bare digits are too often something else.
pub fn ssns(text: &str) -> Vec<Finding> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 11 <= b.len() {
        if b[i].is_ascii_digit()
            && number_starts(b, i)
            && let Some(end) = ssn_at(b, i)
        {
            out.push(Finding::new("ssn", i, end));
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

fn ssn_at(b: &[u8], i: usize) -> Option<usize> {
    let s = b.get(i..i + 11)?;
    let shape = s.iter().enumerate().all(|(k, &c)| {
        if k == 3 || k == 6 {
            c == b'-'
        } else {
            c.is_ascii_digit()
        }
    });
    if !shape || !number_ends(b, i + 11) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s[r].iter().fold(0u32, |n, &c| n * 10 + digit_value(c));
    let (area, group, serial) = (num(0..3), num(4..6), num(7..11));
    let valid = area != 0 && area != 666 && area < 900 && group != 0 && serial != 0;
    valid.then_some(i + 11)
}

// ------------------------------------------------------------------ IBANs

/// IBAN length by country (the SWIFT IBAN registry).
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HN", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

fn iban_length(country: [u8; 2]) -> Option<usize> {
    let country = country.map(|c| c.to_ascii_uppercase());
    IBAN_LENGTHS
        .iter()
        .find(|(c, _)| **c == country)
        .map(|&(_, n)| n)
}

/// `pii.ibans(text)`: IBANs with a valid checksum, kind `iban`.
///
/// Two letters naming a country of the IBAN registry, two check digits,
/// then the BBAN (letters and digits), exactly as long as that country's
/// IBANs are (`DE` 22, `GB` 22, `FR` 27, ...). Written compactly
/// (`DE89370400440532013000`) or in groups of four separated by single
/// spaces (`DE89 3704 0044 0532 0130 00`), in upper or lower case. It must
/// not be glued to letters or digits on either side, and the ISO 7064
/// mod-97 check must give 1. IBANs of countries not in the registry table
/// are not reported.
pub fn ibans(text: &str) -> Vec<Finding> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 4 <= b.len() {
        let starts = b[i].is_ascii_alphabetic()
            && b[i + 1].is_ascii_alphabetic()
            && b[i + 2].is_ascii_digit()
            && b[i + 3].is_ascii_digit()
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric());
        if starts && let Some(end) = iban_at(b, i) {
            out.push(Finding::new("iban", i, end));
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

fn iban_at(b: &[u8], start: usize) -> Option<usize> {
    let len = iban_length([b[start], b[start + 1]])?;
    let mut chars: Vec<u8> = b[start..start + 4].to_ascii_uppercase();
    let mut i = start + 4;
    let spaced = b.get(i) == Some(&b' ');
    while chars.len() < len {
        if spaced && chars.len().is_multiple_of(4) {
            if b.get(i) != Some(&b' ') {
                return None;
            }
            i += 1;
        }
        let c = *b.get(i)?;
        if !c.is_ascii_alphanumeric() {
            return None;
        }
        chars.push(c.to_ascii_uppercase());
        i += 1;
    }
    if b.get(i).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    chars.rotate_left(4);
    let remainder = chars.iter().fold(0u32, |n, &c| {
        if c.is_ascii_digit() {
            (n * 10 + digit_value(c)) % 97
        } else {
            (n * 100 + u32::from(c - b'A') + 10) % 97
        }
    });
    (remainder == 1).then_some(i)
}

// ------------------------------------------------------------------ cards

/// The group lengths a separated card number may have.
const CARD_GROUPINGS: &[&[usize]] = &[
    &[4, 4, 4, 4, 3],
    &[4, 4, 4, 4, 2],
    &[4, 4, 4, 4, 1],
    &[4, 4, 4, 4],
    &[4, 6, 5],
    &[4, 4, 4, 3],
    &[4, 6, 4],
    &[4, 4, 4, 2],
    &[4, 4, 4, 1],
];

/// `pii.cards(text)`: payment card numbers, kind `card`.
///
/// 13 to 19 digits that pass the Luhn check and start with 2-6 (the major
/// networks: Mastercard 2/5, Amex, Diners and JCB 3, Visa 4, Discover and
/// UnionPay 6; this keeps out millisecond timestamps such as
/// `1700000000000`). Written as one run of digits, or in groups separated by
/// single spaces or single dashes (one kind throughout): groups of four with
/// a last group of 1-4 (`4111 1111 1111 1111`), or 4-6-5 / 4-6-4 (Amex,
/// Diners). The number must sit at number boundaries (see the module
/// documentation): a card is never part of a longer run of digits, a
/// decimal fraction or a word. Within a longer run of separated groups
/// (`qty 2 4111 1111 1111 1111`) a valid card aligned on the groups is
/// found.
pub fn cards(text: &str) -> Vec<Finding> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !(b[i].is_ascii_digit() && number_starts(b, i)) {
            i += 1;
            continue;
        }
        // The run: digit groups separated by one space or dash.
        let mut groups: Vec<(usize, usize)> = Vec::new();
        let mut seps: Vec<u8> = Vec::new();
        let mut j = i;
        loop {
            let end = digits_end(b, j);
            groups.push((j, end));
            match b.get(end) {
                Some(&s @ (b' ' | b'-')) if digit_at(b, end + 1) => {
                    seps.push(s);
                    j = end + 1;
                }
                _ => break,
            }
        }
        let run_end = groups.last().map_or(i, |g| g.1);
        if number_ends(b, run_end) {
            out.extend(cards_in_run(b, &groups, &seps));
        }
        i = run_end.max(i + 1);
    }
    out
}

/// Cards in one run of groups: leftmost first, then longest.
fn cards_in_run(b: &[u8], groups: &[(usize, usize)], seps: &[u8]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut g = 0;
    while g < groups.len() {
        let found = card_at_group(b, groups, seps, g);
        if let Some((end_group, f)) = found {
            out.push(f);
            g = end_group;
        } else {
            g += 1;
        }
    }
    out
}

/// A card starting at group `g`: the index after its last group and the
/// finding.
fn card_at_group(
    b: &[u8],
    groups: &[(usize, usize)],
    seps: &[u8],
    g: usize,
) -> Option<(usize, Finding)> {
    let len = |k: usize| groups[k].1 - groups[k].0;
    // One group alone: 13-19 digits.
    if (13..=19).contains(&len(g)) && card_digits_valid(b, &groups[g..=g]) {
        return Some((g + 1, Finding::new("card", groups[g].0, groups[g].1)));
    }
    for grouping in CARD_GROUPINGS {
        let n = grouping.len();
        let Some(window) = groups.get(g..g + n) else {
            continue;
        };
        let shape = window
            .iter()
            .zip(grouping.iter())
            .all(|(gr, &want)| gr.1 - gr.0 == want);
        let same_sep = seps[g..g + n - 1].windows(2).all(|w| w[0] == w[1]);
        if shape && same_sep && card_digits_valid(b, window) {
            return Some((g + n, Finding::new("card", window[0].0, window[n - 1].1)));
        }
    }
    None
}

fn card_digits_valid(b: &[u8], groups: &[(usize, usize)]) -> bool {
    let digits: Vec<u8> = groups
        .iter()
        .flat_map(|&(s, e)| b[s..e].iter().copied())
        .collect();
    (13..=19).contains(&digits.len()) && matches!(digits[0], b'2'..=b'6') && luhn(&digits)
}

/// The Luhn check over ASCII digits.
pub(crate) fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(k, &c)| {
            let d = digit_value(c);
            if k % 2 == 1 {
                let d = d * 2;
                if d > 9 { d - 9 } else { d }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

// -------------------------------------------------------------------- IPs

/// `pii.ips(text)`: IP addresses, kinds `ipv4` and `ipv6`, sorted by start.
///
/// * IPv4: four dotted decimal numbers of 1-3 digits, each at most 255
///   (leading zeros allowed: `010.001.002.003`), at number boundaries. So
///   `999.1.1.1`, `1.2.3.4.5` and `v1.2.3.4` hold no address, and a
///   version-like `1.2.3.4` standing alone **is** reported: the two cannot be
///   told apart, and for redaction a false positive is the safe side.
/// * IPv6: a maximal run of hex digits, `:` and `.` with at least two `:`
///   and at least one decimal digit (so `dead::beef` and C++'s `a::b` are
///   not addresses), not glued to letters, digits or `_`, at most 45 bytes,
///   that `std::net::Ipv6Addr` parses: all the RFC 4291 text forms,
///   including `::` compression and an embedded IPv4 tail
///   (`::ffff:10.0.0.1`). A trailing `.` or a single trailing `:`
///   (punctuation) is not part of the address. Zone ids (`%eth0`) are not
///   included. An IPv4 address inside an IPv6 one is not reported again.
pub fn ips(text: &str) -> Vec<Finding> {
    let mut all = ipv4s(text);
    all.extend(ipv6s(text));
    resolve_overlaps(all, |k| if k == "ipv6" { 0 } else { 1 })
}

fn ipv4s(text: &str) -> Vec<Finding> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit()
            && number_starts(b, i)
            && let Some(end) = ipv4_at(b, i)
        {
            out.push(Finding::new("ipv4", i, end));
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

fn ipv4_at(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    for octet in 0..4 {
        if octet > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let end = digits_end(b, i);
        if end == i || end - i > 3 {
            return None;
        }
        let value = b[i..end].iter().fold(0u32, |n, &c| n * 10 + digit_value(c));
        if value > 255 {
            return None;
        }
        i = end;
    }
    number_ends(b, i).then_some(i)
}

fn is_ipv6_byte(c: u8) -> bool {
    c.is_ascii_hexdigit() || c == b':' || c == b'.'
}

fn ipv6s(text: &str) -> Vec<Finding> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !is_ipv6_byte(b[i]) {
            i += 1;
            continue;
        }
        let mut end = i;
        while end < b.len() && is_ipv6_byte(b[end]) {
            end += 1;
        }
        let glued =
            (i > 0 && is_word_byte(b[i - 1])) || b.get(end).is_some_and(|&c| is_word_byte(c));
        if !glued && let Some((s, e)) = ipv6_in(text, i, end) {
            out.push(Finding::new("ipv6", s, e));
        }
        i = end;
    }
    out
}

fn ipv6_in(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let run = &text[start..end];
    let lead = run.len() - run.trim_start_matches('.').len();
    let s = start + lead;
    let mut candidate = run.trim_matches('.');
    if candidate.len() > 45
        || candidate.matches(':').count() < 2
        || !candidate.bytes().any(|c| c.is_ascii_digit())
    {
        return None;
    }
    if candidate.parse::<Ipv6Addr>().is_err() {
        // One trailing `:` as punctuation ("at fe80::1: ...").
        candidate = candidate.strip_suffix(':').filter(|c| !c.ends_with(':'))?;
        candidate.parse::<Ipv6Addr>().ok()?;
    }
    Some((s, s + candidate.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::is_sorted;

    fn texts(found: &[Finding], text: &str) -> Vec<String> {
        found.iter().map(|f| f.text(text).to_string()).collect()
    }

    fn one(f: fn(&str) -> Vec<Finding>, text: &str) -> Vec<String> {
        texts(&f(text), text)
    }

    #[test]
    fn emails_positive() {
        assert_eq!(one(emails, "mail bob@example.com now"), ["bob@example.com"]);
        assert_eq!(
            one(emails, "To: Bob <bob.smith+tag@mail.example.co.uk>"),
            ["bob.smith+tag@mail.example.co.uk"]
        );
        assert_eq!(
            one(emails, "\"alice_1@x-y.org\", (carol@ex.io)."),
            ["alice_1@x-y.org", "carol@ex.io"]
        );
        assert_eq!(
            one(emails, "mailto:dave@example.com."),
            ["dave@example.com"]
        );
        assert_eq!(
            one(emails, "éric@exemple.fr and user@münchen.de"),
            ["éric@exemple.fr", "user@münchen.de"]
        );
        assert_eq!(one(emails, "a@b.cd,e@f.gh"), ["a@b.cd", "e@f.gh"]);
        assert_eq!(one(emails, "bob@example.com--"), ["bob@example.com"]);
        assert_eq!(
            one(emails, "x@host.example.com.123"),
            ["x@host.example.com"]
        );
        assert_eq!(one(emails, "john..doe@example.com"), ["doe@example.com"]);
        assert_eq!(one(emails, ".hidden@example.com"), ["hidden@example.com"]);
    }

    #[test]
    fn emails_negative() {
        for text in [
            "no at sign here",
            "@example.com",
            "bob@",
            "bob@localhost",
            "bob@example",
            "bob@example.c",
            "bob@example.123",
            "bob.@example.com",
            "bob@-example.com",
            "bob@[10.0.0.1]",
            "a @ b.com",
            "@@@",
            "“”@x.com",
        ] {
            assert!(emails(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn phones_positive() {
        assert_eq!(
            one(phones, "call +1 (415) 555-0100 today"),
            ["+1 (415) 555-0100"]
        );
        assert_eq!(one(phones, "UK: +44 20 7946 0958."), ["+44 20 7946 0958"]);
        assert_eq!(one(phones, "+4930123456"), ["+4930123456"]);
        assert_eq!(one(phones, "+33 1.23.45.67.89"), ["+33 1.23.45.67.89"]);
        assert_eq!(one(phones, "(415) 555-0100"), ["(415) 555-0100"]);
        assert_eq!(one(phones, "(415)555-0100"), ["(415)555-0100"]);
        assert_eq!(
            one(phones, "415-555-0100, 415.555.0100; 415 555 0100"),
            ["415-555-0100", "415.555.0100", "415 555 0100"]
        );
        assert_eq!(one(phones, "1-800-555-0199"), ["1-800-555-0199"]);
        assert_eq!(one(phones, "tel:212-555-0123"), ["212-555-0123"]);
    }

    #[test]
    fn phones_negative() {
        for text in [
            "123-456-7890",      // area code starts with 1
            "415-155-0100",      // exchange starts with 1
            "415-555-01000",     // longer run
            "415-555.0100",      // mixed separators
            "4155550100",        // bare ten digits
            "x415-555-0100",     // glued to a word
            "415-555-0100-22",   // longer dashed number
            "1.415.555.0100.7",  // dotted run
            "+1234567",          // 7 digits
            "+1234567890123456", // 16 digits
            "+0415550100",       // no country code 0
            "2+44 20 7946 0958", // arithmetic
            "UTC+05:30",
            "+1.5e10",
            "+44 20 7946 0958x",
        ] {
            assert!(phones(text).is_empty(), "{text}: {:?}", one(phones, text));
        }
    }

    #[test]
    fn ssns_cases() {
        assert_eq!(one(ssns, "SSN: 123-45-6789."), ["123-45-6789"]);
        assert_eq!(
            one(ssns, "078-05-1120, 899-99-9999"),
            ["078-05-1120", "899-99-9999"]
        );
        for text in [
            "000-12-3456",
            "666-12-3456",
            "900-12-3456",
            "999-12-3456",
            "123-00-4567",
            "123-45-0000",
            "123456789",
            "123 45 6789",
            "1123-45-6789",
            "123-45-67890",
            "123-45-6789-1",
            "A123-45-6789",
            "12-345-6789",
        ] {
            assert!(ssns(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn ibans_cases() {
        assert_eq!(
            one(ibans, "IBAN DE89 3704 0044 0532 0130 00."),
            ["DE89 3704 0044 0532 0130 00"]
        );
        assert_eq!(
            one(ibans, "(GB82WEST12345698765432)"),
            ["GB82WEST12345698765432"]
        );
        assert_eq!(
            one(ibans, "fr14 2004 1010 0505 0001 3m02 606"),
            ["fr14 2004 1010 0505 0001 3m02 606"]
        );
        assert_eq!(
            one(ibans, "NL91ABNA0417164300 NO9386011117947"),
            ["NL91ABNA0417164300", "NO9386011117947"]
        );
        assert_eq!(
            one(ibans, "CH9300762011623852957"),
            ["CH9300762011623852957"]
        );
        for text in [
            "DE88 3704 0044 0532 0130 00", // check digits wrong
            "DE89 3704 0044 0532 0130 01", // one digit changed
            "GB82WEST12345698765433",
            "DE89370400440532013000X", // glued
            "XDE89370400440532013000",
            "DE8937040044053201300",      // too short for DE
            "DE89 3704 0044 0532 013000", // broken grouping
            "ZZ89370400440532013000",     // unknown country
            "DE89  3704 0044 0532 0130 00",
        ] {
            assert!(ibans(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn cards_positive() {
        for card in [
            "4111111111111111",
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "5555555555554444",
            "2223003122003222",
            "378282246310005",
            "3782 822463 10005",
            "6011111111111117",
            "3530111333300000",
            "30569309025904",
            "4222222222222",
            "6011 0009 9013 9424",
        ] {
            let text = format!("card: {card}, exp 12/29");
            assert_eq!(one(cards, &text), [card], "{card}");
        }
        assert_eq!(
            one(cards, "qty 2 4111 1111 1111 1111 cvv 123"),
            ["4111 1111 1111 1111"]
        );
        assert_eq!(
            one(cards, "4111 1111 1111 1111 123"),
            ["4111 1111 1111 1111"]
        );
    }

    #[test]
    fn cards_negative() {
        for text in [
            "4111111111111112", // Luhn-invalid
            "4111 1111 1111 1112",
            "1234567812345678", // Luhn-invalid
            "1700000000009",    // Luhn-valid but starts with 1 (a ms timestamp)
            "0000000000000000",
            "41111111111111110",     // 17 digits, Luhn-invalid
            "411111111111111111111", // 21 digits
            "94111111111111111",     // longer run containing a valid card
            "x4111111111111111",
            "4111111111111111abc",
            "0.4111111111111111", // decimal fraction
            "4111111111111111.5",
            "4111 1111 1111-1111",     // mixed separators
            "41 11 11 11 11 11 11 11", // odd grouping
            "4111  1111 1111 1111",    // double space
            "411111111111",            // 12 digits
        ] {
            assert!(cards(text).is_empty(), "{text}: {:?}", one(cards, text));
        }
    }

    #[test]
    fn luhn_known_values() {
        assert!(luhn(b"79927398713"));
        assert!(!luhn(b"79927398710"));
        assert!(luhn(b"0"));
    }

    #[test]
    fn ipv4_cases() {
        assert_eq!(
            one(ips, "from 192.168.1.10:8080 to 10.0.0.1."),
            ["192.168.1.10", "10.0.0.1"]
        );
        assert_eq!(
            one(ips, "255.255.255.255 0.0.0.0"),
            ["255.255.255.255", "0.0.0.0"]
        );
        assert_eq!(one(ips, "net 10.1.2.0/24"), ["10.1.2.0"]);
        // Version-like strings standing alone are addresses.
        assert_eq!(one(ips, "version 1.2.3.4"), ["1.2.3.4"]);
        for text in [
            "999.1.1.1",
            "1.2.3.256",
            "1.2.3.4.5",
            "1.2.3",
            "v1.2.3.4",
            "1.2.3.4a",
            "01234.1.1.1",
            "1..2.3.4",
            "a1.2.3.4",
            "3.14159",
        ] {
            assert!(ips(text).is_empty(), "{text}: {:?}", one(ips, text));
        }
    }

    #[test]
    fn ipv6_cases() {
        assert_eq!(one(ips, "host 2001:db8::1 up"), ["2001:db8::1"]);
        assert_eq!(one(ips, "[::1]:8080"), ["::1"]);
        assert_eq!(
            one(ips, "fe80::1ff:fe23:4567:890a, and"),
            ["fe80::1ff:fe23:4567:890a"]
        );
        assert_eq!(
            one(ips, "2001:0db8:0000:0000:0000:ff00:0042:8329."),
            ["2001:0db8:0000:0000:0000:ff00:0042:8329"]
        );
        assert_eq!(one(ips, "at fe80::1: down"), ["fe80::1"]);
        let text = "mapped ::ffff:192.0.2.128 here";
        let found = ips(text);
        assert_eq!(texts(&found, text), ["::ffff:192.0.2.128"]);
        assert_eq!(found[0].kind, "ipv6");
        for text in [
            "::",
            "std::vector",
            "a::b",
            "dead::beef",
            "12:30:45",
            "00:1a:2b:3c:4d:5e",
            "1:2:3:4:5:6:7:8:9",
            "2001:db8::1::2",
            "x2001:db8::1",
            "2001:db8::g",
        ] {
            assert!(
                ipv6s(text).is_empty(),
                "{text}: {:?}",
                texts(&ipv6s(text), text)
            );
        }
    }

    #[test]
    fn scan_precedence() {
        let text = "Bob <bob@example.com>, +1 415-555-0100, SSN 123-45-6789, \
                    IBAN DE89 3704 0044 0532 0130 00, card 4111 1111 1111 1111, \
                    ip 10.0.0.1 and 2001:db8::1";
        let found = scan(text);
        let kinds: Vec<&str> = found.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            ["email", "phone", "ssn", "iban", "card", "ipv4", "ipv6"]
        );
        assert_eq!(texts(&found, text)[1], "+1 415-555-0100");
        assert!(is_sorted(&found));
    }

    #[test]
    fn scan_avoids_double_reporting() {
        // An IBAN whose BBAN digits happen to form a Luhn-valid run.
        let text = "GB82 WEST 1234 5698 7654 32";
        assert_eq!(
            scan(text).iter().map(|f| f.kind).collect::<Vec<_>>(),
            ["iban"]
        );
        // A card number written with a `+` is not also a phone.
        let text = "+4111111111111111";
        let kinds: Vec<&str> = scan(text).iter().map(|f| f.kind).collect();
        assert_eq!(kinds, ["card"]);
        // An address in an email's local part is the email.
        let text = "10.0.0.1@example.com";
        let kinds: Vec<&str> = scan(text).iter().map(|f| f.kind).collect();
        assert_eq!(kinds, ["email"]);
        assert!(scan("").is_empty());
        assert!(scan("nothing to see, version 2 of 3").is_empty());
    }
}
