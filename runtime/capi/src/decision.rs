//! Evaluating a request, and reading the decision.

use std::ffi::{CString, c_char};
use std::ptr;
use std::sync::{Arc, OnceLock};

use pol_runtime::{Decision, Engine};

use crate::args;
use crate::engine::PolEngine;
use crate::error::{Failure, PolError, PolStatus, c_string, catch, catch_or, finish};

/// Allow or deny. Deny is zero, so a zeroed or unset effect fails closed.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolEffect {
    /// The request is refused.
    Deny = 0,
    /// The request may proceed, once the decision's obligations
    /// (approvals, redactions, alerts: see `pol_decision_json`) are met.
    Allow = 1,
}

/// The outcome of one evaluation. Owned by the caller: free it with
/// `pol_decision_free`. Its strings live as long as it does.
///
/// A decision keeps the engine revision that made it alive, so it may be
/// read after a hot swap or after `pol_engine_free`. It is immutable once
/// made: it may be read from any thread, and freed once nothing reads it.
#[derive(Debug)]
pub struct PolDecision {
    /// The revision that decided: the reasons and the JSON are read from
    /// its program.
    engine: Arc<Engine>,
    decision: Decision,
    error: Option<CString>,
    revision: Option<CString>,
    /// Made on first use, since a host may read only the effect.
    reasons: OnceLock<Vec<CString>>,
    json: OnceLock<CString>,
}

impl PolDecision {
    fn new(engine: Arc<Engine>, decision: Decision) -> PolDecision {
        PolDecision {
            error: decision.error.as_deref().map(c_string),
            revision: engine.revision().map(c_string),
            engine,
            decision,
            reasons: OnceLock::new(),
            json: OnceLock::new(),
        }
    }

    fn reasons(&self) -> &[CString] {
        self.reasons.get_or_init(|| {
            self.decision
                .reasons(self.engine.program())
                .iter()
                .map(|r| c_string(r))
                .collect()
        })
    }
}

/// Evaluates the entrypoint `entry` (from `pol_entrypoint`) on a request:
/// `json_len` bytes of JSON text shaped like the policy's input schema
/// (`polc inspect` shows it). `now_nanos` is the request time in
/// nanoseconds since the Unix epoch, what policies see as `now`: the host
/// owns the clock.
///
/// A request that is not valid JSON or does not fit the schema is not a
/// call failure: it is `POL_STATUS_OK` with a deny decision whose
/// `pol_decision_error` says what is wrong. Failures are only misuse (NULL
/// pointers, `POL_STATUS_INVALID_ARGUMENT`), an entrypoint the current
/// revision lacks (`POL_STATUS_NO_SUCH_ENTRYPOINT`), and bugs
/// (`POL_STATUS_PANIC`).
///
/// On success `*out` is a new decision and `*err` is NULL. Safe to call
/// from many threads on one engine at once.
///
/// # Safety
///
/// `engine` is NULL or a live engine; `json` is NULL or valid for reads of
/// `json_len` bytes; `out` is NULL or writable; `err` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pol_evaluate(
    engine: *const PolEngine,
    entry: u32,
    json: *const u8,
    json_len: usize,
    now_nanos: i64,
    out: *mut *mut PolDecision,
    err: *mut *mut PolError,
) -> PolStatus {
    let result = catch(|| {
        // SAFETY: forwarded from this function's contract.
        let engine = unsafe { args::object(engine, "engine") }?;
        // SAFETY: forwarded from this function's contract.
        let json = unsafe { args::bytes(json, json_len, "json") }?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let (current, entry) = engine.resolve(entry)?;
        let decision = current.evaluate_json(entry, json, now_nanos);
        let decision = Box::into_raw(Box::new(PolDecision::new(current, decision)));
        // SAFETY: `out` is not NULL, and the caller guarantees it writable.
        unsafe { out.write(decision) };
        Ok(())
    });
    // SAFETY: forwarded from this function's contract.
    unsafe { finish(err, result) }
}

/// Borrows a decision passed in by C; `None` for NULL.
///
/// # Safety
///
/// `decision` is NULL or a decision from this library not yet freed.
unsafe fn decision_ref<'a>(decision: *const PolDecision) -> Option<&'a PolDecision> {
    // SAFETY: by the caller's guarantee, a non-NULL `decision` points to a
    // `PolDecision` this library allocated and the caller has not freed;
    // nothing mutates it (its lazy fields are `OnceLock`s).
    unsafe { decision.as_ref() }
}

/// Allow or deny. `POL_EFFECT_DENY` when `decision` is NULL.
///
/// # Safety
///
/// `decision` is NULL or a decision from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pol_decision_effect(decision: *const PolDecision) -> PolEffect {
    catch_or(PolEffect::Deny, || {
        // SAFETY: forwarded from this function's contract.
        match unsafe { decision_ref(decision) } {
            Some(d) if d.decision.is_allowed() => PolEffect::Allow,
            _ => PolEffect::Deny,
        }
    })
}

/// How many reasons the decision has: those of the rules that fired, in
/// rule order, then the policy's `default` when it decided. 0 when
/// `decision` is NULL.
///
/// # Safety
///
/// `decision` is NULL or a decision from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pol_decision_reason_count(decision: *const PolDecision) -> usize {
    catch_or(0, || {
        // SAFETY: forwarded from this function's contract.
        unsafe { decision_ref(decision) }.map_or(0, |d| d.reasons().len())
    })
}

/// Reason `index` (from 0), such as `prompt injection phrase`, owned by the
/// decision. NULL when `index` is out of range or `decision` is NULL.
///
/// # Safety
///
/// `decision` is NULL or a decision from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pol_decision_reason(
    decision: *const PolDecision,
    index: usize,
) -> *const c_char {
    catch_or(ptr::null(), || {
        // SAFETY: forwarded from this function's contract.
        unsafe { decision_ref(decision) }
            .and_then(|d| d.reasons().get(index))
            .map_or(ptr::null(), |reason| reason.as_ptr())
    })
}

/// Whether a `require_approval` rule fired: the host must have a person
/// approve before it acts, even on allow. False when `decision` is NULL.
///
/// # Safety
///
/// `decision` is NULL or a decision from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pol_decision_requires_approval(decision: *const PolDecision) -> bool {
    catch_or(false, || {
        // SAFETY: forwarded from this function's contract.
        unsafe { decision_ref(decision) }
            .is_some_and(|d| d.decision.requires_approval(d.engine.program()))
    })
}

/// Why evaluation failed (the effect is then deny), such as
/// `input $.text: expected a string, found a number`; NULL when it did not
/// fail. Owned by the decision.
///
/// # Safety
///
/// `decision` is NULL or a decision from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pol_decision_error(decision: *const PolDecision) -> *const c_char {
    catch_or(ptr::null(), || {
        // SAFETY: forwarded from this function's contract.
        unsafe { decision_ref(decision) }
            .and_then(|d| d.error.as_ref())
            .map_or(ptr::null(), |e| e.as_ptr())
    })
}

/// The revision of the bundle that decided; NULL when it has none or
/// `decision` is NULL. Owned by the decision.
///
/// # Safety
///
/// `decision` is NULL or a decision from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pol_decision_revision(decision: *const PolDecision) -> *const c_char {
    catch_or(ptr::null(), || {
        // SAFETY: forwarded from this function's contract.
        unsafe { decision_ref(decision) }
            .and_then(|d| d.revision.as_ref())
            .map_or(ptr::null(), |r| r.as_ptr())
    })
}

/// The whole decision as one line of JSON, owned by the decision: the
/// policy, effect, fired rules (id, reason, kind, source location), the
/// `default` when it decided, the obligations (approvals, alerts, spans to
/// redact), the value, the error and the revision. The shape is documented
/// in `docs/cli.md` (`polc eval --format json`). NULL when `decision` is
/// NULL.
///
/// # Safety
///
/// `decision` is NULL or a decision from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pol_decision_json(decision: *const PolDecision) -> *const c_char {
    catch_or(ptr::null(), || {
        // SAFETY: forwarded from this function's contract.
        let Some(d) = (unsafe { decision_ref(decision) }) else {
            return ptr::null();
        };
        d.json
            .get_or_init(|| c_string(&d.engine.decision_json(&d.decision).to_string()))
            .as_ptr()
    })
}

/// Frees a decision and its strings. NULL is ignored.
///
/// # Safety
///
/// `decision` is NULL or a decision from this library not yet freed; it
/// and its strings must not be used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pol_decision_free(decision: *mut PolDecision) {
    catch_or((), || {
        if !decision.is_null() {
            // SAFETY: a non-NULL `decision` came from `Box::into_raw` in
            // `pol_evaluate` and, by the caller's guarantee, is freed once.
            drop(unsafe { Box::from_raw(decision) });
        }
    })
}
