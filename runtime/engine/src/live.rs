//! Hot swap: load a new bundle revision while evaluations continue on the
//! old one, then switch atomically.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::engine::{Engine, LoadError};
use pol_ir::bundle::Trust;

/// The engine a host evaluates with, replaceable while in use.
///
/// Each evaluation takes the current engine with [`LiveEngine::current`]
/// (one atomic load, no lock) and uses it to the end, decision rendering
/// included: an evaluation never sees a half-loaded policy or a mix of two
/// revisions. [`LiveEngine::load_bundle`] verifies and compiles the new
/// revision to the side and switches only when it is ready; if it is
/// refused, the current engine stays. The old engine (and its native code)
/// is freed when the last evaluation using it drops its `Arc`.
///
/// ```
/// use pol_runtime::{Engine, LiveEngine, Trust};
/// # let source = |reason: &str| format!("package demo\nschema Call {{ tool: string }}\npolicy call(c: Call) -> Decision {{\n  allow \"{reason}\" when c.tool == \"search\"\n}}\n");
/// # let bundle = |reason: &str, revision: &str| {
/// #     let program = pol_sema::compile([("a.pol".to_string(), source(reason))]).unwrap();
/// #     let info = pol_ir::bundle::BuildInfo { revision: revision.into(), ..Default::default() };
/// #     pol_ir::bundle::write(&program, &info, None).unwrap()
/// # };
/// let live = LiveEngine::new(Engine::from_bundle(&bundle("v1 rule", "v1"), &Trust::any())?);
///
/// let engine = live.current(); // an evaluation holds this revision...
/// live.load_bundle(&bundle("v2 rule", "v2"), &Trust::any())?; // ...while v2 goes live
/// let entry = engine.entrypoint("demo.call").unwrap();
/// let decision = engine.evaluate_json(entry, br#"{"tool": "search"}"#, 0);
/// assert_eq!(engine.reasons(&decision), ["v1 rule"]);
///
/// assert_eq!(live.current().revision(), Some("v2"));
/// # Ok::<(), pol_runtime::LoadError>(())
/// ```
pub struct LiveEngine {
    current: ArcSwap<Engine>,
}

impl std::fmt::Debug for LiveEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveEngine")
            .field("current", &self.current.load())
            .finish()
    }
}

impl LiveEngine {
    /// Starts with `engine`.
    pub fn new(engine: Engine) -> LiveEngine {
        LiveEngine {
            current: ArcSwap::from_pointee(engine),
        }
    }

    /// The engine to evaluate with now. Keep it for the whole evaluation
    /// (and for rendering its decision).
    pub fn current(&self) -> Arc<Engine> {
        self.current.load_full()
    }

    /// Runs `f` with the engine current now, without taking a reference
    /// count on it: arc-swap's guard writes nothing that other threads
    /// share, where [`LiveEngine::current`] increments one counter that
    /// every evaluating thread touches. For an evaluation that ends inside
    /// `f`; a swap meanwhile does not wait, and the guard keeps the old
    /// engine alive until `f` returns.
    pub fn with_current<T>(&self, f: impl FnOnce(&Engine) -> T) -> T {
        f(&self.current.load())
    }

    /// Makes `engine` current; returns the engine it replaces.
    pub fn swap(&self, engine: Engine) -> Arc<Engine> {
        self.current.swap(Arc::new(engine))
    }

    /// Loads a bundle (verified and compiled before anything changes) and
    /// makes it current; returns the new engine. The new engine keeps the
    /// current one's limits ([`Engine::limits`]): they are the host's
    /// setting, not the bundle's. When the bundle is refused, the current
    /// engine stays and the error says why.
    pub fn load_bundle(&self, bytes: &[u8], trust: &Trust) -> Result<Arc<Engine>, LoadError> {
        Ok(self.install(Engine::from_bundle(bytes, trust)?))
    }

    /// Reads a bundle file and loads it like [`LiveEngine::load_bundle`].
    pub fn load_bundle_file(
        &self,
        path: impl AsRef<std::path::Path>,
        trust: &Trust,
    ) -> Result<Arc<Engine>, LoadError> {
        Ok(self.install(Engine::from_bundle_file(path, trust)?))
    }

    /// Makes a freshly loaded engine current with the current one's limits.
    fn install(&self, engine: Engine) -> Arc<Engine> {
        let limits = *self.current.load().limits();
        let engine = Arc::new(engine.with_limits(limits));
        self.current.store(engine.clone());
        engine
    }
}
