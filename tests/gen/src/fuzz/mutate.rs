//! Small mutations of valid text and bytes: a generated program with a
//! token inserted or a line dropped is *mostly* valid, and reaches the
//! checker's error paths far more often than random bytes do; a bundle
//! with a byte changed reaches each check of the loader in turn.
//!
//! The mutations are read from the fuzzer's bytes before anything else
//! (a [`Plan`]), so they are the same whatever the text they apply to.

use arbitrary::Unstructured;

/// Tokens inserted into source text: keywords, punctuation, literals at
/// their limits, and text that is not Pol at all.
const TOKENS: &[&str] = &[
    "package ",
    "import ",
    "schema ",
    "enum ",
    "let ",
    "param ",
    "policy ",
    "test ",
    "allow ",
    "deny ",
    "when ",
    "default ",
    "return ",
    "keep ",
    "limit ",
    "redact ",
    " of ",
    "alert ",
    "require_approval ",
    "expect ",
    "for ",
    "with ",
    "if ",
    "then ",
    "else ",
    "any ",
    "all ",
    "none ",
    " in ",
    "not ",
    " and ",
    " or ",
    "true",
    "false",
    "now",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "<",
    ">",
    ",",
    ".",
    "?.",
    "?[",
    "??",
    "?",
    ":",
    "->",
    "=",
    "==",
    "!=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "\"",
    "r\"",
    "\"\\q\"",
    "\"\\u{110000}\"",
    "\n",
    "\n\n",
    " ",
    "\t",
    "//",
    "///",
    "/*",
    "0",
    "-0",
    "9223372036854775807",
    "9223372036854775808",
    "1e999",
    "0.5",
    "1h",
    "99999999999d",
    "2026-01-01T00:00:00Z",
    "t\"2026-13-45T00:00:00Z\"",
    "@id(\"x\") ",
    "x",
    "Decision",
    "int",
    "float",
    "string",
    "bool",
    "duration",
    "timestamp",
    "Finding",
    "list<",
    "set<",
    "map<string, ",
    "é",
    "\u{1F600}",
    "\u{200B}",
    "#",
    "$",
    "&&",
    "||",
    "\\",
    "'",
    "std.text.contains",
    "matches(",
    ".len()",
    ".value",
    ".allowed",
    "fired",
];

/// Interesting 32-bit values written over bytes: lengths and varints at
/// their edges.
const WORDS: &[u32] = &[
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
];

/// One mutation: what, where (a fraction of the length, so the same plan
/// applies to any text), and an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mutation {
    kind: u8,
    at: u32,
    arg: u32,
}

/// The mutations to apply, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Plan(Vec<Mutation>);

impl Plan {
    /// Up to `max` mutations read from `u` (none when it is exhausted).
    pub(crate) fn read(u: &mut Unstructured<'_>, max: usize) -> Plan {
        let n = u.int_in_range(0..=max).unwrap_or(0);
        let mut plan = Vec::with_capacity(n);
        for _ in 0..n {
            plan.push(Mutation {
                kind: u.arbitrary().unwrap_or(0),
                at: u.arbitrary().unwrap_or(0),
                arg: u.arbitrary().unwrap_or(0),
            });
        }
        Plan(plan)
    }

    /// Whether the plan changes nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The plan applied to source text, on character boundaries.
    pub(crate) fn apply_text(&self, text: &str) -> String {
        let mut text = text.to_string();
        for m in &self.0 {
            text = mutate_text(&text, *m);
        }
        text
    }

    /// The plan applied to bytes from `from` on (a header before it is
    /// left alone).
    pub(crate) fn apply_bytes(&self, bytes: &[u8], from: usize) -> Vec<u8> {
        let mut bytes = bytes.to_vec();
        for m in &self.0 {
            let from = from.min(bytes.len());
            mutate_bytes(&mut bytes, from, *m);
        }
        bytes
    }
}

/// The position `at` stands for in a text of `len` bytes (`0..=len`).
fn position(at: u32, len: usize) -> usize {
    (at as usize) % (len + 1)
}

/// The nearest character boundary at or before `i`.
fn floor_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn mutate_text(text: &str, m: Mutation) -> String {
    let i = floor_boundary(text, position(m.at, text.len()));
    let token = TOKENS[m.arg as usize % TOKENS.len()];
    let mut out = String::with_capacity(text.len() + 16);
    let line_start = text[..i].rfind('\n').map_or(0, |n| n + 1);
    let line_end = text[i..].find('\n').map_or(text.len(), |n| i + n + 1);
    match m.kind % 8 {
        // Insert a token.
        0 | 1 => {
            out.push_str(&text[..i]);
            out.push_str(token);
            out.push_str(&text[i..]);
        }
        // Delete up to 16 bytes.
        2 => {
            let j = floor_boundary(text, i + (m.arg as usize % 16) + 1);
            out.push_str(&text[..i]);
            out.push_str(&text[j..]);
        }
        // Replace up to 4 bytes with a token.
        3 => {
            let j = floor_boundary(text, i + (m.arg as usize % 4) + 1);
            out.push_str(&text[..i]);
            out.push_str(token);
            out.push_str(&text[j..]);
        }
        // Delete the line.
        4 => {
            out.push_str(&text[..line_start]);
            out.push_str(&text[line_end..]);
        }
        // Duplicate the line.
        5 => {
            out.push_str(&text[..line_end]);
            out.push_str(&text[line_start..line_end]);
            out.push_str(&text[line_end..]);
        }
        // Move the line to another place.
        6 => {
            let rest = format!("{}{}", &text[..line_start], &text[line_end..]);
            let k = floor_boundary(&rest, position(m.arg, rest.len()));
            let k = rest[..k].rfind('\n').map_or(0, |n| n + 1);
            out.push_str(&rest[..k]);
            out.push_str(&text[line_start..line_end]);
            out.push_str(&rest[k..]);
        }
        // Cut the text here.
        _ => out.push_str(&text[..i]),
    }
    out
}

fn mutate_bytes(bytes: &mut Vec<u8>, from: usize, m: Mutation) {
    let len = bytes.len() - from;
    let i = from + position(m.at, len);
    match m.kind % 8 {
        // Flip a bit.
        0 | 1 if i < bytes.len() => bytes[i] ^= 1 << (m.arg % 8),
        // Set a byte.
        2 if i < bytes.len() => bytes[i] = m.arg as u8,
        // Write an interesting little-endian word.
        3 => {
            let word = WORDS[m.arg as usize % WORDS.len()].to_le_bytes();
            for (k, b) in word.iter().enumerate() {
                if let Some(slot) = bytes.get_mut(i + k) {
                    *slot = *b;
                }
            }
        }
        // Insert bytes.
        4 => {
            let n = (m.arg % 8 + 1) as usize;
            let fill = (m.arg >> 8) as u8;
            bytes.splice(i..i, std::iter::repeat_n(fill, n));
        }
        // Delete bytes.
        5 => {
            let j = (i + (m.arg as usize % 32) + 1).min(bytes.len());
            bytes.drain(i..j);
        }
        // Copy a range over another.
        6 => {
            let src = from + position(m.arg, len);
            let n = ((m.arg >> 16) as usize % 16 + 1)
                .min(bytes.len().saturating_sub(src))
                .min(bytes.len().saturating_sub(i));
            let chunk: Vec<u8> = bytes[src..src + n].to_vec();
            bytes[i..i + n].copy_from_slice(&chunk);
        }
        // Truncate.
        7 => bytes.truncate(i),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_mutations_keep_utf8_and_change_the_text() {
        let text = "package a\npolicy p(x: int) -> Decision {\n  allow \"é\" when x > 1\n}\n";
        let mut changed = 0;
        for kind in 0..8u8 {
            for at in [0u32, 3, 17, 40, 55, 1000] {
                let out = mutate_text(text, Mutation { kind, at, arg: 7 });
                // A `String` cannot hold anything else; the point is
                // that no slice above panicked on a boundary.
                if out != text {
                    changed += 1;
                }
            }
        }
        assert!(changed > 40, "only {changed} mutations changed the text");
    }

    #[test]
    fn byte_mutations_respect_the_protected_header() {
        let bytes: Vec<u8> = (0..64).collect();
        for kind in 0..8u8 {
            for at in [0u32, 5, 63, 64, 999] {
                let mut b = bytes.clone();
                mutate_bytes(
                    &mut b,
                    10,
                    Mutation {
                        kind,
                        at,
                        arg: 0x0102_0304,
                    },
                );
                assert_eq!(&b[..10], &bytes[..10], "kind {kind} at {at}");
            }
        }
    }
}
