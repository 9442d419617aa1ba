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
//! The folded phrases are compiled once into an Aho-Corasick DFA.
//! [`PhraseSet::contains_any`] folds the text as it feeds it to the DFA: one
//! pass over the text, no copy, stopping at the first match.
//! [`PhraseSet::find_all`] folds the text into a copy with an offset map and
//! searches it with a leftmost-longest automaton (built on first use), so it
//! reports spans in the original text (covering any zero-width characters
//! or extra whitespace inside the match).

use std::sync::OnceLock;

use aho_corasick::automaton::Automaton as _;
use aho_corasick::{AhoCorasick, Anchored, MatchKind};

use super::Finding;
use super::text::is_zero_width;

/// A compiled set of phrases. Building never fails; an empty set (or one of
/// empty phrases only) matches nothing.
#[derive(Debug, Clone)]
pub struct PhraseSet {
    /// The folded phrases, sorted and without duplicates; empty when no
    /// phrase can match.
    phrases: Vec<String>,
    /// For `contains_any`: the phrases as a DFA with standard semantics (a
    /// match state means some phrase ends here), or `None` when it would
    /// exceed aho-corasick's size limits.
    dfa: Option<aho_corasick::dfa::DFA>,
    /// For `find_all`, and for `contains_any` without a DFA: built on first
    /// use.
    leftmost: OnceLock<Matcher>,
}

#[derive(Debug, Clone)]
enum Matcher {
    /// The usual case.
    Automaton(AhoCorasick),
    /// Only if the automaton cannot be built (it would exceed
    /// aho-corasick's internal size limits): the folded phrases, searched
    /// one by one.
    Naive,
}

impl PhraseSet {
    /// Compiles `phrases` (see the module documentation for how they are
    /// folded).
    pub fn new<S: AsRef<str>>(phrases: impl IntoIterator<Item = S>) -> PhraseSet {
        PhraseSet::build(phrases, true)
    }

    /// Compiles `phrases`; with `dfa`, also the one-pass DFA when the set
    /// is small enough ([`DFA_MAX_BYTES`]) for its build to pay off.
    fn build<S: AsRef<str>>(phrases: impl IntoIterator<Item = S>, dfa: bool) -> PhraseSet {
        let mut folded: Vec<String> = phrases
            .into_iter()
            .map(|p| fold(p.as_ref().trim(), false).text.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect();
        folded.sort_unstable();
        folded.dedup();
        let bytes: usize = folded.iter().map(String::len).sum();
        let dfa = if folded.is_empty() || !dfa || bytes > DFA_MAX_BYTES {
            None
        } else {
            aho_corasick::dfa::DFA::builder()
                .match_kind(MatchKind::Standard)
                .build(&folded)
                .ok()
        };
        PhraseSet {
            phrases: folded,
            dfa,
            leftmost: OnceLock::new(),
        }
    }

    /// The leftmost-longest matcher, built on first use.
    fn leftmost(&self) -> &Matcher {
        self.leftmost.get_or_init(|| {
            match AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&self.phrases)
            {
                Ok(ac) => Matcher::Automaton(ac),
                Err(_) => Matcher::Naive,
            }
        })
    }

    /// The phrases folded, sorted, without duplicates or empty ones.
    pub(super) fn folded_phrases(&self) -> &[String] {
        &self.phrases
    }

    /// Whether no phrase can match.
    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty()
    }

    /// `text.contains_any(phrases)`: whether any phrase occurs in `text`.
    pub fn contains_any(&self, text: &str) -> bool {
        if self.phrases.is_empty() {
            return false;
        }
        if let Some(dfa) = &self.dfa
            && let Some(found) = scan(dfa, text)
        {
            return found;
        }
        let folded = fold(text, false).text;
        match self.leftmost() {
            Matcher::Automaton(ac) => ac.is_match(&folded),
            Matcher::Naive => self.phrases.iter().any(|p| folded.contains(p.as_str())),
        }
    }

    /// Every occurrence, leftmost first and, at one position, the longest
    /// phrase; occurrences do not overlap. Kind `phrase`; spans are in
    /// `text` (on `char` boundaries).
    pub fn find_all(&self, text: &str) -> Vec<Finding> {
        if self.phrases.is_empty() {
            return Vec::new();
        }
        let phrases = &self.phrases;
        let spans: Vec<(usize, usize)> = match self.leftmost() {
            Matcher::Automaton(ac) => {
                let folded = fold(text, true);
                ac.find_iter(&folded.text)
                    .map(|m| (m.start(), m.end()))
                    .collect::<Vec<_>>()
                    .into_iter()
                    .filter_map(|(s, e)| folded.original_span(text, s, e))
                    .collect()
            }
            Matcher::Naive => {
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
/// a [`PhraseSet`] for this one call, without the DFA, whose build would
/// cost more than the one search it serves).
pub fn contains_any<S: AsRef<str>>(text: &str, phrases: impl IntoIterator<Item = S>) -> bool {
    PhraseSet::build(phrases, false).contains_any(text)
}

/// The most folded phrase bytes a set compiles into the one-pass DFA (a
/// few thousand phrases); larger sets search a folded copy of the text
/// with aho-corasick's own choice of automaton.
pub(super) const DFA_MAX_BYTES: usize = 64 * 1024;

/// Whether a phrase of `dfa` occurs in `text` folded (as [`fold`] does),
/// folding while scanning: one pass, no copy. `None` if the DFA cannot
/// run an unanchored search (it always can, as built here).
fn scan(dfa: &aho_corasick::dfa::DFA, text: &str) -> Option<bool> {
    scan_folded(dfa, text, |_| true)
}

/// Texts from this length on are read by two readers at once (see
/// [`scan_folded`]).
const SPLIT_MIN: usize = 256;

/// One reader of a text for [`scan_folded`]: where it is, its DFA state,
/// and whether the last character it fed was whitespace.
struct Reader {
    i: usize,
    sid: aho_corasick::automaton::StateID,
    in_space: bool,
}

impl Reader {
    /// Feeds the ASCII byte `b`, folded; whether the DFA entered a match
    /// state.
    #[inline(always)]
    fn ascii(&mut self, dfa: &aho_corasick::dfa::DFA, b: u8) -> bool {
        fold_step(dfa, b, &mut self.sid, &mut self.in_space)
    }

    /// Feeds the character at `i`, any character, folded; `true` when
    /// `on_match` asked to stop.
    fn char(
        &mut self,
        dfa: &aho_corasick::dfa::DFA,
        text: &str,
        on_match: &mut impl FnMut(aho_corasick::automaton::StateID) -> bool,
    ) -> bool {
        let Some(c) = text.get(self.i..).and_then(|rest| rest.chars().next()) else {
            // Not on a character boundary: never, as readers start on one.
            self.i = text.len();
            return false;
        };
        self.i += c.len_utf8();
        if c.is_ascii() {
            return self.ascii(dfa, c as u8) && on_match(self.sid);
        }
        if is_zero_width(c) {
            return false;
        }
        let mut feed = |sid: &mut aho_corasick::automaton::StateID, byte: u8| {
            *sid = dfa.next_state(Anchored::No, *sid, byte);
            dfa.is_special(*sid) && dfa.is_match(*sid) && on_match(*sid)
        };
        if c.is_whitespace() {
            if self.in_space {
                return false;
            }
            self.in_space = true;
            return feed(&mut self.sid, b' ');
        }
        self.in_space = false;
        for lc in c.to_lowercase() {
            let lc = if lc == 'ς' { 'σ' } else { lc };
            let mut buf = [0u8; 4];
            for &byte in lc.encode_utf8(&mut buf).as_bytes() {
                if feed(&mut self.sid, byte) {
                    return true;
                }
            }
        }
        false
    }
}

/// Feeds the ASCII byte `b`, folded, to the DFA in state `sid`
/// (`in_space`: the last character fed was whitespace); whether it entered
/// a match state.
#[inline(always)]
fn fold_step(
    dfa: &aho_corasick::dfa::DFA,
    b: u8,
    sid: &mut aho_corasick::automaton::StateID,
    in_space: &mut bool,
) -> bool {
    // `char::is_whitespace` on ASCII: tab, line feed, vertical tab, form
    // feed, carriage return, space. No ASCII is zero-width.
    let byte = if matches!(b, b'\t'..=b'\r' | b' ') {
        if *in_space {
            return false;
        }
        *in_space = true;
        b' '
    } else {
        *in_space = false;
        b.to_ascii_lowercase()
    };
    *sid = dfa.next_state(Anchored::No, *sid, byte);
    dfa.is_special(*sid) && dfa.is_match(*sid)
}

/// Runs `dfa` over `text` folded (as [`fold`] does), folding while
/// scanning: one pass, no copy. At each match state `on_match` is told the
/// state; when it returns `true` the scan stops. Returns whether it was
/// stopped (`None` if the DFA cannot run an unanchored search).
///
/// A long text is read by two readers at once, one from the start and one
/// from the middle, so that the two chains of dependent table lookups
/// overlap in the processor. The second reader finds every occurrence that
/// starts from the middle on (what it reads, folded, is the rest of the
/// folded text: a whitespace run across the middle gives it the run's one
/// space). The first reader goes on past the middle until its DFA is back
/// in the start state, when no occurrence that started before the middle
/// can still be in progress (the state is the longest read suffix that
/// begins a needle). So every occurrence is seen, some twice, and matches
/// arrive out of text order; `on_match` must not mind.
// Never inlined: its hot loops keep the two DFA states in registers only
// when the function is compiled on its own (inlined into a caller under
// LTO, the states were spilled and the scan ran at half speed).
#[inline(never)]
pub(super) fn scan_folded(
    dfa: &aho_corasick::dfa::DFA,
    text: &str,
    mut on_match: impl FnMut(aho_corasick::automaton::StateID) -> bool,
) -> Option<bool> {
    let start = dfa.start_state(Anchored::No).ok()?;
    let bytes = text.as_bytes();
    let len = bytes.len();
    let mut mid = if len >= SPLIT_MIN { len / 2 } else { len };
    while !text.is_char_boundary(mid) {
        mid += 1;
    }
    let mut a = Reader {
        i: 0,
        sid: start,
        in_space: false,
    };
    let mut b = Reader {
        i: mid,
        sid: start,
        in_space: false,
    };
    let a_active = |a: &Reader| a.i < len && (a.i < mid || a.sid != start);
    loop {
        // The hot path: both readers on ASCII, one transition each a step,
        // on locals (kept in registers), written back before a match is
        // reported or the loop ends.
        {
            let (mut ia, mut sa, mut wa) = (a.i, a.sid, a.in_space);
            let (mut ib, mut sb, mut wb) = (b.i, b.sid, b.in_space);
            let mut matched = false;
            while ia < len && (ia < mid || sa != start) && ib < len {
                let (x, y) = (bytes[ia], bytes[ib]);
                if (x | y) >= 0x80 {
                    break;
                }
                ia += 1;
                ib += 1;
                let hit_a = fold_step(dfa, x, &mut sa, &mut wa);
                let hit_b = fold_step(dfa, y, &mut sb, &mut wb);
                if hit_a || hit_b {
                    matched = true;
                    break;
                }
            }
            (a.i, a.sid, a.in_space) = (ia, sa, wa);
            (b.i, b.sid, b.in_space) = (ib, sb, wb);
            if matched {
                let hit = |sid| dfa.is_special(sid) && dfa.is_match(sid);
                if (hit(a.sid) && on_match(a.sid)) || (hit(b.sid) && on_match(b.sid)) {
                    return Some(true);
                }
                continue;
            }
        }
        // One reader alone on ASCII, once the other is done.
        if b.i >= len {
            while a_active(&a)
                && let Some(&x) = bytes.get(a.i)
                && x.is_ascii()
            {
                a.i += 1;
                if a.ascii(dfa, x) && on_match(a.sid) {
                    return Some(true);
                }
            }
        } else if !a_active(&a) {
            while let Some(&y) = bytes.get(b.i)
                && y.is_ascii()
            {
                b.i += 1;
                if b.ascii(dfa, y) && on_match(b.sid) {
                    return Some(true);
                }
            }
        }
        // Then one character for each reader still reading (a non-ASCII
        // one, or the end).
        let (more_a, more_b) = (a_active(&a), b.i < len);
        if !more_a && !more_b {
            return Some(false);
        }
        if more_a && a.char(dfa, text, &mut on_match) {
            return Some(true);
        }
        if more_b && b.char(dfa, text, &mut on_match) {
            return Some(true);
        }
    }
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

/// `text` folded (see the module documentation).
pub(super) fn fold_text(text: &str) -> String {
    fold(text, false).text
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
    fn the_one_pass_scan_agrees_with_searching_a_folded_copy() {
        // Texts from pieces that exercise every folding rule, ASCII and
        // not, joined in every order by a small deterministic generator.
        let pieces = [
            "ignore",
            "IGNORE",
            "previous",
            " ",
            "   ",
            "\t",
            "\n",
            "\r\n",
            "\u{0B}",
            "\u{0C}",
            "\u{1C}",
            "\u{a0}",
            "\u{2003}",
            "\u{200B}",
            "\u{FEFF}",
            "\u{00AD}",
            "instructions",
            "İ",
            "stanbul",
            "ΟΔΟΣ",
            "οδος",
            "ς",
            "é",
            "É",
            "x",
            "-",
            "→",
        ];
        let phrases = [
            "ignore previous instructions",
            "i̇stanbul",
            "οδοσ",
            "e-x",
            "é é",
            "ignore\u{a0}previous",
        ];
        let set = PhraseSet::new(phrases);
        let dfa = set.dfa.as_ref().expect("a small set builds a DFA");
        let reference = AhoCorasick::new(&set.phrases).expect("builds");
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut matched = 0;
        for _ in 0..4000 {
            let mut text = String::new();
            for _ in 0..(state % 9) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push_str(pieces[(state % pieces.len() as u64) as usize]);
            }
            state = state.wrapping_mul(0x2545_F491_4F6C_DD1D).wrapping_add(1);
            let expected = reference.is_match(&fold(&text, false).text);
            matched += usize::from(expected);
            assert_eq!(scan(dfa, &text), Some(expected), "{text:?}");
            assert_eq!(set.contains_any(&text), expected, "{text:?}");
        }
        // Both outcomes occur, so the comparison says something.
        assert!(matched > 50 && matched < 3950, "{matched} of 4000 matched");
    }

    /// Long texts are read by two readers (one from the middle): an
    /// occurrence anywhere, straddling the middle with long runs of
    /// whitespace and zero-width characters inside it, or in a non-ASCII
    /// stretch, is found; and every phrase that occurs is reported to
    /// `on_match` (the fused scan needs them all).
    #[test]
    fn the_two_reader_scan_finds_occurrences_across_the_middle() {
        let set = PhraseSet::new(["ignore previous instructions", "abc", "οδοσ"]);
        let dfa = set.dfa.as_ref().expect("a DFA");
        let reference = AhoCorasick::new(&set.phrases).expect("builds");
        let fillers = ["x", "é", "ab ", "  ", "\u{200B}"];
        let occurrences = [
            "ignore previous instructions",
            "IGNORE      previous\u{200B}\t\n instructions",
            &format!("ignore{}previous instructions", " ".repeat(300)),
            &format!("ignore previous{}instructions", "\u{200B} ".repeat(150)),
            "ab\u{200B}c",
            "ΟΔΟΣ",
        ];
        let mut found = 0;
        for filler in fillers {
            for occurrence in occurrences {
                for before in (0..700).step_by(23) {
                    let text = format!(
                        "{}{occurrence}{}",
                        filler.repeat(before / filler.len().max(1)),
                        filler.repeat(40)
                    );
                    let expected = reference.is_match(&fold(&text, false).text);
                    assert_eq!(scan(dfa, &text), Some(expected), "{text:?}");
                    // Every phrase of the reference's matches is reported.
                    let mut seen = std::collections::BTreeSet::new();
                    scan_folded(dfa, &text, |sid| {
                        for m in 0..dfa.match_len(sid) {
                            seen.insert(dfa.match_pattern(sid, m).as_usize());
                        }
                        false
                    });
                    let all: std::collections::BTreeSet<usize> = reference
                        .find_overlapping_iter(&fold(&text, false).text)
                        .map(|m| m.pattern().as_usize())
                        .collect();
                    assert_eq!(seen, all, "{text:?}");
                    found += usize::from(expected);
                }
            }
        }
        assert!(found > 500, "{found}");
    }

    #[test]
    fn large_sets_and_dynamic_phrases_match_without_the_dfa() {
        let phrases: Vec<String> = (0..5000).map(|i| format!("phrase number {i:06}")).collect();
        let set = PhraseSet::new(&phrases);
        assert!(set.dfa.is_none(), "over {DFA_MAX_BYTES} bytes");
        assert!(set.contains_any("say PHRASE  number 004321 now"));
        assert!(!set.contains_any("a phrase number 00 cut short"));
        let small = PhraseSet::new(["a b"]);
        assert!(small.dfa.is_some());
        assert!(PhraseSet::build(["a b"], false).dfa.is_none());
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
