//! The throughput phase: the mix replayed in a loop on several threads that
//! share one engine, timing each evaluation from JSON text in to decision
//! out.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use pol_runtime::{Decision, Engine, Entrypoint};

use crate::traffic::{self, Kind, NOW_NANOS, Request};

/// The fired-rule key of a policy's `default` (rules are indexed from 0).
pub const DEFAULT_RULE: u32 = u32::MAX;

/// What one thread, or the whole run, measured.
#[derive(Debug, Default)]
pub struct Run {
    /// Threads that evaluated.
    pub threads: usize,
    /// Wall-clock length of the run.
    pub wall: Duration,
    /// Latencies in nanoseconds, per kind in [`Kind::ALL`] order; sorted
    /// once the run is merged.
    pub latencies: Vec<Vec<u32>>,
    /// Decisions whose effect is allow.
    pub allowed: u64,
    /// Decisions whose effect is deny, errors included.
    pub denied: u64,
    /// Decisions that failed with an evaluation error.
    pub errors: u64,
    /// How often each rule fired, by (policy index, rule index); a
    /// policy's default that decided is [`DEFAULT_RULE`].
    pub fired: HashMap<(u32, u32), u64>,
}

impl Run {
    fn new() -> Run {
        Run {
            latencies: vec![Vec::new(); Kind::ALL.len()],
            ..Run::default()
        }
    }

    fn record(&mut self, decision: &Decision) {
        if decision.error.is_some() {
            self.errors += 1;
        }
        if decision.is_allowed() {
            self.allowed += 1;
        } else {
            self.denied += 1;
        }
        for rule in decision.fired_indices() {
            *self
                .fired
                .entry((decision.policy, rule as u32))
                .or_default() += 1;
        }
        if decision.by_default {
            *self
                .fired
                .entry((decision.policy, DEFAULT_RULE))
                .or_default() += 1;
        }
    }

    fn merge(&mut self, other: Run) {
        for (mine, theirs) in self.latencies.iter_mut().zip(other.latencies) {
            mine.extend(theirs);
        }
        self.allowed += other.allowed;
        self.denied += other.denied;
        self.errors += other.errors;
        for (key, count) in other.fired {
            *self.fired.entry(key).or_default() += count;
        }
    }

    /// Decisions in all.
    pub fn decisions(&self) -> u64 {
        self.allowed + self.denied
    }
}

/// How long a run lasts.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Wall-clock time after which threads stop.
    pub length: Duration,
    /// Evaluations each thread makes even when that takes longer, so a slow
    /// policy still gets enough samples for its percentiles.
    pub min_per_thread: usize,
}

/// Replays `mix` on `threads` threads until the budget is spent (each
/// thread finishes the evaluation under way, so each makes at least one).
pub fn run(
    engine: &Engine,
    entries: &[Entrypoint],
    mix: &[Request],
    budget: Budget,
    threads: usize,
) -> Run {
    let start = Instant::now();
    let deadline = start + budget.length;
    let parts: Vec<Run> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                // Each thread starts at another place in the mix, so they do
                // not all evaluate the same request at the same moment.
                let offset = t * mix.len() / threads.max(1);
                let min = budget.min_per_thread;
                scope.spawn(move || worker(engine, entries, mix, (deadline, min), offset))
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Run::new()))
            .collect()
    });
    let mut total = Run::new();
    total.wall = start.elapsed();
    total.threads = threads;
    for part in parts {
        total.merge(part);
    }
    for latencies in &mut total.latencies {
        latencies.sort_unstable();
    }
    total
}

fn worker(
    engine: &Engine,
    entries: &[Entrypoint],
    mix: &[Request],
    (deadline, min): (Instant, usize),
    offset: usize,
) -> Run {
    let mut run = Run::new();
    if mix.is_empty() {
        return run;
    }
    let mut next = offset;
    loop {
        let request = &mix[next % mix.len()];
        next += 1;
        let kind = traffic::kind_index(request.kind);
        let begin = Instant::now();
        let decision = engine.evaluate_json(entries[kind], &request.json, NOW_NANOS);
        let end = Instant::now();
        let nanos = end.duration_since(begin).as_nanos();
        run.latencies[kind].push(u32::try_from(nanos).unwrap_or(u32::MAX));
        run.record(&decision);
        if end >= deadline && next - offset >= min {
            return run;
        }
    }
}

/// The value at quantile `q` (0 to 1) of sorted `values`, nearest rank.
pub fn percentile(sorted: &[u32], q: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let values: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&values, 0.5), 50);
        assert_eq!(percentile(&values, 0.99), 99);
        assert_eq!(percentile(&values, 1.0), 100);
        assert_eq!(percentile(&[], 0.5), 0);
    }
}
