//! `pol-ir`: the definitions the Pol front end and the runtime share.
//!
//! **Invariant:** this crate depends on no `compiler/*` crate; a production
//! host links the runtime alone.
//!
//! It holds the typed IR ([`ir`]), the builtin table (every builtin's
//! module, name and signature, implemented by the runtime under the same
//! [`Builtin`] id), the time values (`duration` and `timestamp` literals),
//! and the alert severities.

pub mod builtins;
pub mod bundle;
pub mod cost;
pub mod ir;
pub mod limits;
pub mod prune;
pub mod suite;
pub mod time;
pub mod typeck;

pub use builtins::{Builtin, BuiltinSig, Receiver, TypePattern};

use serde::{Deserialize, Serialize};

/// The severity of an `alert` obligation, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertSeverity {
    /// For the record.
    Info,
    /// Look when convenient.
    Low,
    /// Look soon.
    Medium,
    /// Look now.
    High,
    /// Page someone.
    Critical,
}

impl AlertSeverity {
    /// Every severity, least severe first.
    pub const ALL: [AlertSeverity; 5] = [
        AlertSeverity::Info,
        AlertSeverity::Low,
        AlertSeverity::Medium,
        AlertSeverity::High,
        AlertSeverity::Critical,
    ];

    /// The name as written in Pol.
    pub fn name(self) -> &'static str {
        match self {
            AlertSeverity::Info => "info",
            AlertSeverity::Low => "low",
            AlertSeverity::Medium => "medium",
            AlertSeverity::High => "high",
            AlertSeverity::Critical => "critical",
        }
    }

    /// The severity named `name`, if any.
    pub fn from_name(name: &str) -> Option<AlertSeverity> {
        AlertSeverity::ALL.into_iter().find(|s| s.name() == name)
    }
}
