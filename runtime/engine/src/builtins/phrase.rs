//! `s.contains_any(phrases)`: phrase matching that ignores case, runs of
//! whitespace and zero-width characters.
//!
//! Both the phrases and the text are *folded* the same way:
//!
//! * zero-width characters ([`super::text::is_zero_width`]) are dropped;
//! * every run of whitespace (`char::is_whitespace`) becomes one space;
//! * every character is lowercased on its own (`char::to_lowercase`), and
//!   the final sigma `ς` is folded to `σ` so that Greek matches either way.
//!
//! Phrases are also trimmed; a phrase that folds to nothing (`""`, `"  "`)
//! is dropped, so it matches nothing (rather than everything). Matching is by
//! substring, not by word: the phrase `"ignore previous"` occurs in
//! `"xignore previousy"`. Lowercasing is not full case folding: `"STRASSE"`
//! does not match `"straße"`.
//!
//! The folded phrases are compiled once into one Aho-Corasick automaton;
//! the text is folded into a copy with an offset map, so [`PhraseSet::find_all`]
//! reports spans in the original text (covering any zero-width characters
//! or extra whitespace inside the match).

use aho_corasick::{AhoCorasick, MatchKind};

use super::Finding;
use super::text::is_zero_width;

/// A compiled set of phrases. Building never fails; an empty set (or one of
/// empty phrases only) matches nothing.
#[derive(Debug, Clone)]
pub struct PhraseSet {
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    /// No phrase: nothing matches.
    Empty,
    /// The usual case.
    Automaton(AhoCorasick),
    /// Only if the automaton cannot be built (it would exceed
    /// aho-corasick's internal size limits): the folded phrases, searched
    /// one by one.
    Naive(Vec<String>),
}

impl PhraseSet {
    /// Compiles `phrases` (see the module documentation for how they are
    /// folded).
    pub fn new<S: AsRef<str>>(phrases: impl IntoIterator<Item = S>) -> PhraseSet {
        let mut folded: Vec<String> = phrases
            .into_iter()
            .map(|p| fold(p.as_ref().trim(), false).text.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect();
        folded.sort_unstable();
        folded.dedup();
        let matcher = if folded.is_empty() {
            Matcher::Empty
        } else {
            match AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&folded)
            {
                Ok(ac) => Matcher::Automaton(ac),
                Err(_) => Matcher::Naive(folded),
            }
        };
        PhraseSet { matcher }
    }

    /// Whether no phrase can match.
    pub fn is_empty(&self) -> bool {
        matches!(self.matcher, Matcher::Empty)
    }

    /// `text.contains_any(phrases)`: whether any phrase occurs in `text`.
    pub fn contains_any(&self, text: &str) -> bool {
        match &self.matcher {
            Matcher::Empty => false,
            Matcher::Automaton(ac) => ac.is_match(&fold(text, false).text),
            Matcher::Naive(phrases) => {
                let folded = fold(text, false).text;
                phrases.iter().any(|p| folded.contains(p.as_str()))
            }
        }
    }

    /// Every occurrence, leftmost first and, at one position, the longest
    /// phrase; occurrences do not overlap. Kind `phrase`; spans are in
    /// `text` (on `char` boundaries).
    pub fn find_all(&self, text: &str) -> Vec<Finding> {
        let spans: Vec<(usize, usize)> = match &self.matcher {
            Matcher::Empty => return Vec::new(),
            Matcher::Automaton(ac) => {
                let folded = fold(text, true);
                ac.find_iter(&folded.text)
                    .map(|m| (m.start(), m.end()))
                    .collect::<Vec<_>>()
                    .into_iter()
                    .filter_map(|(s, e)| folded.original_span(text, s, e))
                    .collect()
            }
            Matcher::Naive(phrases) => {
                let folded = fold(text, true);
                let mut found: Vec<(usize, usize)> = Vec::new();
                let mut at = 0;
                while at < folded.text.len() {
                    let best = phrases
                        .iter()
                        .filter_map(|p| {
                            folded.text[at..]
                                .find(p.as_str())
                                .map(|i| (at + i, at + i + p.len()))
                        })
                        .min_by_key(|&(s, e)| (s, std::cmp::Reverse(e)));
                    let Some((s, e)) = best else { break };
                    found.extend(folded.original_span(text, s, e));
                    at = e;
                }
                found
            }
        };
        let mut out: Vec<Finding> = Vec::with_capacity(spans.len());
        for (start, end) in spans {
            // Two matches in the folded text can come from one character
            // that lowercases to several (`İ`); never report overlaps.
            if out.last().is_none_or(|last| last.end <= start) {
                out.push(Finding::new("phrase", start, end));
            }
        }
        out
    }
}

/// `s.contains_any(phrases)` with a dynamic phrase collection (compiles
/// a [`PhraseSet`] for this one call).
pub fn contains_any<S: AsRef<str>>(text: &str, phrases: impl IntoIterator<Item = S>) -> bool {
    PhraseSet::new(phrases).contains_any(text)
}

/// A folded copy of a text.
struct Folded {
    text: String,
    /// For each byte of `text`, the byte offset in the original of the
    /// character it came from (empty when not asked for).
    source: Vec<usize>,
}

impl Folded {
    /// The original span of the folded span `start..end`: from the start of
    /// the character that produced byte `start` to the end of the one that
    /// produced byte `end - 1`.
    fn original_span(&self, original: &str, start: usize, end: usize) -> Option<(usize, usize)> {
        let first = *self.source.get(start)?;
        let last = *self.source.get(end.checked_sub(1)?)?;
        let last_len = original.get(last..)?.chars().next()?.len_utf8();
        let end = last + last_len;
        (first < end).then_some((first, end))
    }
}

/// Folds `text` (see the module documentation); with `map`, records the
/// offset map.
fn fold(text: &str, map: bool) -> Folded {
    let mut out = String::with_capacity(text.len());
    let mut source = Vec::with_capacity(if map { text.len() } else { 0 });
    let mut in_space = false;
    for (i, c) in text.char_indices() {
        if is_zero_width(c) {
            continue;
        }
        if c.is_whitespace() {
            if !in_space {
                out.push(' ');
                if map {
                    source.push(i);
                }
                in_space = true;
            }
            continue;
        }
        in_space = false;
        for lc in c.to_lowercase() {
            let lc = if lc == 'ς' { 'σ' } else { lc };
            out.push(lc);
            if map {
                source.extend(std::iter::repeat_n(i, lc.len_utf8()));
            }
        }
    }
    Folded { text: out, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(set: &PhraseSet, text: &str) -> Vec<String> {
        set.find_all(text)
            .iter()
            .map(|f| f.text(text).to_string())
            .collect()
    }

    #[test]
    fn case_whitespace_and_zero_width_are_ignored() {
        let set = PhraseSet::new(["ignore previous instructions", "system prompt"]);
        assert!(set.contains_any("Please IGNORE previous instructions now"));
        assert!(set.contains_any("ignore   previous\ninstructions"));
        assert!(set.contains_any("ignore\tprevious \r\n instructions"));
        assert!(set.contains_any("ig\u{200B}nore pre\u{00AD}vious instruc\u{FEFF}tions"));
        assert!(set.contains_any("reveal your System\u{a0}Prompt"));
        assert!(!set.contains_any("ignore the previous instructions"));
        assert!(!set.contains_any("ignoreprevious instructions"));
        assert!(!set.contains_any(""));
        // Zero-width characters between words do not stand for a space.
        assert!(!set.contains_any("ignore\u{200B}previous instructions"));
    }

    #[test]
    fn phrases_are_folded_too() {
        let set = PhraseSet::new(["  Ignore\n PREVIOUS  ", "dis\u{200B}regard"]);
        assert!(set.contains_any("ignore previous"));
        assert!(set.contains_any("DISREGARD all"));
        let greek = PhraseSet::new(["ΟΔΟΣ"]);
        assert!(greek.contains_any("η οδος"));
        assert!(greek.contains_any("Η ΟΔΟΣ ΕΙΝΑΙ"));
    }

    #[test]
    fn empty_sets_and_phrases_match_nothing() {
        let none: [&str; 0] = [];
        assert!(PhraseSet::new(none).is_empty());
        assert!(!PhraseSet::new(none).contains_any("anything"));
        let blank = PhraseSet::new(["", "  ", "\u{200B}"]);
        assert!(blank.is_empty());
        assert!(!blank.contains_any("anything"));
        assert!(blank.find_all("anything").is_empty());
    }

    #[test]
    fn substring_semantics() {
        let set = PhraseSet::new(["jailbreak"]);
        assert!(set.contains_any("JAILBREAKING is fun"));
        assert!(!set.contains_any("jail break"));
    }

    #[test]
    fn find_all_reports_original_spans() {
        let set = PhraseSet::new(["ignore previous instructions", "ignore"]);
        let text = "Ok. IGNORE   previous\n\u{200B}instructions! And ignore me.";
        let found = set.find_all(text);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].kind, "phrase");
        assert_eq!(
            found[0].text(text),
            "IGNORE   previous\n\u{200B}instructions"
        );
        assert_eq!(found[1].text(text), "ignore");
        assert_eq!(spans(&set, "x"), Vec::<String>::new());
    }

    #[test]
    fn find_all_with_multibyte_lowercase() {
        let set = PhraseSet::new(["i̇stanbul", "ÉTÉ"]);
        let text = "→ İSTANBUL, été";
        assert_eq!(spans(&set, text), ["İSTANBUL", "été"]);
        for f in set.find_all(text) {
            assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
        }
    }

    #[test]
    fn dynamic_helper() {
        assert!(contains_any(
            "Do Anything Now",
            vec!["do anything now".to_string()]
        ));
        assert!(!contains_any("hello", ["bye"]));
    }
}
