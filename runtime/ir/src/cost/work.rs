//! What one operation costs beyond its one step, as a function of its
//! operands' measures.
//!
//! Each formula is written once, generic over [`Measure`]: the static
//! analysis evaluates it on polynomial bounds ([`Poly`]) and the
//! interpreter, when it counts its steps, on the actual values' measures
//! (`u64`). The formulas are monotone, so bounds in give a bound out: the
//! property test `tests/tests/cost_bound.rs` checks that the counted steps
//! never exceed the bound.
//!
//! The unit is one *step*: evaluating one node, visiting one element, or
//! touching one byte of a string or one unit of weight of a compound value
//! (see [`super::size`] for weights). Logarithmic factors (a lookup in a
//! sorted map) are not counted.

use crate::builtins::Builtin;
use crate::ir::{BinaryOp, Policy, Program};

use super::poly::Poly;

/// A quantity the formulas compute with: a polynomial bound, or an actual
/// count.
pub trait Measure: Clone {
    /// A constant.
    fn of(c: u64) -> Self;
    /// `self + other`.
    fn plus(&self, other: &Self) -> Self;
    /// `self × other`.
    fn times(&self, other: &Self) -> Self;
    /// The smaller (for bounds: either, both being sound).
    fn least(&self, other: &Self) -> Self;
}

impl Measure for u64 {
    fn of(c: u64) -> u64 {
        c
    }
    fn plus(&self, other: &u64) -> u64 {
        self.saturating_add(*other)
    }
    fn times(&self, other: &u64) -> u64 {
        self.saturating_mul(*other)
    }
    fn least(&self, other: &u64) -> u64 {
        (*self).min(*other)
    }
}

impl Measure for Poly {
    fn of(c: u64) -> Poly {
        Poly::constant(c)
    }
    fn plus(&self, other: &Poly) -> Poly {
        self.add(other)
    }
    fn times(&self, other: &Poly) -> Poly {
        self.mul(other)
    }
    fn least(&self, other: &Poly) -> Poly {
        self.min(other)
    }
}

/// The measures of one operand.
#[derive(Debug, Clone, PartialEq)]
pub struct Measures<M> {
    /// A string's length in bytes, or a collection's number of elements
    /// (entries for a map); 0 for anything else.
    pub len: M,
    /// The total weight of a collection's elements (for a map, the sum of
    /// 1 + key length + value weight over its entries); 0 otherwise.
    pub total: M,
    /// The largest weight of one element (for a map, of one entry); 0
    /// otherwise.
    pub item: M,
    /// The value's weight.
    pub weight: M,
}

impl<M: Measure> Measures<M> {
    /// The measures of a value of weight 1 (a scalar).
    pub fn scalar() -> Measures<M> {
        Measures {
            len: M::of(0),
            total: M::of(0),
            item: M::of(0),
            weight: M::of(1),
        }
    }

    /// The measures of a string of `len` bytes.
    pub fn string(len: M) -> Measures<M> {
        Measures {
            weight: len.plus(&M::of(1)),
            len,
            total: M::of(0),
            item: M::of(0),
        }
    }
}

/// The extra steps of a binary operation on operands with these measures.
pub fn binary_work<M: Measure>(op: BinaryOp, lhs: &Measures<M>, rhs: &Measures<M>) -> M {
    match op {
        // Structural: at most the smaller side is walked.
        BinaryOp::Eq
        | BinaryOp::Ne
        | BinaryOp::Lt(_)
        | BinaryOp::Le(_)
        | BinaryOp::Gt(_)
        | BinaryOp::Ge(_) => lhs.weight.least(&rhs.weight),
        // Each element compared with the needle.
        BinaryOp::InCollection => membership(rhs, &lhs.weight),
        BinaryOp::InMapKeys => lhs.len.clone(),
        BinaryOp::InString => rhs.len.plus(&lhs.len),
        BinaryOp::Concat | BinaryOp::ConcatLists => lhs.len.plus(&rhs.len),
        BinaryOp::And
        | BinaryOp::Or
        | BinaryOp::AddInt
        | BinaryOp::SubInt
        | BinaryOp::MulInt
        | BinaryOp::DivInt
        | BinaryOp::RemInt
        | BinaryOp::AddFloat
        | BinaryOp::SubFloat
        | BinaryOp::MulFloat
        | BinaryOp::DivFloat
        | BinaryOp::AddTimestampDuration
        | BinaryOp::SubTimestampDuration
        | BinaryOp::SubTimestamps
        | BinaryOp::AddDurations
        | BinaryOp::SubDurations
        | BinaryOp::MulDurationInt
        | BinaryOp::DivDurationInt => M::of(0),
    }
}

/// Comparing `needle` (of this weight) with each element of `coll`: one
/// step per element, plus at most the smaller of the two weights each,
/// which sums to at most the smaller of the collection's total and the
/// needle's weight per element.
fn membership<M: Measure>(coll: &Measures<M>, needle: &M) -> M {
    coll.len.plus(&coll.total.least(&coll.len.times(needle)))
}

/// Whether any element of `xs` is in `ys` (or every one): each pair
/// compared.
fn pairwise<M: Measure>(xs: &Measures<M>, ys: &Measures<M>) -> M {
    xs.len
        .times(&ys.len)
        .plus(&ys.len.times(&xs.total).least(&xs.len.times(&ys.total)))
}

/// The extra steps of a set literal of elements of these weights: each
/// element is compared with those kept before it.
pub fn set_literal_work<M: Measure>(weights: &[M]) -> M {
    let k = M::of(weights.len() as u64);
    let sum = weights.iter().fold(M::of(0), |acc, w| acc.plus(w));
    k.plus(&k.times(&k)).plus(&k.times(&sum))
}

/// Passes a scanner makes over its text: `pii.scan` and `secrets.scan`
/// run every detector of their module.
const SCAN_ALL_PASSES: u64 = 8;

/// The extra steps of builtin `id` on arguments with these measures
/// (for a method, the receiver first), building a result with `result`'s
/// measures.
///
/// One step per byte scanned or element visited, plus what the result
/// costs to build: its length for a new string, its weight for new
/// findings or parts. Compiling a pattern or a phrase set counts its
/// bytes (a constant set is compiled once at load, but counting it keeps
/// the bound independent of which sets were precompiled).
pub fn builtin_work<M: Measure>(id: Builtin, args: &[Measures<M>], result: &Measures<M>) -> M {
    use Builtin as B;
    let zero = Measures {
        len: M::of(0),
        total: M::of(0),
        item: M::of(0),
        weight: M::of(0),
    };
    let arg = |i: usize| args.get(i).unwrap_or(&zero);
    let text = &arg(0).len;
    match id {
        B::StrLen
        | B::CollLen
        | B::CollIsEmpty
        | B::MapLen
        | B::MapIsEmpty
        | B::ListFirst
        | B::ListLast
        | B::IntAbs
        | B::IntToFloat
        | B::FloatAbs
        | B::FloatFloor
        | B::FloatCeil
        | B::FloatRound
        | B::DurationSeconds
        | B::DurationMillis
        | B::TimestampUnixSeconds => M::of(0),
        B::StrCharCount
        | B::StrWordCount
        | B::StrTokenCount
        | B::TextEntropy
        | B::TimeParse
        | B::TimeParseDuration
        | B::UrlIsValid
        | B::UrlPort => text.clone(),
        B::StrLower
        | B::StrUpper
        | B::StrTrim
        | B::TextNormalize
        | B::UrlHost
        | B::UrlScheme
        | B::UrlPath => text.plus(&result.len),
        B::StrContains | B::StrMatches => text.plus(&arg(1).len),
        B::StrStartsWith | B::StrEndsWith => arg(1).len.clone(),
        // Folding the text, then one pass for every phrase or pattern.
        B::StrContainsAny | B::StrMatchesAny | B::UrlHostMatches => {
            text.times(&M::of(2)).plus(&arg(1).total)
        }
        B::StrFindAll | B::StrSplit => text.plus(&arg(1).len).plus(&result.weight),
        B::StrReplace => text.plus(&arg(1).len).plus(&arg(2).len).plus(&result.len),
        B::CollContains => membership(arg(0), &arg(1).weight),
        B::CollIntersects | B::CollIsSubset => pairwise(arg(0), arg(1)),
        B::CollSum | B::CollMin | B::CollMax | B::MapKeys | B::MapValues => arg(0).len.clone(),
        B::MapContainsKey => arg(1).len.clone(),
        B::TextJoin => arg(0)
            .total
            .plus(&arg(0).len.times(&arg(1).len))
            .plus(&result.len),
        B::TextRedact => text.plus(&arg(1).total).plus(&arg(1).len).plus(&result.len),
        B::PiiScan | B::SecretsScan => text.times(&M::of(SCAN_ALL_PASSES)).plus(&result.weight),
        B::PiiEmails
        | B::PiiPhones
        | B::PiiSsns
        | B::PiiIbans
        | B::PiiCards
        | B::PiiIps
        | B::SecretsHighEntropy => text.times(&M::of(2)).plus(&result.weight),
        // The pattern (or patterns) compiled, then the text matched.
        B::GlobMatches => text.plus(&arg(1).len),
        B::GlobMatchesAny => arg(0).total.plus(&arg(1).len),
    }
}

/// The fewest bytes of one finding of a detector: its findings are
/// disjoint, so a text of `L` bytes has at most `L / min` of them. 0 where
/// a finding may be empty (a regex's match); `secrets.high_entropy`'s
/// depends on its argument (at least 1). The runtime's scanner property
/// test checks every finding against this table.
pub fn min_finding_len(id: Builtin) -> u64 {
    use Builtin as B;
    match id {
        // `::1`
        B::PiiScan | B::PiiIps => 3,
        // `a@b.cd`
        B::PiiEmails => 6,
        // `+` and eight digits
        B::PiiPhones => 9,
        // `ddd-dd-dddd`
        B::PiiSsns => 11,
        // Norway's IBANs
        B::PiiIbans => 15,
        B::PiiCards => 13,
        // A bearer token
        B::SecretsScan => 12,
        B::SecretsHighEntropy => 1,
        _ => 0,
    }
}

/// The steps of reading a decision's reasons, rule kinds or fired rules:
/// one for the decision, one per rule of its policy, and the bytes of the
/// rules' ids and reasons (materialized to answer).
pub fn decision_cost(policy: &Policy) -> u64 {
    let texts = policy.rules.iter().fold(0u64, |acc, r| {
        acc.saturating_add(r.id.len() as u64)
            .saturating_add(r.reason.len() as u64)
    });
    let default = policy.default_rule().map_or(0, |d| d.reason.len() as u64);
    (policy.rules.len() as u64)
        .saturating_add(1)
        .saturating_add(texts)
        .saturating_add(default)
}

/// [`decision_cost`] of policy `index`, 0 when out of range.
pub fn decision_cost_of(program: &Program, index: u32) -> u64 {
    program
        .policies
        .get(index as usize)
        .map_or(0, decision_cost)
}
