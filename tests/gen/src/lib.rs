//! `pol-gen`: type-directed generation of well-typed Pol programs and their
//! inputs, for differential tests (interpreter against JIT) and fuzzing.
//!
//! Deriving `Arbitrary` on the syntax tree would give programs that almost
//! never check. This crate generates *type first*: it decides the schemas,
//! enums, params, lets and policies with their types, then generates every
//! expression for a wanted type, choosing only among the forms that produce
//! that type with operands of the right types (see [`EXPR_FORMS`]). Every
//! choice is read from an [`arbitrary::Unstructured`], so a fuzzer steers
//! it, and sizes and depths are capped, so every program checks fast. An
//! exhausted byte stream makes the simplest choice everywhere, so any input
//! gives a program.
//!
//! ```
//! let generated = pol_gen::generate_from_seed(7);
//! assert!(!generated.files.is_empty());
//! assert!(!generated.cases.is_empty());
//! ```
//!
//! With the `fuzz` feature, `pol_gen::fuzz` holds the bodies of the cargo-fuzz
//! targets in `fuzz/` (which call them on libFuzzer's bytes) and of their
//! bounded runs in the test suite, and `pol_gen::fuzz::differential` the
//! comparison of the engines that `tests/tests/generated.rs` uses too:
//!
//! ```ignore
//! fuzz_target!(|data: &[u8]| {
//!     let mut u = arbitrary::Unstructured::new(data);
//!     let Ok(generated) = pol_gen::generate(&mut u) else { return };
//!     // ... `pol_gen::fuzz::JitVsInterpTarget::run_generated(&generated)`.
//! });
//! ```
//!
//! `cargo run -p pol-gen --example dump -- SEED DIR` writes one seed's
//! program, cases and params into a folder for `polc`.
//!
//! # What is generated
//!
//! * **Packages and files**: a library package (in one or two files) and,
//!   mostly, an application package importing it (sometimes `as` an alias);
//!   every file imports the six native modules, some under aliases. Doc and
//!   plain comments on items, fields and rules.
//! * **Types**: enums (variants shared between enums, so bare variants are
//!   sometimes ambiguous and must be qualified), schemas with fields of every
//!   type (`bool`, `int`, `float`, `string`, `duration`, `timestamp`,
//!   `Finding`, enums, earlier schemas, `list`, `set`, `map<string, _>`,
//!   optionals, keyword field names), sometimes recursive (`S?`,
//!   `list<S>`, `map<string, S>` of itself).
//! * **Params** with defaults (phrase sets, valid regex, glob and host
//!   lists, thresholds, anything else as a literal), `param alias.name =`
//!   settings (extending the library's default), and host values at load
//!   time ([`Generated::params`]). **Lets**, annotated or inferred, some
//!   after policies and calling them.
//! * **Policies** of every kind: decision policies (`allow`, `deny`,
//!   `require_approval`, `redact ... of`, `alert <severity>`, `default
//!   allow|deny` anywhere, `@id`, rules without `when`), value policies
//!   (`return ... when`, `default`), filter policies (`keep x in ... when
//!   ... limit n`, over lists and sets); local lets (some holding decisions
//!   of other policies, some shadowing a let or param); inputs of schema
//!   and other types.
//! * **Expressions** for a wanted type (the list is [`EXPR_FORMS`]):
//!   literals (extreme ints, underscores, folded negative literals, floats
//!   to `f64::MAX` and subnormals, escaped, raw and Unicode strings,
//!   durations, timestamps with offsets, `now`, `none`, collections,
//!   records, findings), names (input, locals, quantifier and `keep`
//!   variables, params, lets, across packages) and field paths through
//!   `?.` chains, arithmetic that overflows or divides by zero, string and
//!   list concatenation, duration and timestamp arithmetic, comparisons,
//!   `and`/`or`/`not`, `in`/`not in` on lists, sets, maps and strings, `??`,
//!   `?.`/`?[` (also on values that are not optional), indexing, `if`, the
//!   five quantifiers with one or two variables, every builtin of the table
//!   (regexes and globs mostly valid, sometimes dynamic), policy calls and
//!   every decision member including `fired`. Operators are printed with
//!   the parentheses precedence needs, plus some redundant ones, and now and
//!   then a line break or comment between operands.
//! * **Inputs**: JSON for each policy's input type, with edge values
//!   (i64 extremes, `-0.0`, `1e300`, empty strings and collections, Unicode,
//!   `0s`, absent and `null` optionals, unknown fields) and now and then a
//!   malformed one; a request time (`now`) that may be the epoch, before it,
//!   or near the end of the timestamp range.
//!
//! # What is not generated
//!
//! `test` blocks (`expect`, `for`, `with`), imports of the embedded policy
//! library (`std.guards.*`, ...), imports between application packages
//! (there is one library and one application), mutually recursive
//! schemas, locals shadowing imports or enum variants, `Decision` as an
//! input type, programs that should *not* check (the diagnostics corpus
//! covers those), inputs beyond the decoder's limits, and NaN or infinite
//! floats in inputs (JSON has none; expressions can still compute them).
//! Nothing checks the *values* computed: the test compares engines, and
//! checks that values have their declared types.

use std::collections::BTreeMap;

use arbitrary::Unstructured;

mod expr;
#[cfg(feature = "fuzz")]
pub mod fuzz;
mod input;
mod items;
mod model;
mod pools;

pub use expr::EXPR_FORMS;

use model::Model;

/// The rule kinds, as counted in [`Generated::coverage`].
pub const RULE_KINDS: &[&str] = &[
    "rule_allow",
    "rule_deny",
    "rule_require_approval",
    "rule_redact",
    "rule_alert",
    "rule_default_allow",
    "rule_default_deny",
    "rule_return",
    "rule_value_default",
    "rule_keep",
    "keep_limit",
    "rule_id_attribute",
    "rule_without_when",
];

/// The policy kinds and top-level items, as counted in
/// [`Generated::coverage`].
pub const ITEM_KINDS: &[&str] = &[
    "policy_decision",
    "policy_value",
    "policy_filter",
    "policy_non_schema_input",
    "local_let",
    "local_let_annotated",
    "local_decision",
    "schema",
    "enum",
    "param",
    "param_override",
    "let",
    "let_annotated",
    "import_alias",
    "module_alias",
    "two_packages",
    "package_in_two_files",
    "doc_comment",
    "input_invalid",
    "input_absent_optional",
    "input_null_optional",
    "input_empty_collection",
    "input_extreme_int",
    "input_unicode",
    "input_zero_duration",
    "schema_recursive",
    "let_after_policies",
    "host_params",
];

/// Bugs of the front end or the runtime found with this generator, open
/// when it was written. The generator avoids the first (it would make the
/// generated programs fail to check); the second it generates, and the
/// test recognizes it; the test works around the third.
/// `tests/tests/generated.rs` reproduces each in an `#[ignore]`d test.
pub const KNOWN_BUGS: &[&str] = &[
    "checker: a postfix chain with two `?.` links on values that are not \
     optional is typed optional (`\"abc\"?.trim()?.len()` is `int?`, while \
     `\"abc\"?.len()` and `\"abc\".trim()?.len()` are `int`); the reference \
     says `?.` on a value that is not optional behaves like `.`",
    "interpreter: `.value` of a value or filter policy's decision that \
     carries an error is `none`, whatever the declared type: `none` flows \
     into non-optional positions (a value policy `-> int` returning \
     `inner(x).value` allows with the value `null` and no error)",
    "pol-sema: `Workspace::set_files` is documented to replace the whole \
     set of files but only adds and updates: files of earlier calls stay",
];

/// A generated program and its evaluation cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// Source files, as (path, text); each declares one package.
    pub files: Vec<(String, String)>,
    /// Evaluation cases: (entrypoint `package.policy`, input JSON text).
    pub cases: Vec<(String, String)>,
    /// The request time for every case, in nanoseconds since the epoch.
    pub now: i64,
    /// Param values set by the host at load time, if any: a JSON object of
    /// `package.param` to value (`Engine::set_params_json`).
    pub params: Option<String>,
    /// How often each form, rule kind, item kind and builtin
    /// (`builtin:<Id>`) was generated.
    pub coverage: BTreeMap<String, usize>,
}

impl Generated {
    /// The files as one text, each behind a `//--- path` line (the format of
    /// the diagnostics corpus), for reports and reproductions.
    pub fn source(&self) -> String {
        let mut out = String::new();
        for (path, text) in &self.files {
            out.push_str(&format!("//--- {path}\n{text}"));
        }
        out
    }
}

/// The coverage names of every builtin of the table
/// (`builtin:StrLen`, ...).
pub fn builtin_names() -> Vec<String> {
    pol_ir::builtins::BUILTINS
        .iter()
        .map(|b| format!("builtin:{:?}", b.id))
        .collect()
}

/// Generates a program and cases from a byte stream.
pub fn generate(u: &mut Unstructured<'_>) -> arbitrary::Result<Generated> {
    let mut g = Gen {
        u,
        m: Model::default(),
        stats: BTreeMap::new(),
        next: 0,
        cases: Vec::new(),
        now: 0,
        params: None,
        pending: None,
    };
    g.program();
    Ok(g.finish())
}

/// Generates a program from a seed: the seed is expanded into bytes with
/// splitmix64, so the result is deterministic.
pub fn generate_from_seed(seed: u64) -> Generated {
    let bytes = seed_bytes(seed, 16 * 1024);
    let mut u = Unstructured::new(&bytes);
    match generate(&mut u) {
        Ok(g) => g,
        // `generate` never fails: an exhausted stream yields defaults.
        Err(e) => unreachable!("generate failed: {e}"),
    }
}

/// `len` pseudo-random bytes from `seed` (splitmix64).
pub fn seed_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The generator's state: the byte stream, the program so far, coverage.
pub(crate) struct Gen<'a, 'b> {
    u: &'a mut Unstructured<'b>,
    pub(crate) m: Model,
    stats: BTreeMap<String, usize>,
    next: usize,
    cases: Vec<(String, String)>,
    now: i64,
    params: Option<String>,
    /// The binding level of the expression being returned by a form (see
    /// `expr::Gen::expr_p`); `None` for an atom.
    pending: Option<u8>,
}

impl Gen<'_, '_> {
    /// An index below `n` (0 when `n` is 0 or the stream is exhausted).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        self.u.choose_index(n).unwrap_or(0)
    }

    /// An integer in `lo..=hi` (`lo` when the stream is exhausted).
    pub(crate) fn range(&mut self, lo: usize, hi: usize) -> usize {
        if hi <= lo {
            return lo;
        }
        self.u.int_in_range(lo..=hi).unwrap_or(lo)
    }

    /// True with probability `num / den` (false when the stream is
    /// exhausted, so exhausted streams make the simplest choices).
    pub(crate) fn chance(&mut self, num: u32, den: u32) -> bool {
        let x = self.u.int_in_range(0..=den.saturating_sub(1)).unwrap_or(0);
        x >= den.saturating_sub(num)
    }

    /// One of `items` (the first when the stream is exhausted).
    pub(crate) fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        let i = self.below(items.len());
        items[i].clone()
    }

    /// Counts one use of a form.
    pub(crate) fn hit(&mut self, name: &str) {
        *self.stats.entry(name.to_string()).or_insert(0) += 1;
    }

    /// A fresh name with this prefix.
    pub(crate) fn fresh(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }
}
