//! `pol-runtime`: evaluates Pol programs.
//!
//! **Invariant:** this crate depends on no `compiler/*` crate: a production
//! host links the runtime alone and loads compiled programs.
//!
//! Today it holds the builtin library every Pol program may call
//! ([`builtins`]); the typed IR interpreter, the input decoder and the
//! embedding API are being built on top of it.

pub mod builtins;
pub mod decision;
pub mod decode;
pub mod dispatch;
pub mod interp;
pub mod report;
pub mod value;

pub use decision::{Decision, FiredRule};
pub use decode::{DecodeError, Limits, decode_json};
pub use dispatch::StdBuiltins;
pub use interp::{Builtins, EvalError, Interpreter};
pub use value::{FindingValue, Value};
