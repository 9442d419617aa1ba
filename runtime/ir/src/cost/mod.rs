//! Static cost bounds: for each entrypoint, a polynomial in the input's
//! sizes that bounds the steps of any evaluation.
//!
//! Pol is total (no recursion; loops only over collections), so the work of
//! an evaluation is bounded by the sizes of its input. [`bounds`] computes,
//! from the IR, a [`CostBound`] per policy: a polynomial in
//!
//! * `n`, the number of elements (or entries) of the input's longest
//!   collection,
//! * `s`, the length in bytes of the input's longest string,
//! * `b`, the input's size in bytes,
//!
//! with the params' sizes (known when a program loads) plugged in. The
//! engine evaluates the bound on each input's sizes after decoding and
//! refuses inputs whose bound is over its budget; `polc check --cost`
//! prints it.
//!
//! The unit is one *step* of the reference interpreter: one node
//! evaluated, one loop element visited, one rule tried, plus the work of
//! operations that walk their operands (one step per byte of a string
//! scanned or built, per element compared, per unit of weight of a
//! compound value compared; see [`work`] for each). The interpreter counts
//! its steps the same way when asked (`pol_runtime::Engine::count_steps`),
//! and a property test checks that the count never exceeds the bound.
//!
//! The bound holds for the standard builtins; a host's own builtins are
//! counted as the standard ones they replace.

mod analysis;
mod poly;
mod size;
pub mod work;

use std::fmt;

use crate::ir::Program;

pub use poly::{Poly, Var, grouped};
pub use size::{CollSize, DecisionSize, FindingSize, InputSize, MapSize, Size, StrSize};
pub use work::{Measure, Measures};

/// What the bound's variables stand for, for people.
pub const VARIABLES: &str =
    "n: the longest collection, s: the longest string (bytes), b: the input's size (bytes)";

/// The sizes of one input, the values of a bound's variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct InputSizes {
    /// `n`: the most elements of one array (before a set drops
    /// duplicates) or entries of one object read as a map.
    pub longest_collection: u64,
    /// `s`: the most bytes of one string or map key.
    pub longest_string: u64,
    /// `b`: the bytes of JSON text; for a value built by the host, its
    /// weight (see [`size`](Size)), which is never more than its JSON
    /// text's length.
    pub bytes: u64,
}

impl InputSizes {
    /// The value of variable `v` (0 for a loop variable, which a bound
    /// never contains).
    fn value(&self, v: Var) -> u64 {
        match v {
            Var::N => self.longest_collection,
            Var::S => self.longest_string,
            Var::B => self.bytes,
            _ => 0,
        }
    }
}

impl fmt::Display for InputSizes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "n = {}, s = {}, b = {}",
            poly::grouped(self.longest_collection),
            poly::grouped(self.longest_string),
            poly::grouped(self.bytes)
        )
    }
}

/// A bound on the steps of one evaluation of an entrypoint, as a
/// polynomial in the input's sizes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CostBound(Poly);

impl CostBound {
    /// The polynomial, over [`Var::N`], [`Var::S`] and [`Var::B`].
    pub fn poly(&self) -> &Poly {
        &self.0
    }

    /// Whether no finite bound was found (the analysis gave up: the
    /// program is too large or too deeply nested to bound): every input is
    /// over any budget.
    pub fn is_unbounded(&self) -> bool {
        self.0.is_infinite()
    }

    /// The bound's value on an input of these sizes (rounded up,
    /// saturating at `u64::MAX`).
    pub fn at(&self, sizes: &InputSizes) -> u64 {
        let steps = self.0.eval(&|v| sizes.value(v) as f64).ceil();
        if steps >= u64::MAX as f64 {
            u64::MAX
        } else {
            steps as u64
        }
    }

    /// The most bytes of JSON text for which the bound is within `budget`
    /// whatever the text holds (at most `max`): a JSON text of `b` bytes
    /// has no collection of more than `b` elements nor string of more than
    /// `b` bytes, so the bound at `n = s = b` bounds every such input.
    /// `None` when even an empty input is over the budget.
    pub fn free_below(&self, budget: u64, max: u64) -> Option<u64> {
        let at = |b: u64| {
            self.at(&InputSizes {
                longest_collection: b,
                longest_string: b,
                bytes: b,
            })
        };
        if at(0) > budget {
            return None;
        }
        let (mut low, mut high) = (0u64, max);
        if at(high) <= budget {
            return Some(high);
        }
        // Invariant: at(low) <= budget < at(high).
        while high - low > 1 {
            let mid = low + (high - low) / 2;
            if at(mid) <= budget {
                low = mid;
            } else {
                high = mid;
            }
        }
        Some(low)
    }
}

impl fmt::Display for CostBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The bound of every policy of `program` (by index), with `params[i]` the
/// size of param `i`'s value and `lets[i]` the size of let `i`'s value when
/// it is known before evaluations (computed at load), `None` when it is
/// computed during them.
///
/// The program must have passed [`crate::ir::verify`].
pub fn bounds(program: &Program, params: &[Size], lets: &[Option<Size>]) -> Vec<CostBound> {
    let mut analyzer = analysis::Analyzer::new(program, params, lets);
    (0..program.policies.len())
        .map(|i| CostBound(analyzer.entry(i as u32)))
        .collect()
}

/// The measures a formula of [`work`] reads, as bounds, of a value of
/// size `size`.
pub(crate) fn measures(size: &Size, program: &Program) -> Measures<Poly> {
    let weight = size.weight();
    let zero = Poly::zero;
    match size {
        Size::Str(s) => Measures {
            len: s.max.clone(),
            total: zero(),
            item: zero(),
            weight,
        },
        Size::Seq(c) => Measures {
            len: c.len.clone(),
            total: c.total.clone(),
            item: c.elem.weight(),
            weight,
        },
        Size::Map(m) => Measures {
            len: m.len.clone(),
            total: m.total.clone(),
            item: m.key.add(&m.value.weight()).add_const(1),
            weight,
        },
        Size::Input(input) => {
            let unfolded = match crate::cost::size::strip_input(input) {
                Some(ty) => ty,
                None => return Measures::scalar(),
            };
            match unfolded {
                Unfolded::Str => {
                    let s = size.as_str(program);
                    Measures {
                        len: s.max,
                        total: zero(),
                        item: zero(),
                        weight,
                    }
                }
                Unfolded::Seq => {
                    let c = size.as_coll(program);
                    Measures {
                        len: c.len,
                        total: c.total,
                        item: c.elem.weight(),
                        weight,
                    }
                }
                Unfolded::Map => {
                    let m = size.as_map(program);
                    Measures {
                        len: m.len,
                        total: m.total,
                        item: m.key.add(&m.value.weight()).add_const(1),
                        weight,
                    }
                }
                Unfolded::Other => Measures {
                    len: zero(),
                    total: zero(),
                    item: zero(),
                    weight,
                },
            }
        }
        Size::Unknown => Measures {
            len: Poly::infinite(),
            total: Poly::infinite(),
            item: Poly::infinite(),
            weight: Poly::infinite(),
        },
        Size::Bottom
        | Size::Scalar
        | Size::IntAtLeast(_)
        | Size::Record(_)
        | Size::Finding(_)
        | Size::Decision(_) => Measures {
            len: zero(),
            total: zero(),
            item: zero(),
            weight,
        },
    }
}

/// What an input part's type makes it, for [`measures`].
pub(crate) enum Unfolded {
    Str,
    Seq,
    Map,
    Other,
}
