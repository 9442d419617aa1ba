//! What the gateway prints: one line per decision of the stream, and the
//! summary of the throughput phase.

use std::io::{self, Write};

use pol_ir::ir::Action;
use pol_runtime::{Decision, Engine, Entrypoint, FindingValue};

use crate::throughput::{self, DEFAULT_RULE, Run};
use crate::traffic::{self, Kind, NOW_NANOS, Request};

/// Characters of the request summary column.
const SUMMARY_WIDTH: usize = 58;

/// Characters of the redacted text shown under a decision.
const REDACTED_WIDTH: usize = 110;

/// Evaluates every request of the stream and prints one line per decision:
/// the kind, the effect, the request, then the reasons and obligations.
pub fn print_stream(
    out: &mut impl Write,
    engine: &Engine,
    entries: &[Entrypoint],
    stream: &[Request],
) -> io::Result<()> {
    writeln!(
        out,
        "{:>3} {:<9} {:<5} {:<SUMMARY_WIDTH$}   reasons · obligations",
        "#", "kind", "effect", "request"
    )?;
    for (n, request) in stream.iter().enumerate() {
        let entry = entries[traffic::kind_index(request.kind)];
        let decision = engine.evaluate_json(entry, &request.json, NOW_NANOS);
        let effect = if decision.error.is_some() {
            "error"
        } else if decision.is_allowed() {
            "allow"
        } else {
            "deny"
        };
        writeln!(
            out,
            "{:>3} {:<9} {:<5} {}  → {}",
            n + 1,
            request.kind.label(),
            effect,
            pad(&truncate(&request.summary, SUMMARY_WIDTH), SUMMARY_WIDTH),
            explain(engine, request, &decision)
        )?;
        if let Some(text) = &request.text
            && !decision.redactions.is_empty()
        {
            let redacted = traffic::quoted(&redact(text, &decision.redactions));
            writeln!(
                out,
                "{:>20} {}",
                "redacted:",
                truncate(&redacted, REDACTED_WIDTH)
            )?;
        }
    }
    Ok(())
}

/// The reasons that decided the effect, then the obligations.
fn explain(engine: &Engine, request: &Request, decision: &Decision) -> String {
    if let Some(error) = &decision.error {
        return format!("evaluation error: {error}");
    }
    let program = engine.program();
    let fired = decision.fired_rules(program);
    let mut parts: Vec<String> = Vec::new();
    let deciding = if decision.is_allowed() {
        "allow"
    } else {
        "deny"
    };
    let reasons: Vec<&str> = fired
        .iter()
        .filter(|rule| rule.kind == deciding)
        .map(|rule| rule.reason.as_str())
        .collect();
    if !reasons.is_empty() {
        parts.push(reasons.join("; "));
    }
    if decision.by_default
        && let Some(default) = program
            .policies
            .get(decision.policy as usize)
            .and_then(|p| p.default_rule())
    {
        parts.push(format!("{} (default)", default.reason));
    }
    if request.kind == Kind::Retrieve {
        parts.push(kept(engine, request, decision));
    }
    for rule in &fired {
        match rule.kind {
            "require_approval" => parts.push(format!("approval: {}", rule.reason)),
            "alert" => parts.push(format!(
                "alert {}: {}",
                rule.severity.map_or("?", |s| s.name()),
                rule.reason
            )),
            _ => {}
        }
    }
    let spans: Vec<String> = decision
        .redactions
        .iter()
        .flat_map(|(_, findings)| findings.iter())
        .map(|f| format!("{} {}..{}", f.kind, f.start, f.end))
        .collect();
    if !spans.is_empty() {
        parts.push(format!("redact {}", spans.join(", ")));
    }
    parts.join(" · ")
}

/// The documents a retrieval keeps, by id, out of its candidates.
fn kept(engine: &Engine, request: &Request, decision: &Decision) -> String {
    let json = engine.decision_json(decision);
    let ids: Vec<&str> = json["value"]
        .as_array()
        .map(|docs| docs.iter().filter_map(|d| d["id"].as_str()).collect())
        .unwrap_or_default();
    let candidates = serde_json::from_slice::<serde_json::Value>(&request.json)
        .ok()
        .and_then(|input| input["docs"].as_array().map(Vec::len))
        .unwrap_or(0);
    format!("kept {} of {candidates}: {}", ids.len(), ids.join(", "))
}

/// `text` with every redacted span replaced by `[kind]`. Spans that overlap
/// an earlier one, or that do not fall on character boundaries, are left
/// out rather than trusted.
fn redact(text: &str, redactions: &[(u32, Vec<FindingValue>)]) -> String {
    let mut spans: Vec<(usize, usize, &str)> = redactions
        .iter()
        .flat_map(|(_, findings)| findings.iter())
        .filter_map(|f| {
            let start = usize::try_from(f.start).ok()?;
            let end = usize::try_from(f.end).ok()?;
            Some((start, end, &*f.kind))
        })
        .collect();
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, kind) in spans {
        let (Some(before), Some(_)) = (text.get(at..start), text.get(start..end)) else {
            continue;
        };
        out.push_str(before);
        out.push_str(&format!("[{kind}]"));
        at = end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

/// At most `width` characters, with an ellipsis when cut.
fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn pad(text: &str, width: usize) -> String {
    let count = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(count)))
}

/// Prints the throughput phase: decisions per effect, the rules that fired
/// most, and per policy the count, rate and latency percentiles.
pub fn print_summary(
    out: &mut impl Write,
    engine: &Engine,
    entries: &[Entrypoint],
    run: &Run,
    per_policy: &[Run],
) -> io::Result<()> {
    let program = engine.program();
    let total = run.decisions();
    let seconds = run.wall.as_secs_f64().max(1e-9);
    writeln!(
        out,
        "throughput: {} thread{} sharing one engine, {:.2} s, the mix of {} kinds replayed",
        run.threads,
        if run.threads == 1 { "" } else { "s" },
        seconds,
        Kind::ALL.len()
    )?;
    writeln!(
        out,
        "decisions  {} in all, {:.0} decisions/s",
        group(total),
        total as f64 / seconds
    )?;
    let share = |n: u64| 100.0 * n as f64 / total.max(1) as f64;
    writeln!(
        out,
        "effects    allow {} ({:.1}%), deny {} ({:.1}%), of which evaluation errors {}",
        group(run.allowed),
        share(run.allowed),
        group(run.denied),
        share(run.denied),
        group(run.errors)
    )?;

    // Obligations, by the kind of the rule that fired.
    let (mut approvals, mut alerts, mut redactions) = (0, 0, 0);
    for (&(policy, rule), &count) in &run.fired {
        let action = program
            .policies
            .get(policy as usize)
            .and_then(|p| p.rules.get(rule as usize))
            .map(|r| &r.action);
        match action {
            Some(Action::RequireApproval) => approvals += count,
            Some(Action::Alert { .. }) => alerts += count,
            Some(Action::Redact { .. }) => redactions += count,
            _ => {}
        }
    }
    writeln!(
        out,
        "obligations  redact {}, require_approval {}, alert {}",
        group(redactions),
        group(approvals),
        group(alerts)
    )?;

    writeln!(out)?;
    writeln!(out, "top fired rules {:>63}", "count")?;
    let mut fired: Vec<(String, u64)> = run
        .fired
        .iter()
        .filter_map(|(&(policy, rule), &count)| {
            let policy = program.policies.get(policy as usize)?;
            let id = if rule == DEFAULT_RULE {
                format!("{} (default)", policy.default_rule()?.id)
            } else {
                policy.rules.get(rule as usize)?.id.clone()
            };
            Some((id, count))
        })
        .collect();
    fired.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for (id, count) in fired.iter().take(15) {
        writeln!(out, "  {:<70} {:>8}", truncate(id, 70), group(*count))?;
    }

    writeln!(out)?;
    writeln!(
        out,
        "each policy alone, {} thread{}, at least {} decisions a thread:",
        run.threads,
        if run.threads == 1 { "" } else { "s" },
        crate::MIN_SAMPLES_PER_THREAD
    )?;
    writeln!(
        out,
        "{:<28} {:>7} {:>9} {:>12} {:>9} {:>9} {:>9} {:>9}",
        "policy", "in mix", "alone", "decisions/s", "p50 µs", "p90 µs", "p99 µs", "max µs"
    )?;
    for ((kind, entry), alone) in Kind::ALL.iter().zip(entries).zip(per_policy) {
        let index = traffic::kind_index(*kind);
        let in_mix = run.latencies[index].len() as u64;
        let latencies = &alone.latencies[index];
        let name = engine
            .entrypoint_index(*entry)
            .and_then(|i| program.policies.get(i as usize))
            .map_or(kind.entrypoint(), |p| p.name.as_str());
        if latencies.is_empty() {
            writeln!(out, "{name:<28} {:>7}   (not sampled)", group(in_mix))?;
            continue;
        }
        let rate = latencies.len() as f64 / alone.wall.as_secs_f64().max(1e-9);
        let micros = |q: f64| f64::from(throughput::percentile(latencies, q)) / 1e3;
        writeln!(
            out,
            "{:<28} {:>7} {:>9} {:>12} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            name,
            group(in_mix),
            group(latencies.len() as u64),
            group(rate as u64),
            micros(0.5),
            micros(0.9),
            micros(0.99),
            micros(1.0)
        )?;
    }
    writeln!(
        out,
        "(latency: one evaluate_json call, JSON text in to decision out)"
    )?;
    Ok(())
}

/// `n` with thousands separators.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
