//! `std.glob`: glob matching over `/`-separated paths (the `globset`
//! crate, configured for one meaning on every platform).
//!
//! Syntax: `?` matches one character other than `/`; `*` any run of
//! characters other than `/`; `**` as a whole path segment (`**/x`,
//! `a/**`, `a/**/b`) any number of segments, including none (elsewhere
//! `**` is the same as `*`); `[abc]`, `[a-z]` one character of a class,
//! `[!abc]` (or `[^abc]`) one not in it; `{a,b}` either alternative; `\`
//! escapes the next character. Matching is case-sensitive, on the whole
//! text (no implicit prefix or suffix), and purely textual: `.` and `..`
//! segments are not resolved, so `docs/**` matches `docs/../secrets` —
//! normalize or reject such paths first (or use `url.path`, which resolves
//! them for URLs).
//!
//! A constant pattern that does not parse (`[abc`, `{a,b`, a trailing `\`)
//! is an error when the program is compiled ([`Glob::new`],
//! [`GlobPatterns::new`]); at run time a dynamic pattern that does not parse
//! simply matches nothing ([`matches`], [`matches_any`]).

use globset::{Candidate, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};

/// A glob that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobError {
    /// The position of the failing pattern in the list (0 for one pattern).
    pub index: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for GlobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid glob #{}: {}", self.index, self.message)
    }
}

impl std::error::Error for GlobError {}

fn build(pattern: &str, index: usize) -> Result<globset::Glob, GlobError> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .case_insensitive(false)
        .empty_alternates(true)
        .build()
        .map_err(|e| GlobError {
            index,
            message: e.kind().to_string(),
        })
}

/// One compiled glob.
#[derive(Debug, Clone)]
pub struct Glob {
    matcher: GlobMatcher,
}

impl Glob {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Glob, GlobError> {
        Ok(Glob {
            matcher: build(pattern, 0)?.compile_matcher(),
        })
    }

    /// Whether the whole of `text` matches.
    pub fn is_match(&self, text: &str) -> bool {
        self.matcher
            .is_match_candidate(&Candidate::from_bytes(text.as_bytes()))
    }
}

/// A compiled list of globs, matched in one pass.
#[derive(Debug, Clone)]
pub struct GlobPatterns {
    set: GlobSet,
}

impl GlobPatterns {
    /// Compiles `patterns`; the error names the first that does not parse.
    pub fn new<S: AsRef<str>>(
        patterns: impl IntoIterator<Item = S>,
    ) -> Result<GlobPatterns, GlobError> {
        let mut builder = GlobSetBuilder::new();
        for (i, p) in patterns.into_iter().enumerate() {
            builder.add(build(p.as_ref(), i)?);
        }
        let set = builder.build().map_err(|e| GlobError {
            index: 0,
            message: e.kind().to_string(),
        })?;
        Ok(GlobPatterns { set })
    }

    /// Builds from the patterns that parse, dropping the others (the run-time
    /// behavior for dynamic patterns).
    pub fn new_lenient<S: AsRef<str>>(patterns: impl IntoIterator<Item = S>) -> GlobPatterns {
        let mut builder = GlobSetBuilder::new();
        for p in patterns {
            if let Ok(g) = build(p.as_ref(), 0) {
                builder.add(g);
            }
        }
        // Every glob was checked; a set of valid globs only fails on
        // internal size limits, and then matches nothing.
        let set = builder.build().unwrap_or_else(|_| GlobSet::empty());
        GlobPatterns { set }
    }

    /// The number of patterns.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether there is no pattern.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// `glob.matches_any(patterns, text)`: whether `text` matches any of the
    /// globs. An empty list matches nothing.
    pub fn matches_any(&self, text: &str) -> bool {
        self.set
            .is_match_candidate(&Candidate::from_bytes(text.as_bytes()))
    }
}

/// `glob.matches(pattern, text)` for a dynamic pattern: whether `text`
/// matches; `false` when the pattern does not parse.
pub fn matches(pattern: &str, text: &str) -> bool {
    Glob::new(pattern).is_ok_and(|g| g.is_match(text))
}

/// `glob.matches_any(patterns, text)` for dynamic patterns: whether `text`
/// matches any pattern that parses (patterns that do not parse match
/// nothing; the others still count).
pub fn matches_any<S: AsRef<str>>(patterns: impl IntoIterator<Item = S>, text: &str) -> bool {
    GlobPatterns::new_lenient(patterns).matches_any(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_does_not_cross_slash() {
        assert!(matches("*.md", "README.md"));
        assert!(!matches("*.md", "docs/README.md"));
        assert!(matches("docs/*.md", "docs/a.md"));
        assert!(!matches("docs/*.md", "docs/sub/a.md"));
        assert!(matches("src/?.rs", "src/a.rs"));
        assert!(!matches("src/?.rs", "src/ab.rs"));
        assert!(!matches("a?b", "a/b"));
        assert!(matches("*", ""));
        assert!(!matches("*", "a/b"));
    }

    #[test]
    fn double_star_crosses_slash() {
        assert!(matches("docs/**", "docs/a"));
        assert!(matches("docs/**", "docs/a/b/c.md"));
        assert!(!matches("docs/**", "docsx/a"));
        assert!(!matches("docs/**", "other/docs/a"));
        assert!(matches("**/*.rs", "main.rs"));
        assert!(matches("**/*.rs", "src/a/main.rs"));
        assert!(matches("src/**/test.rs", "src/test.rs"));
        assert!(matches("src/**/test.rs", "src/a/b/test.rs"));
        assert!(matches("**", "any/thing"));
        // Purely textual: dot segments are not resolved.
        assert!(matches("docs/**", "docs/../secrets"));
    }

    #[test]
    fn classes_alternates_escapes() {
        assert!(matches("file[0-9].txt", "file7.txt"));
        assert!(!matches("file[0-9].txt", "filex.txt"));
        assert!(matches("[abc]", "b"));
        assert!(!matches("[abc]", "d"));
        assert!(matches("[!abc]", "d"));
        assert!(!matches("[!abc]", "a"));
        assert!(matches("*.{png,jpg}", "cat.jpg"));
        assert!(!matches("*.{png,jpg}", "cat.gif"));
        assert!(matches("report{,-final}.pdf", "report.pdf"));
        assert!(matches(r"a\*b", "a*b"));
        assert!(!matches(r"a\*b", "axb"));
        assert!(!matches("Docs/*", "docs/a"));
        assert!(matches("日本/*.txt", "日本/メモ.txt"));
    }

    #[test]
    fn whole_text_only() {
        assert!(!matches("docs", "docs/a"));
        assert!(!matches("a", "ba"));
        assert!(matches("", ""));
        assert!(!matches("", "a"));
    }

    #[test]
    fn invalid_patterns() {
        for bad in ["[abc", "{a,b", "a\\", "[z-a]"] {
            assert!(Glob::new(bad).is_err(), "{bad}");
            assert!(!matches(bad, bad), "{bad}");
        }
        let e = GlobPatterns::new(["*.md", "ok/**", "[bad"]).expect_err("invalid");
        assert_eq!(e.index, 2);
        assert!(e.to_string().starts_with("invalid glob #2"), "{e}");
    }

    #[test]
    fn sets() {
        let set = GlobPatterns::new(["docs/**", "*.md", "tmp/?"]).expect("valid");
        assert_eq!(set.len(), 3);
        assert!(set.matches_any("docs/x/y"));
        assert!(set.matches_any("README.md"));
        assert!(set.matches_any("tmp/a"));
        assert!(!set.matches_any("src/main.rs"));
        assert!(!set.matches_any("tmp/ab"));
        let empty = GlobPatterns::new(Vec::<String>::new()).expect("valid");
        assert!(empty.is_empty() && !empty.matches_any("x"));
        // Dynamic: a bad pattern matches nothing, the others still count.
        assert!(matches_any(["[bad", "*.md"], "a.md"));
        assert!(!matches_any(["[bad"], "[bad"));
    }
}
