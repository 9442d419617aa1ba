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
    pub fired: Vec<u64>,
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
            fired: Vec::new(),
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
        if self.fired.len() <= index / 64 {
            self.fired.resize(index / 64 + 1, 0);
        }
        self.fired[index / 64] |= 1 << (index % 64);
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
