//! `pol-runtime`: evaluates Pol programs.
//!
//! **Invariant:** this crate depends on no `compiler/*` crate: a production
//! host links the runtime alone and loads compiled programs.
//!
//! A host loads a compiled program into an [`Engine`], looks up an
//! [`Entrypoint`] by name and evaluates inputs (JSON text or any
//! `serde::Serialize` value) into [`Decision`]s. Underneath: the reference
//! [`Interpreter`] over the typed IR, the schema-directed input decoder
//! ([`decode`]), and the builtin library ([`builtins`], wired by
//! [`StdBuiltins`]).

pub mod builtins;
pub mod cost;
pub mod decision;
pub mod decode;
pub mod dispatch;
pub mod engine;
pub mod interp;
pub mod live;
#[cfg(feature = "jit")]
mod native;
pub mod report;
pub mod testing;
pub mod value;

pub use cost::{CostBound, InputSizes, Steps};
pub use decision::{Decision, Fired, FiredRule};
pub use decode::{DecodeError, Limits, decode_json, decode_json_sized};
pub use dispatch::{CompiledBuiltins, StdBuiltins};
pub use engine::{Engine, EngineKind, Entrypoint, LoadError, PreparedInput};
pub use interp::{
    Builtins, Coverage, EvalError, Interpreter, compute_params, compute_params_overriding,
    constant_lets,
};
pub use live::LiveEngine;
pub use pol_ir::bundle::{BundleError, Manifest, PublicKey, SignatureStatus, Trust};
pub use value::{FindingValue, Value};
