//! The standard builtins: each [`Builtin`] id wired to its function in
//! [`crate::builtins`], adapting Pol values to Rust types.
//!
//! Phrase sets, regexes and globs are compiled on each call here; compiling
//! a program's constant sets once, at load time, is the job of the engine
//! that owns the program (it substitutes its own [`Builtins`]).

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;

use pol_ir::Builtin;

use crate::builtins::{self, Finding};
use crate::interp::{Builtins, EvalError};
use crate::value::{FindingValue, Value};

/// The builtins as the standard library defines them.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdBuiltins;

type Result<T> = std::result::Result<T, EvalError>;

fn fail<T>(id: Builtin, problem: impl std::fmt::Display) -> Result<T> {
    Err(EvalError(format!(
        "builtin `{}`: {problem}",
        pol_ir::builtins::signature(id).name
    )))
}

fn string(id: Builtin, value: Option<&Value>) -> Result<&str> {
    match value {
        Some(Value::String(s)) => Ok(s),
        _ => fail(id, "expected a string argument"),
    }
}

fn int(id: Builtin, value: Option<&Value>) -> Result<i64> {
    match value {
        Some(Value::Int(n)) => Ok(*n),
        _ => fail(id, "expected an int argument"),
    }
}

fn float(id: Builtin, value: Option<&Value>) -> Result<f64> {
    match value {
        Some(Value::Float(f)) => Ok(*f),
        _ => fail(id, "expected a float argument"),
    }
}

fn elements(id: Builtin, value: Option<&Value>) -> Result<&[Value]> {
    match value.and_then(Value::elements) {
        Some(items) => Ok(items),
        None => fail(id, "expected a list or set argument"),
    }
}

fn strings(id: Builtin, value: Option<&Value>) -> Result<Vec<&str>> {
    elements(id, value)?
        .iter()
        .map(|v| match v {
            Value::String(s) => Ok(&**s),
            _ => fail(id, "expected strings"),
        })
        .collect()
}

/// Count to Pol int (saturating: no collection in memory has `i64::MAX`
/// elements).
fn count(n: usize) -> Value {
    Value::Int(builtins::to_int(n))
}

/// Findings of `text` as Pol values.
fn findings(text: &str, found: Vec<Finding>) -> Value {
    Value::List(
        found
            .into_iter()
            .map(|f| {
                Value::Finding(Arc::new(FindingValue {
                    kind: Arc::from(f.kind),
                    start: builtins::to_int(f.start),
                    end: builtins::to_int(f.end),
                    text: Arc::from(f.text(text)),
                }))
            })
            .collect(),
    )
}

impl Builtins for StdBuiltins {
    fn call(&self, id: Builtin, args: &[Value]) -> Result<Value> {
        // A builtin must never take the host down: a panic in one becomes an
        // evaluation error.
        std::panic::catch_unwind(|| call(id, args)).unwrap_or_else(|_| fail(id, "internal error"))
    }

    fn standard_string_tests(&self) -> bool {
        true
    }
}

fn call(id: Builtin, args: &[Value]) -> Result<Value> {
    use Builtin as B;
    let arg = |i: usize| args.get(i);
    Ok(match id {
        B::StrLen => count(builtins::text::len(string(id, arg(0))?)),
        B::StrCharCount => count(builtins::text::char_count(string(id, arg(0))?)),
        B::StrLower => Value::string(&builtins::text::lower(string(id, arg(0))?)),
        B::StrUpper => Value::string(&builtins::text::upper(string(id, arg(0))?)),
        B::StrTrim => Value::string(builtins::text::trim(string(id, arg(0))?)),
        B::StrContains => Value::Bool(builtins::text::contains(
            string(id, arg(0))?,
            string(id, arg(1))?,
        )),
        B::StrStartsWith => Value::Bool(builtins::text::starts_with(
            string(id, arg(0))?,
            string(id, arg(1))?,
        )),
        B::StrEndsWith => Value::Bool(builtins::text::ends_with(
            string(id, arg(0))?,
            string(id, arg(1))?,
        )),
        B::StrContainsAny => Value::Bool(builtins::phrase::contains_any(
            string(id, arg(0))?,
            strings(id, arg(1))?,
        )),
        B::StrMatches => match builtins::pattern::matches(string(id, arg(0))?, string(id, arg(1))?)
        {
            Ok(b) => Value::Bool(b),
            Err(e) => return fail(id, e),
        },
        B::StrMatchesAny => {
            match builtins::pattern::matches_any(string(id, arg(0))?, strings(id, arg(1))?) {
                Ok(b) => Value::Bool(b),
                Err(e) => return fail(id, e),
            }
        }
        B::StrFindAll => {
            let text = string(id, arg(0))?;
            match builtins::pattern::find_all(text, string(id, arg(1))?) {
                Ok(found) => findings(text, found),
                Err(e) => return fail(id, e),
            }
        }
        B::StrWordCount => count(builtins::text::word_count(string(id, arg(0))?)),
        B::StrTokenCount => count(builtins::text::token_count(string(id, arg(0))?)),
        B::StrSplit => Value::List(
            builtins::text::split(string(id, arg(0))?, string(id, arg(1))?)
                .into_iter()
                .map(Value::string)
                .collect(),
        ),
        B::StrReplace => match builtins::text::replace(
            string(id, arg(0))?,
            string(id, arg(1))?,
            string(id, arg(2))?,
        ) {
            Some(s) => Value::string(&s),
            None => return fail(id, "the result would be larger than the string limit"),
        },
        B::CollLen => count(elements(id, arg(0))?.len()),
        B::CollIsEmpty => Value::Bool(elements(id, arg(0))?.is_empty()),
        B::CollContains => {
            let x = arg(1).ok_or_else(|| EvalError("contains: missing argument".into()))?;
            Value::Bool(builtins::collections::contains(elements(id, arg(0))?, x))
        }
        B::CollIntersects => Value::Bool(builtins::collections::intersects(
            elements(id, arg(0))?,
            elements(id, arg(1))?,
        )),
        B::CollIsSubset => Value::Bool(builtins::collections::is_subset(
            elements(id, arg(0))?,
            elements(id, arg(1))?,
        )),
        B::ListFirst => builtins::collections::first(elements(id, arg(0))?)
            .cloned()
            .unwrap_or(Value::None),
        B::ListLast => builtins::collections::last(elements(id, arg(0))?)
            .cloned()
            .unwrap_or(Value::None),
        B::CollSum | B::CollMin | B::CollMax => numeric_fold(id, elements(id, arg(0))?)?,
        B::MapLen | B::MapIsEmpty | B::MapContainsKey | B::MapKeys | B::MapValues => {
            let Some(Value::Map(map)) = arg(0) else {
                return fail(id, "expected a map");
            };
            match id {
                B::MapLen => count(map.len()),
                B::MapIsEmpty => Value::Bool(map.is_empty()),
                B::MapContainsKey => Value::Bool(map.contains_key(string(id, arg(1))?)),
                B::MapKeys => Value::List(map.keys().map(|k| Value::String(k.clone())).collect()),
                _ => Value::List(map.values().cloned().collect()),
            }
        }
        B::IntAbs => match builtins::numbers::int_abs(int(id, arg(0))?) {
            Some(n) => Value::Int(n),
            None => return fail(id, "integer overflow"),
        },
        B::IntToFloat => Value::Float(builtins::numbers::int_to_float(int(id, arg(0))?)),
        B::FloatAbs => Value::Float(builtins::numbers::float_abs(float(id, arg(0))?)),
        B::FloatFloor | B::FloatCeil | B::FloatRound => {
            let mode = match id {
                B::FloatFloor => builtins::numbers::Rounding::Floor,
                B::FloatCeil => builtins::numbers::Rounding::Ceil,
                _ => builtins::numbers::Rounding::Round,
            };
            let f = float(id, arg(0))?;
            match builtins::numbers::float_to_int(f, mode) {
                Some(n) => Value::Int(n),
                None => return fail(id, format!("{f} has no int value")),
            }
        }
        B::DurationSeconds | B::DurationMillis => {
            let Some(Value::Duration(n)) = arg(0) else {
                return fail(id, "expected a duration");
            };
            Value::Int(if id == B::DurationSeconds {
                builtins::numbers::duration_seconds(*n)
            } else {
                builtins::numbers::duration_millis(*n)
            })
        }
        B::TimestampUnixSeconds => {
            let Some(Value::Timestamp(n)) = arg(0) else {
                return fail(id, "expected a timestamp");
            };
            Value::Int(builtins::numbers::timestamp_unix_seconds(*n))
        }
        B::TextEntropy => Value::Float(builtins::text::entropy(string(id, arg(0))?)),
        B::TextNormalize => Value::string(&builtins::text::normalize(string(id, arg(0))?)),
        B::TextJoin => match builtins::text::join(strings(id, arg(0))?, string(id, arg(1))?) {
            Some(s) => Value::string(&s),
            None => return fail(id, "the result would be larger than the string limit"),
        },
        B::TextRedact => {
            let text = string(id, arg(0))?;
            let mut spans = Vec::new();
            for item in elements(id, arg(1))? {
                let Value::Finding(f) = item else {
                    return fail(id, "expected findings");
                };
                spans.push(f.clone());
            }
            Value::string(&builtins::text::redact(
                text,
                spans.iter().map(|f| (&*f.kind, f.start, f.end)),
            ))
        }
        B::PiiScan => scan(id, args, builtins::pii::scan)?,
        B::PiiEmails => scan(id, args, builtins::pii::emails)?,
        B::PiiPhones => scan(id, args, builtins::pii::phones)?,
        B::PiiSsns => scan(id, args, builtins::pii::ssns)?,
        B::PiiIbans => scan(id, args, builtins::pii::ibans)?,
        B::PiiCards => scan(id, args, builtins::pii::cards)?,
        B::PiiIps => scan(id, args, builtins::pii::ips)?,
        B::SecretsScan => scan(id, args, builtins::secrets::scan)?,
        B::SecretsHighEntropy => {
            let text = string(id, arg(0))?;
            findings(
                text,
                builtins::secrets::high_entropy(text, int(id, arg(1))?, float(id, arg(2))?),
            )
        }
        B::UrlIsValid => Value::Bool(builtins::url::is_valid(string(id, arg(0))?)),
        B::UrlHost => Value::string(&builtins::url::host(string(id, arg(0))?)),
        B::UrlScheme => Value::string(&builtins::url::scheme(string(id, arg(0))?)),
        B::UrlPath => Value::string(&builtins::url::path(string(id, arg(0))?)),
        B::UrlPort => builtins::url::port(string(id, arg(0))?)
            .map_or(Value::None, |p| Value::Int(i64::from(p))),
        B::UrlHostMatches => Value::Bool(builtins::url::host_matches(
            string(id, arg(0))?,
            strings(id, arg(1))?,
        )),
        B::GlobMatches => Value::Bool(builtins::glob::matches(
            string(id, arg(0))?,
            string(id, arg(1))?,
        )),
        B::GlobMatchesAny => Value::Bool(builtins::glob::matches_any(
            strings(id, arg(0))?,
            string(id, arg(1))?,
        )),
        B::TimeParse => {
            builtins::time::parse(string(id, arg(0))?).map_or(Value::None, Value::Timestamp)
        }
        B::TimeParseDuration => {
            builtins::time::parse_duration(string(id, arg(0))?).map_or(Value::None, Value::Duration)
        }
    })
}

fn scan(id: Builtin, args: &[Value], detector: fn(&str) -> Vec<Finding>) -> Result<Value> {
    let text = string(id, args.first())?;
    Ok(findings(text, detector(text)))
}

/// `sum`, `min` and `max` over ints, floats or durations.
fn numeric_fold(id: Builtin, items: &[Value]) -> Result<Value> {
    use builtins::numbers as n;
    let ints = || {
        items.iter().filter_map(|v| {
            if let Value::Int(i) = v {
                Some(*i)
            } else {
                None
            }
        })
    };
    let durations = || {
        items.iter().filter_map(|v| {
            if let Value::Duration(i) = v {
                Some(*i)
            } else {
                None
            }
        })
    };
    let floats = || {
        items.iter().filter_map(|v| {
            if let Value::Float(f) = v {
                Some(*f)
            } else {
                None
            }
        })
    };
    let kind = items.first();
    Ok(match (id, kind) {
        (_, None) if id == Builtin::CollSum => Value::Int(0),
        (_, None) => Value::None,
        (Builtin::CollSum, Some(Value::Int(_))) => match n::checked_sum_i64(ints()) {
            Some(s) => Value::Int(s),
            None => return fail(id, "integer overflow"),
        },
        (Builtin::CollSum, Some(Value::Duration(_))) => match n::checked_sum_i64(durations()) {
            Some(s) => Value::Duration(s),
            None => return fail(id, "duration overflow"),
        },
        (Builtin::CollSum, Some(Value::Float(_))) => Value::Float(n::sum_f64(floats())),
        (Builtin::CollMin, Some(Value::Int(_))) => {
            n::min_i64(ints()).map_or(Value::None, Value::Int)
        }
        (Builtin::CollMax, Some(Value::Int(_))) => {
            n::max_i64(ints()).map_or(Value::None, Value::Int)
        }
        (Builtin::CollMin, Some(Value::Duration(_))) => {
            n::min_i64(durations()).map_or(Value::None, Value::Duration)
        }
        (Builtin::CollMax, Some(Value::Duration(_))) => {
            n::max_i64(durations()).map_or(Value::None, Value::Duration)
        }
        (Builtin::CollMin, Some(Value::Float(_))) => {
            n::min_f64(floats()).map_or(Value::None, Value::Float)
        }
        (Builtin::CollMax, Some(Value::Float(_))) => {
            n::max_f64(floats()).map_or(Value::None, Value::Float)
        }
        _ => return fail(id, "expected numbers"),
    })
}

/// The standard builtins with the phrase sets and regex lists of a
/// program's params compiled once, at load time. A call whose set is a
/// param's value (the same shared collection) uses the compiled matcher;
/// any other set is compiled for the call. The tables are immutable after
/// construction: evaluations read them without a lock.
#[derive(Debug, Default)]
pub struct CompiledBuiltins {
    phrases: std::collections::HashMap<usize, builtins::phrase::PhraseSet>,
    patterns: std::collections::HashMap<usize, builtins::pattern::PatternSet>,
    /// Single regexes (`matches`, `find_all`) among the string params and
    /// the regex literals the compiler hoisted into constants, by the
    /// identity of their shared text.
    regexes: std::collections::HashMap<usize, builtins::pattern::Pattern>,
    /// One-pass scans of a phrase set and a pattern set that the program
    /// applies to the same text, by the identities of the two sets
    /// ([`CompiledBuiltins::fuse`]).
    fused: Vec<((usize, usize), builtins::scan::FusedScan)>,
}

/// One evaluation's answers of fused scans, by text (its address and
/// length, stable for the evaluation) and scan: the second of
/// `contains_any`/`matches_any` on a text reads what the first one's pass
/// found. Holds the last four texts; nothing is allocated. (Atomics only
/// because a host must be `Sync`: one evaluation uses it, on one thread.)
#[derive(Debug, Default)]
pub struct ScanCache {
    /// Text address (0: empty entry), text length, scan index and answers
    /// (`index << 2 | phrase << 1 | pattern`).
    entries: [[AtomicUsize; 3]; 4],
    next: AtomicUsize,
}

impl ScanCache {
    /// The answers of scan `index` (`scan`) for `text`, scanned now unless
    /// this evaluation already did.
    fn answers(
        &self,
        text: &str,
        index: usize,
        scan: &builtins::scan::FusedScan,
    ) -> builtins::scan::Answers {
        let (address, len) = (text.as_ptr() as usize, text.len());
        for [a, l, word] in &self.entries {
            let word = word.load(Relaxed);
            if a.load(Relaxed) == address && l.load(Relaxed) == len && word >> 2 == index {
                return builtins::scan::Answers {
                    phrase: word & 2 != 0,
                    pattern: word & 1 != 0,
                };
            }
        }
        let answers = scan.scan(text);
        let slot = self.next.fetch_add(1, Relaxed) % self.entries.len();
        let [a, l, word] = &self.entries[slot];
        a.store(address, Relaxed);
        l.store(len, Relaxed);
        word.store(
            index << 2 | usize::from(answers.phrase) << 1 | usize::from(answers.pattern),
            Relaxed,
        );
        answers
    }
}

/// The identity of a string value: its shared text.
fn text_identity(value: Option<&Value>) -> Option<usize> {
    match value {
        Some(Value::String(s)) if !s.is_empty() => Some(s.as_ptr() as usize),
        _ => None,
    }
}

/// The identity of a collection value: its shared storage.
fn identity(value: Option<&Value>) -> Option<usize> {
    value
        .and_then(Value::elements)
        .map(|items| items.as_ptr() as usize)
}

impl CompiledBuiltins {
    /// Compiles the string collections among `params`.
    pub fn for_params(params: &[Value]) -> CompiledBuiltins {
        let mut compiled = CompiledBuiltins::default();
        for value in params {
            // A string that is not a valid regex is simply not compiled; a
            // call with it reports the error.
            if let (Value::String(text), Some(key)) = (value, text_identity(Some(value))) {
                if let Ok(pattern) = builtins::pattern::Pattern::new(text) {
                    compiled.regexes.insert(key, pattern);
                }
                continue;
            }
            // Error messages unused: a collection that is not of strings is skipped.
            let (Ok(strings), Some(key)) = (
                strings(Builtin::StrContainsAny, Some(value)),
                identity(Some(value)),
            ) else {
                continue;
            };
            compiled.phrases.insert(
                key,
                builtins::phrase::PhraseSet::new(strings.iter().copied()),
            );
            // A list that is not a valid regex list is simply not
            // precompiled; a call with it reports the regex error.
            if let Ok(set) = builtins::pattern::PatternSet::new(strings.iter().copied()) {
                compiled.patterns.insert(key, set);
            }
        }
        compiled
    }
}

impl CompiledBuiltins {
    /// Builds the one-pass scan of `(phrases, patterns)` pairs, two
    /// collections compiled here that the program applies to the same text
    /// ([`fusable_pairs`]), each set in at most one pair (the first). A
    /// pair that cannot be fused (a pattern list that does not compile, too
    /// many patterns, too large an automaton) keeps its two separate
    /// matchers.
    pub fn fuse<'v>(&mut self, pairs: impl IntoIterator<Item = (&'v Value, &'v Value)>) {
        for (phrases, patterns) in pairs {
            let (Some(p), Some(r)) = (identity(Some(phrases)), identity(Some(patterns))) else {
                continue;
            };
            // Each set in one fused scan at most: a call finds its set's
            // scan by the set alone, so a second scan of it would be built
            // and never used.
            if self.fused.iter().any(|((fp, fr), _)| *fp == p || *fr == r) {
                continue;
            }
            let (Some(set), Ok(texts)) = (
                self.phrases.get(&p),
                strings(Builtin::StrMatchesAny, Some(patterns)),
            ) else {
                continue;
            };
            if let Some(scan) = builtins::scan::FusedScan::new(set, &texts) {
                self.fused.push(((p, r), scan));
            }
        }
    }

    /// How many phrase and pattern set pairs are scanned in one pass.
    pub fn fused_scans(&self) -> usize {
        self.fused.len()
    }

    /// How many param collections have a compiled phrase set.
    pub fn compiled_sets(&self) -> usize {
        self.phrases.len()
    }

    /// Whether calls with this collection (or this regex text) use a
    /// precompiled matcher.
    pub fn is_precompiled(&self, collection: &Value) -> bool {
        identity(Some(collection)).is_some_and(|key| self.phrases.contains_key(&key))
            || text_identity(Some(collection)).is_some_and(|key| self.regexes.contains_key(&key))
    }
}

impl Builtins for CompiledBuiltins {
    fn call(&self, id: Builtin, args: &[Value]) -> Result<Value> {
        let precompiled = identity(args.get(1));
        match (id, precompiled) {
            (Builtin::StrContainsAny, Some(key)) if self.phrases.contains_key(&key) => {
                let text = string(id, args.first())?;
                Ok(Value::Bool(
                    self.phrases
                        .get(&key)
                        .is_some_and(|set| set.contains_any(text)),
                ))
            }
            (Builtin::StrMatchesAny, Some(key)) if self.patterns.contains_key(&key) => {
                let text = string(id, args.first())?;
                Ok(Value::Bool(
                    self.patterns
                        .get(&key)
                        .is_some_and(|set| set.matches_any(text)),
                ))
            }
            (Builtin::StrMatches | Builtin::StrFindAll, _) => {
                match text_identity(args.get(1)).and_then(|key| self.regexes.get(&key)) {
                    Some(pattern) => {
                        let text = string(id, args.first())?;
                        Ok(if id == Builtin::StrMatches {
                            Value::Bool(pattern.is_match(text))
                        } else {
                            findings(text, pattern.find_all(text))
                        })
                    }
                    None => StdBuiltins.call(id, args),
                }
            }
            _ => StdBuiltins.call(id, args),
        }
    }

    fn standard_string_tests(&self) -> bool {
        true
    }

    fn set_test(&self, id: Builtin, text: &str, set: &Value, scans: &ScanCache) -> Option<bool> {
        let key = identity(Some(set))?;
        match id {
            Builtin::StrContainsAny => {
                let phrases = self.phrases.get(&key)?;
                Some(match self.fused.iter().position(|((p, _), _)| *p == key) {
                    Some(i) => scans.answers(text, i, &self.fused[i].1).phrase,
                    None => phrases.contains_any(text),
                })
            }
            Builtin::StrMatchesAny => {
                let patterns = self.patterns.get(&key)?;
                Some(match self.fused.iter().position(|((_, r), _)| *r == key) {
                    Some(i) => scans.answers(text, i, &self.fused[i].1).pattern,
                    None => patterns.matches_any(text),
                })
            }
            _ => None,
        }
    }
}

/// The pairs of a phrase set and a pattern set (params, or lets known at
/// load) that some body of `program` applies to the same text:
/// `t.contains_any(P)` and `t.matches_any(R)` with `t` the same path (a
/// local, a param or a let, and fields of it). Their scans can share one
/// pass ([`CompiledBuiltins::fuse`]).
pub fn fusable_pairs<'v>(
    program: &pol_ir::ir::Program,
    params: &'v [Value],
    lets: &'v [Option<Value>],
) -> Vec<(&'v Value, &'v Value)> {
    use pol_ir::ir::{Body, NodeId, Op};
    fn path(body: &Body, node: NodeId) -> Option<String> {
        match &body.nodes.get(node.0 as usize)?.op {
            Op::Local(slot) => Some(format!("l{}", slot.0)),
            Op::Param(i) => Some(format!("p{i}")),
            Op::Let(i) => Some(format!("t{i}")),
            Op::Field { base, index } => Some(format!("{}.{index}", path(body, *base)?)),
            _ => None,
        }
    }
    let known = |body: &Body, node: NodeId| -> Option<&'v Value> {
        match &body.nodes.get(node.0 as usize)?.op {
            Op::Param(i) => params.get(*i as usize),
            Op::Let(i) => lets.get(*i as usize)?.as_ref(),
            _ => None,
        }
    };
    let bodies =
        (program.policies.iter().map(|p| &p.body)).chain(program.lets.iter().map(|l| &l.value));
    let mut pairs: Vec<(&'v Value, &'v Value)> = Vec::new();
    for body in bodies {
        let mut phrase_calls = Vec::new();
        let mut pattern_calls = Vec::new();
        for node in &body.nodes {
            let Op::Builtin { id, args } = &node.op else {
                continue;
            };
            let (Some(text), Some(set)) = (args.first(), args.get(1)) else {
                continue;
            };
            let (Some(text), Some(set)) = (path(body, *text), known(body, *set)) else {
                continue;
            };
            match id {
                Builtin::StrContainsAny => phrase_calls.push((text, set)),
                Builtin::StrMatchesAny => pattern_calls.push((text, set)),
                _ => {}
            }
        }
        for (text, phrases) in &phrase_calls {
            for (other, patterns) in &pattern_calls {
                if text == other {
                    pairs.push((phrases, patterns));
                }
            }
        }
    }
    pairs
}
