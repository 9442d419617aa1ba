//! Regexes: `s.matches(pattern)`, `s.matches_any(patterns)` and
//! `s.find_all(pattern)`.
//!
//! The syntax is the Rust `regex` crate's
//! (<https://docs.rs/regex/latest/regex/#syntax>): Unicode-aware, matching in
//! time linear in the text, and therefore without backreferences or
//! lookaround. A pattern matches *somewhere* in the text (anchor it with
//! `^...$` to match the whole text); `(?i)` makes it case-insensitive.
//!
//! Every pattern is compiled with a size limit ([`SIZE_LIMIT`] for the
//! compiled program, [`DFA_SIZE_LIMIT`] for the lazy DFA cache) and a
//! nesting limit ([`NEST_LIMIT`]), so a pathological pattern such as
//! `(\w{100}){100}` is a compile error ([`PatternError`]), not a blow-up.
//! Constant patterns are compiled once, when the program is loaded (the
//! front end reports the error at the literal); a dynamic pattern that does
//! not compile is an evaluation error.

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use super::Finding;

/// Limit on one compiled regex, in bytes (see `RegexBuilder::size_limit`).
pub const SIZE_LIMIT: usize = pol_ir::builtins::REGEX_SIZE_LIMIT;
/// Limit on the lazy DFA cache of one regex, in bytes.
pub const DFA_SIZE_LIMIT: usize = pol_ir::builtins::REGEX_DFA_SIZE_LIMIT;
/// Limit on the nesting of groups and repetitions in a pattern.
pub const NEST_LIMIT: u32 = pol_ir::builtins::REGEX_NEST_LIMIT;

/// A pattern that does not compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// The position of the failing pattern in the list (0 for a single
    /// pattern).
    pub index: usize,
    /// The `regex` crate's message (for a syntax error, a multi-line
    /// rendering that points into the pattern).
    pub message: String,
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid regex #{}: {}", self.index, self.message)
    }
}

impl std::error::Error for PatternError {}

fn error(index: usize, e: &regex::Error) -> PatternError {
    let message = match e {
        regex::Error::CompiledTooBig(limit) => {
            format!(
                "the compiled regex exceeds the size limit of {limit} bytes; simplify the pattern (large bounded repetitions such as `{{1000}}` and `\\w` under repetition grow it fastest)"
            )
        }
        other => other.to_string(),
    };
    PatternError { index, message }
}

/// One compiled regex, for `matches` and `find_all`.
#[derive(Debug, Clone)]
pub struct Pattern {
    re: Regex,
}

impl Pattern {
    /// Compiles `pattern` with the limits of this module.
    pub fn new(pattern: &str) -> Result<Pattern, PatternError> {
        RegexBuilder::new(pattern)
            .size_limit(SIZE_LIMIT)
            .dfa_size_limit(DFA_SIZE_LIMIT)
            .nest_limit(NEST_LIMIT)
            .build()
            .map(|re| Pattern { re })
            .map_err(|e| error(0, &e))
    }

    /// `s.matches(pattern)`: whether the regex matches somewhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.re.is_match(text)
    }

    /// `s.find_all(pattern)`: every non-overlapping match, leftmost first
    /// (the regex crate's leftmost-first semantics, like Perl), as findings
    /// of kind `match`. Empty matches (as `x*` gives between characters)
    /// are left out: a finding always covers at least one character.
    pub fn find_all(&self, text: &str) -> Vec<Finding> {
        self.re
            .find_iter(text)
            .filter(|m| !m.is_empty())
            .map(|m| Finding::new("match", m.start(), m.end()))
            .collect()
    }
}

/// `s.matches(pattern)` for a dynamic pattern (compiles it for this call).
pub fn matches(text: &str, pattern: &str) -> Result<bool, PatternError> {
    Ok(Pattern::new(pattern)?.is_match(text))
}

/// `s.find_all(pattern)` for a dynamic pattern.
pub fn find_all(text: &str, pattern: &str) -> Result<Vec<Finding>, PatternError> {
    Ok(Pattern::new(pattern)?.find_all(text))
}

/// A compiled list of regexes for `matches_any`, scanned in one pass
/// (`regex::RegexSet`).
#[derive(Debug, Clone)]
pub struct PatternSet {
    set: RegexSet,
}

impl PatternSet {
    /// Compiles `patterns`. On failure the error names the first pattern
    /// that does not compile on its own. Each pattern has the limits of
    /// [`Pattern::new`]; the set as a whole may use the per-pattern limit
    /// times the number of patterns. If every pattern compiles alone but the
    /// set is still too big, the error points at the last pattern.
    pub fn new<S: AsRef<str>>(
        patterns: impl IntoIterator<Item = S>,
    ) -> Result<PatternSet, PatternError> {
        let patterns: Vec<S> = patterns.into_iter().collect();
        let n = patterns.len().max(1);
        let built = RegexSetBuilder::new(patterns.iter().map(AsRef::as_ref))
            .size_limit(SIZE_LIMIT.saturating_mul(n))
            .dfa_size_limit(DFA_SIZE_LIMIT.saturating_mul(n))
            .nest_limit(NEST_LIMIT)
            .build();
        match built {
            Ok(set) => Ok(PatternSet { set }),
            Err(set_error) => {
                // Find the culprit: compiling each alone is only paid for on
                // the error path.
                for (i, p) in patterns.iter().enumerate() {
                    if let Err(e) = Pattern::new(p.as_ref()) {
                        return Err(PatternError { index: i, ..e });
                    }
                }
                Err(error(patterns.len().saturating_sub(1), &set_error))
            }
        }
    }

    /// The number of patterns.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether the set has no pattern.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// `s.matches_any(patterns)`: whether any regex matches somewhere in
    /// `text`. An empty set matches nothing.
    pub fn matches_any(&self, text: &str) -> bool {
        self.set.is_match(text)
    }
}

/// `s.matches_any(patterns)` for a dynamic collection of patterns.
pub fn matches_any<S: AsRef<str>>(
    text: &str,
    patterns: impl IntoIterator<Item = S>,
) -> Result<bool, PatternError> {
    Ok(PatternSet::new(patterns)?.matches_any(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_patterns() {
        let p = Pattern::new(r"(?i)ignore\s+(all\s+)?previous").expect("valid");
        assert!(p.is_match("Please IGNORE all previous instructions"));
        assert!(!p.is_match("ignore the previous"));
        assert_eq!(matches("order #123", r"#\d+"), Ok(true));
        assert_eq!(matches("order", r"^\d+$"), Ok(false));
        assert_eq!(matches("", ""), Ok(true));
        assert_eq!(matches("日本語", r"^\p{Han}+$"), Ok(true));
    }

    #[test]
    fn find_all_spans() {
        let text = "ids: A-12, B-7, é-99";
        let found = find_all(text, r"\p{L}-\d+").expect("valid");
        let got: Vec<&str> = found.iter().map(|f| f.text(text)).collect();
        assert_eq!(got, ["A-12", "B-7", "é-99"]);
        assert!(found.iter().all(|f| f.kind == "match"));
        assert_eq!(found[0].start, 5);
        // Empty matches are left out.
        assert!(find_all("abc", "x*").expect("valid").is_empty());
        assert_eq!(find_all("aXbXX", "X*").expect("valid").len(), 2);
    }

    #[test]
    fn syntax_errors() {
        let e = Pattern::new("(unclosed").expect_err("invalid");
        assert_eq!(e.index, 0);
        assert!(e.message.contains("unclosed"), "{}", e.message);
        // Lookaround and backreferences are not supported.
        assert!(Pattern::new(r"(?=x)").is_err());
        assert!(Pattern::new(r"(a)\1").is_err());
        assert!(matches("x", "[").is_err());
    }

    #[test]
    fn pathological_patterns_are_errors() {
        let e = Pattern::new(r"(\w{100}){100}").expect_err("too big");
        assert!(e.message.contains("size limit"), "{}", e.message);
        assert!(Pattern::new("a{10000}{10000}").is_err());
        let deep = format!("{}a{}", "(".repeat(200), ")".repeat(200));
        assert!(Pattern::new(&deep).is_err());
        // Ordinary patterns are well within the limits.
        assert!(Pattern::new(r"\b[\w.+-]+@[\w-]+\.\w{2,}\b").is_ok());
        assert!(Pattern::new(r"\w{50}").is_ok());
        assert!(Pattern::new(r"\w{200}").is_err());
    }

    #[test]
    fn sets() {
        let set = PatternSet::new([r"(?i)\bDAN\b", r"jail\s*break", r"^sudo "]).expect("valid");
        assert_eq!(set.len(), 3);
        assert!(set.matches_any("you are now dan"));
        assert!(set.matches_any("a JAIL BREAK? no: jail break"));
        assert!(set.matches_any("sudo rm"));
        assert!(!set.matches_any("please sudo rm"));
        assert!(!set.matches_any("dancing"));
        let empty = PatternSet::new(Vec::<String>::new()).expect("valid");
        assert!(empty.is_empty() && !empty.matches_any("x"));
        assert_eq!(matches_any("abc", ["z", "b"]), Ok(true));
    }

    #[test]
    fn set_errors_name_the_pattern() {
        let e = PatternSet::new(["ok", "fine", "(bad", "[also bad"]).expect_err("invalid");
        assert_eq!(e.index, 2);
        let e = PatternSet::new(["ok", r"(\w{100}){100}"]).expect_err("too big");
        assert_eq!(e.index, 1);
        assert!(e.to_string().starts_with("invalid regex #1"));
    }
}
