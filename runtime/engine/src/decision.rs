//! Decisions: what evaluating a policy produces.
//!
//! A decision is compact: the effect, the fired rules as a bitset, the data
//! that obligations need (redaction findings), the value of a value or
//! filter policy, and the error if evaluation failed. The list of fired
//! rules with their ids, reasons and locations is materialized from the
//! program only when asked for ([`Decision::fired_rules`]).

use pol_ir::AlertSeverity;
use pol_ir::ir::{Action, Effect, Loc, Program};

use crate::value::{FindingValue, Value};

/// The outcome of evaluating a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The policy's index in the program.
    pub policy: u32,
    /// Allow or deny.
    pub effect: Effect,
    /// Fired rules, as a bitset over the policy's rules.
    pub fired: Fired,
    /// Whether the effect came from the policy's `default` (or the implicit
    /// deny): no allow or deny rule fired.
    pub by_default: bool,
    /// The findings of each fired `redact` rule, by rule index.
    pub redactions: Vec<(u32, Vec<FindingValue>)>,
    /// The value of a value or filter policy (absent after an error).
    pub value: Option<Value>,
    /// The evaluation error, when evaluation failed (the effect is then
    /// deny and no rule is listed as fired).
    pub error: Option<String>,
}

/// Words of fired bits kept inline: policies of up to 128 rules.
const INLINE_WORDS: usize = 2;

/// The fired rules of a decision, a bitset over the policy's rules (bit
/// `i % 64` of word `i / 64` is rule `i`). Up to 128 rules it lives inline,
/// so a decision allocates nothing. It reads as the slice of its words;
/// two sets are equal when the same rules fired, however many trailing
/// zero words they carry.
#[derive(Clone, Default)]
pub struct Fired {
    len: usize,
    inline: [u64; INLINE_WORDS],
    heap: Vec<u64>,
}

impl Fired {
    /// The set of these words.
    pub fn from_words(words: &[u64]) -> Fired {
        let mut fired = Fired::default();
        fired.resize(words.len());
        fired.words_mut().copy_from_slice(words);
        fired
    }

    /// Its words.
    pub fn words(&self) -> &[u64] {
        if self.len <= INLINE_WORDS {
            &self.inline[..self.len]
        } else {
            &self.heap
        }
    }

    fn words_mut(&mut self) -> &mut [u64] {
        if self.len <= INLINE_WORDS {
            &mut self.inline[..self.len]
        } else {
            &mut self.heap
        }
    }

    /// Grows to `len` words (new words zero); never shrinks.
    fn resize(&mut self, len: usize) {
        if len <= self.len {
            return;
        }
        if len > INLINE_WORDS {
            if self.len <= INLINE_WORDS {
                self.heap = self.inline[..self.len].to_vec();
            }
            self.heap.resize(len, 0);
        }
        self.len = len;
    }

    /// Adds rule `index`.
    pub fn insert(&mut self, index: usize) {
        self.resize(index / 64 + 1);
        self.words_mut()[index / 64] |= 1 << (index % 64);
    }

    /// Its words without trailing zero words.
    fn trimmed(&self) -> &[u64] {
        let words = self.words();
        let end = words.iter().rposition(|w| *w != 0).map_or(0, |i| i + 1);
        &words[..end]
    }
}

impl std::ops::Deref for Fired {
    type Target = [u64];

    fn deref(&self) -> &[u64] {
        self.words()
    }
}

impl PartialEq for Fired {
    fn eq(&self, other: &Fired) -> bool {
        self.trimmed() == other.trimmed()
    }
}

impl Eq for Fired {}

impl std::fmt::Debug for Fired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.words()).finish()
    }
}

/// A fired rule, materialized for explanations.
#[derive(Debug, Clone, PartialEq)]
pub struct FiredRule {
    /// The stable id.
    pub id: String,
    /// The reason.
    pub reason: String,
    /// Where the rule is written.
    pub loc: Loc,
    /// What kind of rule: `allow`, `deny`, `require_approval`, `redact`,
    /// `alert`, `return`, `keep`.
    pub kind: &'static str,
    /// For an alert, its severity.
    pub severity: Option<AlertSeverity>,
}

impl Decision {
    /// A deny carrying an evaluation error.
    pub fn error(policy: u32, error: String) -> Decision {
        Decision {
            policy,
            effect: Effect::Deny,
            fired: Fired::default(),
            by_default: false,
            redactions: Vec::new(),
            value: None,
            error: Some(error),
        }
    }

    /// Whether the effect is allow.
    pub fn is_allowed(&self) -> bool {
        self.effect == Effect::Allow
    }

    /// Whether the effect is deny.
    pub fn is_denied(&self) -> bool {
        self.effect == Effect::Deny
    }

    /// Whether rule `index` of the policy fired.
    pub fn has_fired(&self, index: usize) -> bool {
        self.fired
            .get(index / 64)
            .is_some_and(|word| word & (1 << (index % 64)) != 0)
    }

    /// Marks rule `index` as fired.
    pub(crate) fn fire(&mut self, index: usize) {
        self.fired.insert(index);
    }

    /// Indices of the fired rules, in rule order.
    pub fn fired_indices(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.fired.len() * 64).filter(|i| self.has_fired(*i))
    }

    /// The fired rules with their ids, reasons and locations.
    pub fn fired_rules(&self, program: &Program) -> Vec<FiredRule> {
        let Some(policy) = program.policies.get(self.policy as usize) else {
            return Vec::new();
        };
        self.fired_indices()
            .filter_map(|i| policy.rules.get(i))
            .map(|rule| FiredRule {
                id: rule.id.clone(),
                reason: rule.reason.clone(),
                loc: rule.loc,
                kind: match &rule.action {
                    Action::Allow => "allow",
                    Action::Deny => "deny",
                    Action::RequireApproval => "require_approval",
                    Action::Redact { .. } => "redact",
                    Action::Alert { .. } => "alert",
                    Action::Return { .. } => "return",
                    Action::Keep { .. } => "keep",
                },
                severity: match &rule.action {
                    Action::Alert { severity } => Some(*severity),
                    _ => None,
                },
            })
            .collect()
    }

    /// The reasons a test or a calling policy sees (`d.reasons`,
    /// `d.fired(reason)`): every fired rule's, then the `default`'s when it
    /// decided.
    pub fn reasons(&self, program: &Program) -> Vec<String> {
        let mut reasons: Vec<String> = self
            .fired_rules(program)
            .into_iter()
            .map(|r| r.reason)
            .collect();
        if self.by_default
            && self.error.is_none()
            && let Some(default) = program
                .policies
                .get(self.policy as usize)
                .and_then(|p| p.default_rule())
        {
            reasons.push(default.reason.clone());
        }
        reasons
    }

    /// Whether a `require_approval` rule fired.
    pub fn requires_approval(&self, program: &Program) -> bool {
        self.fired_rules(program)
            .iter()
            .any(|r| r.kind == "require_approval")
    }

    /// Whether an `alert` rule fired.
    pub fn alerted(&self, program: &Program) -> bool {
        self.fired_rules(program).iter().any(|r| r.kind == "alert")
    }
}
