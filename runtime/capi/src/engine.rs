//! Engines: load a bundle, swap in a new revision, look up entrypoints.

use std::ffi::c_char;
use std::sync::Arc;

use arc_swap::ArcSwap;

use pol_runtime::{Engine, Entrypoint, Limits, LiveEngine, Trust};

use crate::args;
use crate::error::{Failure, PolError, PolStatus, catch, catch_or, finish};

/// A loaded bundle, ready to evaluate requests.
///
/// Thread safety: every function taking a `PolEngine` may be called from
/// any number of threads at once, `pol_engine_load_bundle` included,
/// except `pol_engine_free`, which must come after every other call on the
/// engine has returned. Decisions keep the revision that made them alive,
/// so they may outlive a swap and even the engine.
#[derive(Debug)]
pub struct PolEngine {
    live: LiveEngine,
    /// The keys the engine was created with: replacement bundles must be
    /// signed by one of them too.
    trust: Trust,
    /// The names behind entrypoint ids: an id is an index here. An id names
    /// a policy, not a position in one revision's program, so it stays
    /// right when a swap reorders or removes policies. Read on every
    /// evaluation without a lock (one atomic load); a new name copies the
    /// table.
    entrypoints: ArcSwap<Vec<Box<str>>>,
}

impl PolEngine {
    fn new(engine: Engine, trust: Trust) -> PolEngine {
        PolEngine {
            live: LiveEngine::new(engine),
            trust,
            entrypoints: ArcSwap::from_pointee(Vec::new()),
        }
    }

    /// The revision current now, and the entrypoint `id` resolved in it.
    pub(crate) fn resolve(&self, id: u32) -> Result<(Arc<Engine>, Entrypoint), Failure> {
        let engine = self.live.current();
        let names = self.entrypoints.load();
        let Some(name) = names.get(id as usize) else {
            return Err(Failure::new(
                PolStatus::NoSuchEntrypoint,
                format!("entrypoint id {id} was not returned by `pol_entrypoint` on this engine"),
            ));
        };
        let entry = engine
            .entrypoint(name)
            .ok_or_else(|| missing_entrypoint(&engine, name))?;
        Ok((engine, entry))
    }

    /// The id of entrypoint `name`, registering it on first use.
    fn entrypoint_id(&self, name: &str) -> Result<u32, Failure> {
        let engine = self.live.current();
        if engine.entrypoint(name).is_none() {
            return Err(missing_entrypoint(&engine, name));
        }
        let position = |names: &[Box<str>]| names.iter().position(|n| &**n == name);
        let index = match position(&self.entrypoints.load()) {
            Some(index) => index,
            None => {
                // Copy the table with the new name; if another thread
                // changed it meanwhile, this runs again on its table (and
                // may find the name registered there).
                let mut index = 0;
                self.entrypoints.rcu(|names| {
                    let mut names = Vec::clone(names);
                    index = position(&names).unwrap_or_else(|| {
                        names.push(name.into());
                        names.len() - 1
                    });
                    names
                });
                index
            }
        };
        u32::try_from(index)
            .map_err(|_| Failure::new(PolStatus::InvalidArgument, "too many entrypoint names"))
    }
}

fn missing_entrypoint(engine: &Engine, name: &str) -> Failure {
    let revision = match engine.revision() {
        Some(revision) => format!("revision `{revision}` of the bundle"),
        None => "the bundle".to_string(),
    };
    Failure::new(
        PolStatus::NoSuchEntrypoint,
        format!("no entrypoint `{name}` in {revision}"),
    )
}

/// Loads a bundle written by `polc build` from memory.
///
/// `trusted_keys` holds `key_count` public keys, each the text of a `.pub`
/// file written by `polc keygen`. With keys, only a bundle signed by one of
/// them loads; with none (`key_count` 0, `trusted_keys` may be NULL), any
/// intact bundle loads, signed or not: for development only.
///
/// On success, `*out` is a new engine (free it with `pol_engine_free`) and
/// `*err` is NULL. On failure, `*out` is untouched and `*err` (when `err`
/// is not NULL) is a new error: `POL_STATUS_BUNDLE_REFUSED` naming the
/// cause, or `POL_STATUS_INVALID_ARGUMENT`. The bundle's bytes are copied
/// where needed; the buffer may be freed when the call returns.
///
/// # Safety
///
/// `bundle` is NULL or valid for reads of `bundle_len` bytes;
/// `trusted_keys` is NULL or an array of `key_count` NUL-terminated
/// strings; `out` is NULL or writable; `err` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pol_engine_load(
    bundle: *const u8,
    bundle_len: usize,
    trusted_keys: *const *const c_char,
    key_count: usize,
    out: *mut *mut PolEngine,
    err: *mut *mut PolError,
) -> PolStatus {
    let load = |trust: &Trust| {
        // SAFETY: forwarded from this function's contract.
        let bytes = unsafe { args::bytes(bundle, bundle_len, "bundle") }?;
        Ok(Engine::from_bundle(bytes, trust)?)
    };
    // SAFETY: forwarded from this function's contract.
    unsafe { load_into((trusted_keys, key_count, true), out, err, load) }
}

/// What `pol_engine_load` and `pol_engine_load_file` share: the keys read,
/// the engine loaded by `load` with them, written to `*out`, the status
/// and error reported.
///
/// # Safety
///
/// As for `pol_engine_load`'s `trusted_keys`, `key_count`, `out` and `err`.
unsafe fn load_into(
    (trusted_keys, key_count, allow_unsigned): (*const *const c_char, usize, bool),
    out: *mut *mut PolEngine,
    err: *mut *mut PolError,
    load: impl FnOnce(&Trust) -> Result<Engine, Failure>,
) -> PolStatus {
    let result = catch(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // Zero keys trust any intact bundle only where unsigned bundles
        // are allowed; otherwise they trust nothing.
        let trust = if key_count == 0 && !allow_unsigned {
            Trust::keys([])
        } else {
            // SAFETY: forwarded from the caller's contract.
            unsafe { args::trust(trusted_keys, key_count) }?
        };
        let engine = load(&trust)?;
        let engine = Box::into_raw(Box::new(PolEngine::new(engine, trust)));
        // SAFETY: `out` is not NULL, and the caller guarantees it writable.
        unsafe { out.write(engine) };
        Ok(())
    });
    // SAFETY: forwarded from the caller's contract.
    unsafe { finish(err, result) }
}

/// Limits on the inputs an engine evaluates, and its cost budget (see
/// `docs/security.md`). An input over a limit, or whose cost bound at its
/// sizes is over `max_cost`, is not evaluated: its decision is a deny whose
/// error says which limit. Start from `pol_limits_default()` and change
/// what you need; a field of 0 refuses every input.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolLimits {
    /// Longest JSON text, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of objects and arrays (the input itself is 0).
    pub max_depth: usize,
    /// Most elements of an array, or entries of an object read as a map.
    pub max_collection: usize,
    /// Longest string or map key, in bytes.
    pub max_string: usize,
    /// Most evaluation steps an input's cost bound may reach.
    pub max_cost: u64,
}

impl From<Limits> for PolLimits {
    fn from(l: Limits) -> PolLimits {
        PolLimits {
            max_bytes: l.max_bytes,
            max_depth: l.max_depth,
            max_collection: l.max_collection,
            max_string: l.max_string,
            max_cost: l.max_cost,
        }
    }
}

impl From<PolLimits> for Limits {
    fn from(l: PolLimits) -> Limits {
        Limits {
            max_bytes: l.max_bytes,
            max_depth: l.max_depth,
            max_collection: l.max_collection,
            max_string: l.max_string,
            max_cost: l.max_cost,
        }
    }
}

/// The default limits (1 MiB of JSON, depth 32, 10,000 elements, strings
/// of 256 KiB, 500,000,000 steps).
#[unsafe(no_mangle)]
pub extern "C" fn pol_limits_default() -> PolLimits {
    Limits::default().into()
}

/// How `pol_engine_load_with` loads.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolLoadOptions {
    /// The engine's limits; hot swaps keep them.
    pub limits: PolLimits,
    /// Whether a bundle may load without a trusted key checking its
    /// signature. Only when this is true do zero keys mean "any intact
    /// bundle" (development); when false, zero keys refuse every bundle,
    /// so a host whose key list came out empty fails closed.
    pub allow_unsigned: bool,
}

/// Loads a bundle from memory like `pol_engine_load`, with options: the
/// engine's limits, and whether unsigned bundles may load at all. Unlike
/// `pol_engine_load`, zero keys load nothing unless
/// `options->allow_unsigned` is true.
///
/// `options` NULL is `POL_STATUS_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `options` is NULL or points to a `PolLoadOptions`; the rest as for
/// `pol_engine_load`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pol_engine_load_with(
    bundle: *const u8,
    bundle_len: usize,
    trusted_keys: *const *const c_char,
    key_count: usize,
    options: *const PolLoadOptions,
    out: *mut *mut PolEngine,
    err: *mut *mut PolError,
) -> PolStatus {
    if options.is_null() {
        // SAFETY: forwarded from this function's contract.
        return unsafe { finish(err, Err(Failure::null("options"))) };
    }
    // SAFETY: not NULL, and the caller guarantees it points to options.
    let options = unsafe { options.read() };
    let load = |trust: &Trust| {
        // SAFETY: forwarded from this function's contract.
        let bytes = unsafe { args::bytes(bundle, bundle_len, "bundle") }?;
        Ok(Engine::from_bundle(bytes, trust)?.with_limits(options.limits.into()))
    };
    let keys = (trusted_keys, key_count, options.allow_unsigned);
    // SAFETY: forwarded from this function's contract.
    unsafe { load_into(keys, out, err, load) }
}

/// Loads a bundle file, like `pol_engine_load`. A file that cannot be read
/// is `POL_STATUS_IO`, with a message naming the path.
///
/// # Safety
///
/// `path` is NULL or a NUL-terminated string; the rest as for
/// `pol_engine_load`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pol_engine_load_file(
    path: *const c_char,
    trusted_keys: *const *const c_char,
    key_count: usize,
    out: *mut *mut PolEngine,
    err: *mut *mut PolError,
) -> PolStatus {
    let load = |trust: &Trust| {
        // SAFETY: forwarded from this function's contract.
        let path = unsafe { args::path(path, "path") }?;
        Ok(Engine::from_bundle_file(&path, trust)?)
    };
    // SAFETY: forwarded from this function's contract.
    unsafe { load_into((trusted_keys, key_count, true), out, err, load) }
}

/// Hot swap: loads a new revision from memory and makes it current. The
/// bundle must satisfy the keys the engine was created with. It is
/// verified and compiled before anything changes: evaluations running
/// meanwhile finish on the old revision, later ones use the new one, and
/// none sees a mix. When the bundle is refused, the current revision stays
/// and `*err` says why.
///
/// Entrypoint ids stay valid: they are resolved by name in the revision
/// current at each evaluation (`POL_STATUS_NO_SUCH_ENTRYPOINT` if the new
/// revision dropped the policy).
///
/// # Safety
///
/// `engine` is NULL or a live engine; `bundle` is NULL or valid for reads
/// of `bundle_len` bytes; `err` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pol_engine_load_bundle(
    engine: *const PolEngine,
    bundle: *const u8,
    bundle_len: usize,
    err: *mut *mut PolError,
) -> PolStatus {
    let result = catch(|| {
        // SAFETY: forwarded from this function's contract.
        let engine = unsafe { args::object(engine, "engine") }?;
        // SAFETY: forwarded from this function's contract.
        let bytes = unsafe { args::bytes(bundle, bundle_len, "bundle") }?;
        engine.live.load_bundle(bytes, &engine.trust)?;
        Ok(())
    });
    // SAFETY: forwarded from this function's contract.
    unsafe { finish(err, result) }
}

/// Hot swap from a file, like `pol_engine_load_bundle`.
///
/// # Safety
///
/// `engine` is NULL or a live engine; `path` is NULL or a NUL-terminated
/// string; `err` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pol_engine_load_bundle_file(
    engine: *const PolEngine,
    path: *const c_char,
    err: *mut *mut PolError,
) -> PolStatus {
    let result = catch(|| {
        // SAFETY: forwarded from this function's contract.
        let engine = unsafe { args::object(engine, "engine") }?;
        // SAFETY: forwarded from this function's contract.
        let path = unsafe { args::path(path, "path") }?;
        engine.live.load_bundle_file(&path, &engine.trust)?;
        Ok(())
    });
    // SAFETY: forwarded from this function's contract.
    unsafe { finish(err, result) }
}

/// Frees an engine. Decisions made with it stay valid until they are
/// freed. NULL is ignored.
///
/// # Safety
///
/// `engine` is NULL or an engine from this library not yet freed, and no
/// other call on it is running or will be made.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pol_engine_free(engine: *mut PolEngine) {
    catch_or((), || {
        if !engine.is_null() {
            // SAFETY: a non-NULL `engine` came from `Box::into_raw` in a
            // load function and, by the caller's guarantee, is freed once
            // and no longer in use.
            drop(unsafe { Box::from_raw(engine) });
        }
    })
}

/// Copies the current revision's name (`polc build --revision`) into
/// `buf`, like `snprintf`: at most `size - 1` bytes and a NUL. Returns the
/// name's full length in bytes, without the NUL, so a result `>= size`
/// means it was cut short; 0 when the bundle has no revision or `engine`
/// is NULL. `buf` may be NULL when `size` is 0, to ask for the length.
///
/// # Safety
///
/// `engine` is NULL or a live engine; `buf` is NULL or valid for writes of
/// `size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pol_engine_revision(
    engine: *const PolEngine,
    buf: *mut c_char,
    size: usize,
) -> usize {
    catch_or(0, || {
        // Like `snprintf`: the buffer always holds a string afterwards.
        if !buf.is_null() && size > 0 {
            // SAFETY: `buf` is not NULL, so the caller guarantees `size > 0`
            // writable bytes.
            unsafe { buf.write(0) };
        }
        // SAFETY: forwarded from this function's contract.
        let Ok(engine) = (unsafe { args::object(engine, "engine") }) else {
            return 0;
        };
        let current = engine.live.current();
        // A NUL inside the revision would cut it short in C: replaced, as
        // for every other string this library hands out.
        let revision = crate::error::c_string(current.revision().unwrap_or_default());
        let revision = revision.as_bytes();
        if !buf.is_null() && size > 0 {
            let copied = revision.len().min(size - 1);
            // SAFETY: `buf` is not NULL, so the caller guarantees `size`
            // writable bytes; `copied + 1 <= size`, and the source is a
            // Rust string that cannot overlap a C buffer.
            unsafe {
                std::ptr::copy_nonoverlapping(revision.as_ptr(), buf.cast::<u8>(), copied);
                buf.add(copied).write(0);
            }
        }
        revision.len()
    })
}

/// Looks up the entrypoint `name` (`package.policy`, such as
/// `std.guards.input.prompt`) and writes its id to `*out`, for
/// `pol_evaluate`. The id names the policy on this engine and stays valid
/// across swaps. Fails with `POL_STATUS_NO_SUCH_ENTRYPOINT` when the
/// current revision has no such policy.
///
/// # Safety
///
/// `engine` is NULL or a live engine; `name` is NULL or a NUL-terminated
/// string; `out` is NULL or writable; `err` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pol_entrypoint(
    engine: *const PolEngine,
    name: *const c_char,
    out: *mut u32,
    err: *mut *mut PolError,
) -> PolStatus {
    let result = catch(|| {
        // SAFETY: forwarded from this function's contract.
        let engine = unsafe { args::object(engine, "engine") }?;
        // SAFETY: forwarded from this function's contract.
        let name = unsafe { args::utf8(name, "name") }?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let id = engine.entrypoint_id(name)?;
        // SAFETY: `out` is not NULL, and the caller guarantees it writable.
        unsafe { out.write(id) };
        Ok(())
    });
    // SAFETY: forwarded from this function's contract.
    unsafe { finish(err, result) }
}
