//! The four reference workloads of `shared/DESIGN.md` ("Performance
//! targets"), written once in Pol and once for each peer a user would pick
//! instead: Cedar (`cedar-policy`), Rego (`regorus`, its interpreter and its
//! RVM) and CEL (`cel-interpreter`).
//!
//! | workload | Pol policy | decision compared |
//! |---|---|---|
//! | W1 tool permission | `policies/w1.pol` | deny / allow / allow with approval |
//! | W2 retrieval scope over 50 documents | `policies/w2.pol` | the ids of the documents kept, in order |
//! | W3 input guard, 2 KB prompt, 40 phrases, 6 regexes | `policies/w3.pol` | allow or deny, and which deny rules fired |
//! | W4 alert thresholds over a metrics record | `policies/w4.pol` | allow or deny (page), and which alerts fired |
//!
//! The peers' rules are in `peers/` (`wN.cedar`, `wN.rego`, `wN.cel`); where
//! a peer cannot express a rule the file says how it approximates it (and
//! `docs/performance.md` repeats it). Every input the benchmarks use, and a
//! few more per workload, are in [`inputs`]; `tests/agree.rs` checks that
//! every engine gives the same [`Outcome`] on each of them.
//!
//! Pol engines are behind [`pol::PolEngine`], so a new engine (the JIT) is
//! one `impl` and one line in [`with_pol_engines!`].

pub mod cedar;
pub mod cel;
pub mod inputs;
pub mod pol;
pub mod rego;

use std::collections::BTreeSet;

/// The request time every workload is evaluated at: 2026-01-01T00:00:00Z,
/// in Unix seconds. Pol receives it as `now`; the peers, which have no
/// request clock, read the `now` field of the input JSON (which Pol's
/// schema-directed decoder skips as an unknown field).
pub const NOW_SECS: i64 = 1_767_225_600;

/// [`NOW_SECS`] in nanoseconds, as Pol's engines take it.
pub const NOW_NANOS: i64 = NOW_SECS * 1_000_000_000;

/// One of the four reference workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Workload {
    /// W1: tool permission.
    W1,
    /// W2: retrieval scope over 50 documents.
    W2,
    /// W3: input guard on a 2 KB prompt.
    W3,
    /// W4: alert thresholds over a metrics record.
    W4,
}

impl Workload {
    /// Every workload, in order.
    pub const ALL: [Workload; 4] = [Workload::W1, Workload::W2, Workload::W3, Workload::W4];

    /// `w1` ... `w4`: benchmark group prefixes and file names.
    pub fn key(self) -> &'static str {
        match self {
            Workload::W1 => "w1",
            Workload::W2 => "w2",
            Workload::W3 => "w3",
            Workload::W4 => "w4",
        }
    }

    /// The Pol entrypoint.
    pub fn pol_entry(self) -> &'static str {
        match self {
            Workload::W1 => "bench.w1.tool_call",
            Workload::W2 => "bench.w2.visible",
            Workload::W3 => "bench.w3.prompt",
            Workload::W4 => "bench.w4.alerts",
        }
    }

    /// The Pol source (`policies/wN.pol`).
    pub fn pol_source(self) -> &'static str {
        match self {
            Workload::W1 => include_str!("../policies/w1.pol"),
            Workload::W2 => include_str!("../policies/w2.pol"),
            Workload::W3 => include_str!("../policies/w3.pol"),
            Workload::W4 => include_str!("../policies/w4.pol"),
        }
    }
}

/// A decision, normalized so that every engine's answer can be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// W1.
    Tool(ToolVerdict),
    /// W2: the ids of the documents kept, in input order.
    Docs(Vec<String>),
    /// W3: the effect and the deny rules that fired (`injection phrase`,
    /// `sensitive pattern`).
    Guard {
        /// Whether the prompt may pass.
        allowed: bool,
        /// The reasons of the deny rules that fired.
        fired: BTreeSet<String>,
    },
    /// W4: the effect (deny pages the on-call) and the alerts raised, by
    /// the slug of their reason.
    Alerts {
        /// Whether the window stays below the paging thresholds.
        allowed: bool,
        /// The alerts raised.
        alerts: BTreeSet<String>,
    },
}

/// The W1 decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolVerdict {
    /// The call is refused.
    Deny,
    /// The call may go ahead.
    Allow,
    /// The call may go ahead once a human approves it.
    AllowWithApproval,
}

/// The W4 alerts that page (severity high or critical): the decision is
/// deny when one of them fired.
pub const W4_PAGING_ALERTS: [&str; 4] = [
    "error-rate-at-the-critical-threshold",
    "p95-latency-at-the-high-threshold",
    "token-budget-exhausted",
    "block-rate-at-the-high-threshold",
];

/// A benchmark input: a name and its JSON text.
#[derive(Debug, Clone)]
pub struct Input {
    /// A short name (`benign`, `traversal`, ...).
    pub name: String,
    /// The JSON text every engine starts from.
    pub json: Vec<u8>,
}
