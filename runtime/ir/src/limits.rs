//! Limits on inputs and on the cost of evaluating them: one definition
//! for both decoders (the runtime's reference decoder and the JIT's frame
//! decoder), which enforce the same limits and refuse the same inputs.

/// Bounds on what an input may be and on what evaluating it may cost.
///
/// Both engines enforce the same limits, in the same order, and refuse an
/// input over one with a deny that says which (see `docs/security.md`).
/// The defaults fit every realistic request with room to spare; lower them
/// where requests are known to be small.
///
/// ```
/// use pol_ir::limits::Limits;
/// let strict = Limits { max_bytes: 64 * 1024, max_cost: 10_000_000, ..Limits::default() };
/// assert!(strict.max_cost < Limits::default().max_cost);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes of JSON text. Default 1 MiB.
    pub max_bytes: usize,
    /// The deepest nesting of objects and arrays (the input itself is
    /// depth 0). Default 32.
    pub max_depth: usize,
    /// The most elements of one array or entries of one object read as a
    /// map. Default 10,000.
    pub max_collection: usize,
    /// The longest string or map key, in bytes. Default 256 KiB.
    pub max_string: usize,
    /// The budget: the most steps an evaluation may be bounded by. After
    /// decoding, the entrypoint's static cost bound
    /// ([`crate::cost::CostBound`]) is evaluated on the input's sizes; an
    /// input whose bound is over the budget is refused before evaluation.
    /// Default 500,000,000 (a few hundred milliseconds at worst).
    pub max_cost: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_bytes: 1 << 20,
            max_depth: 32,
            max_collection: 10_000,
            max_string: 256 * 1024,
            max_cost: 500_000_000,
        }
    }
}
