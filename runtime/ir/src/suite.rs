//! Lowered `test` blocks: what `polc test` runs against a [`Program`].
//!
//! Tests are lowered with the program they test (they share its params,
//! lets and policies) but are never part of a bundle: a bundle carries the
//! [`Program`] alone.
//!
//! [`Program`]: crate::ir::Program

use serde::{Deserialize, Serialize};

use crate::builtins::Builtin;
use crate::ir::{Body, Loc, NodeId, Slot};

/// One `test "name" { ... }` block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Test {
    /// The name written after `test`.
    pub name: String,
    /// The package the test belongs to.
    pub package: String,
    /// Where the block is.
    pub loc: Loc,
    /// Every expression of the test; its slots hold the test's locals and
    /// `for` variables.
    pub body: Body,
    /// The statements, in order.
    pub stmts: Vec<TestStmt>,
}

/// A statement of a test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TestStmt {
    /// `let x = value`
    Let {
        /// Where the value goes.
        slot: Slot,
        /// The value.
        value: NodeId,
    },
    /// `expect cond`
    Expect {
        /// The condition, a `bool`.
        cond: NodeId,
        /// Where the condition is (reports quote it from the source).
        loc: Loc,
    },
    /// `for var in cases { body }`: the body runs once per element, and
    /// each run is reported as its own case.
    For {
        /// The case variable.
        var: Slot,
        /// The collection (a list, a set, or a map whose keys are the cases).
        cases: NodeId,
        /// The statements run for each case.
        body: Vec<TestStmt>,
        /// Where the loop is.
        loc: Loc,
    },
    /// `with target = value, ... { body }`
    With {
        /// The overrides, in order.
        overrides: Vec<Override>,
        /// The statements run with them.
        body: Vec<TestStmt>,
    },
}

/// One `target = value` of a `with`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Override {
    /// What is replaced.
    pub target: OverrideTarget,
    /// Its value for the block, evaluated when the block is entered.
    pub value: NodeId,
}

/// What a `with` replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OverrideTarget {
    /// A param, by index; params computed from it are recomputed.
    Param(u32),
    /// A top-level let, by index.
    Let(u32),
    /// A builtin function: every call returns the value.
    Builtin(Builtin),
}
