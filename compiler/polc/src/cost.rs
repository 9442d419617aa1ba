//! `polc check --cost`: each entrypoint's static cost bound, the
//! polynomial in the input's sizes that bounds the steps of one
//! evaluation (see `pol_ir::cost`), with the params at their values.

use pol_ir::cost::{CostBound, VARIABLES, grouped};
use pol_ir::ir::Program;
use pol_runtime::{Limits, StdBuiltins, compute_params, constant_lets};
use serde::Serialize;

/// One entrypoint's bound.
#[derive(Debug, Serialize)]
pub(crate) struct EntryCost {
    /// `package.policy`.
    entrypoint: String,
    /// The bound, as printed: `120 + 45·n + 3·n²`.
    bound: String,
    /// Whether the analysis gave up (no input is within any budget).
    unbounded: bool,
    /// The most bytes of JSON input that are within the default budget
    /// whatever they hold (`null` when not even an empty input is).
    within_budget_up_to: Option<u64>,
}

/// The bounds of the policies defined in `paths` (the files given on the
/// command line, not the embedded standard library's), in program order.
pub(crate) fn bounds(program: &Program, paths: &[String]) -> Result<Vec<EntryCost>, String> {
    pol_ir::ir::verify(program).map_err(|e| format!("the lowered program is invalid: {e}"))?;
    let params = compute_params(program, &StdBuiltins)
        .map_err(|e| format!("the params could not be computed: {e}"))?;
    let lets = constant_lets(program, &StdBuiltins, &params);
    let bounds = pol_runtime::cost::bounds(program, &params, &lets);
    let limits = Limits::default();
    Ok(program
        .policies
        .iter()
        .zip(bounds)
        .filter(|(policy, _)| {
            program
                .sources
                .get(policy.loc.file as usize)
                .is_some_and(|source| paths.contains(source))
        })
        .map(|(policy, bound): (_, CostBound)| EntryCost {
            entrypoint: policy.name.clone(),
            bound: bound.to_string(),
            unbounded: bound.is_unbounded(),
            within_budget_up_to: bound.free_below(limits.max_cost, limits.max_bytes as u64),
        })
        .collect())
}

/// The human rendering: one line per entrypoint, then what the variables
/// are and what the budget does.
pub(crate) fn human(entries: &[EntryCost]) -> String {
    let limits = Limits::default();
    let width = entries
        .iter()
        .map(|e| e.entrypoint.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    if entries.is_empty() {
        out.push_str("no policies to bound\n");
        return out;
    }
    for entry in entries {
        let pad = " ".repeat(width - entry.entrypoint.chars().count());
        let within = match entry.within_budget_up_to {
            Some(bytes) if bytes >= limits.max_bytes as u64 => {
                "any input within the default limits is within the default budget".to_string()
            }
            Some(bytes) => format!(
                "inputs up to {} bytes are within the default budget",
                grouped(bytes)
            ),
            None => "no input is within the default budget".to_string(),
        };
        if entry.unbounded {
            out.push_str(&format!(
                "{}{pad}  cost unbounded (the analysis gave up; every input is refused)\n",
                entry.entrypoint
            ));
        } else {
            out.push_str(&format!(
                "{}{pad}  cost ≤ {} steps  ({within})\n",
                entry.entrypoint, entry.bound
            ));
        }
    }
    out.push_str(&format!(
        "\n{VARIABLES}.\nThe engine refuses an input whose bound is over its budget \
         (by default {} steps).\n",
        grouped(limits.max_cost)
    ));
    out
}
