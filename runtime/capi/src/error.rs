//! Status codes, errors, and the guard every extern function runs its body
//! in: panics are caught there, so none crosses into C.

use std::any::Any;
use std::ffi::{CString, c_char};
use std::panic::{self, AssertUnwindSafe};
use std::ptr;

use pol_runtime::LoadError;

/// What a call did: `POL_STATUS_OK`, or the kind of failure. The
/// `PolError` the call fills in says more.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolStatus {
    /// The call succeeded.
    Ok = 0,
    /// A required pointer was NULL, a name was not valid UTF-8, or a
    /// trusted key could not be parsed.
    InvalidArgument = 1,
    /// The bundle was refused and nothing in it was used: it is not a
    /// bundle, it is truncated or corrupted, it is unsigned or not signed
    /// by a trusted key when keys are required, or its program is invalid.
    BundleRefused = 2,
    /// A file could not be read.
    Io = 3,
    /// The engine's current revision has no policy of that name, or the
    /// entrypoint id was not returned by `pol_entrypoint` on this engine.
    NoSuchEntrypoint = 4,
    /// A bug in the runtime: it panicked, and the panic was stopped at the
    /// C boundary. The engine may still be used; please report the message.
    Panic = 5,
}

/// A failed call's status and message. Owned by the caller: free it with
/// `pol_error_free`. It may be read from any thread.
#[derive(Debug)]
pub struct PolError {
    status: PolStatus,
    message: CString,
}

/// A failure inside a call, before it becomes a `PolError` for C.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: PolStatus,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(status: PolStatus, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }

    /// A NULL pointer where the parameter `name` is required.
    pub(crate) fn null(name: &str) -> Failure {
        Failure::new(PolStatus::InvalidArgument, format!("`{name}` is NULL"))
    }

    fn panic(payload: &(dyn Any + Send)) -> Failure {
        let what = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("no message");
        Failure::new(
            PolStatus::Panic,
            format!("internal error in the Pol runtime (a bug, please report it): {what}"),
        )
    }
}

impl From<LoadError> for Failure {
    fn from(error: LoadError) -> Failure {
        let status = match error {
            LoadError::Io(_) => PolStatus::Io,
            // A program that fails verification, a param that cannot be
            // computed: either way the bundle cannot be used.
            LoadError::Bundle(_)
            | LoadError::Invalid(_)
            | LoadError::Param(_)
            | LoadError::Jit(_) => PolStatus::BundleRefused,
        };
        Failure::new(status, error.to_string())
    }
}

/// A C string of `text`. C strings end at the first NUL, so a NUL inside
/// the text (a policy's reason may hold one) becomes U+FFFD instead of
/// cutting the text short.
pub(crate) fn c_string(text: &str) -> CString {
    let text = if text.contains('\0') {
        text.replace('\0', "\u{FFFD}")
    } else {
        text.to_string()
    };
    CString::new(text).unwrap_or_default()
}

/// Runs the body of an extern function, turning a panic into a
/// [`PolStatus::Panic`] failure.
pub(crate) fn catch<T>(body: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    // Unwind safety: a panic can only come from a bug in the runtime. The
    // state it could leave half-updated is behind `Arc`s swapped atomically
    // (`LiveEngine`) or behind locks whose poisoning the callers ignore
    // deliberately (the entrypoint table only ever grows).
    panic::catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|payload| Err(Failure::panic(payload.as_ref())))
}

/// Runs the body of an extern function that cannot report an error
/// (an accessor, a free function): on a panic it returns `fallback`.
pub(crate) fn catch_or<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    // Unwind safety: as in `catch`.
    panic::catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// Reports the outcome of a call through its `err` out-parameter: NULL on
/// success, a new `PolError` on failure.
///
/// # Safety
///
/// `err` is NULL or valid for writing a `PolError *`.
pub(crate) unsafe fn finish(err: *mut *mut PolError, result: Result<(), Failure>) -> PolStatus {
    let (status, error) = match result {
        Ok(()) => (PolStatus::Ok, ptr::null_mut()),
        Err(failure) if err.is_null() => (failure.status, ptr::null_mut()),
        Err(failure) => (
            failure.status,
            Box::into_raw(Box::new(PolError {
                status: failure.status,
                message: c_string(&failure.message),
            })),
        ),
    };
    if !err.is_null() {
        // SAFETY: `err` is not NULL, and the caller guarantees a non-NULL
        // `err` is valid for writes.
        unsafe { err.write(error) };
    }
    status
}

/// Borrows a `PolError` passed in by C.
///
/// # Safety
///
/// `error` is NULL or a live pointer from a `PolError` out-parameter.
unsafe fn error_ref<'a>(error: *const PolError) -> Option<&'a PolError> {
    // SAFETY: by the caller's guarantee, a non-NULL `error` points to a
    // `PolError` this library allocated and the caller has not freed.
    unsafe { error.as_ref() }
}

/// The status of a failed call. `POL_STATUS_INVALID_ARGUMENT` when `error`
/// is NULL.
///
/// # Safety
///
/// `error` is NULL or a `PolError` from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pol_error_code(error: *const PolError) -> PolStatus {
    catch_or(PolStatus::Panic, || {
        // SAFETY: forwarded from this function's contract.
        match unsafe { error_ref(error) } {
            Some(error) => error.status,
            None => PolStatus::InvalidArgument,
        }
    })
}

/// The message of a failed call: lowercase, naming the cause, such as
/// `the bundle is not signed, and this runtime only loads bundles signed
/// by a trusted key`. The string is owned by `error` and lives until
/// `pol_error_free`. NULL when `error` is NULL.
///
/// # Safety
///
/// `error` is NULL or a `PolError` from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pol_error_message(error: *const PolError) -> *const c_char {
    catch_or(ptr::null(), || {
        // SAFETY: forwarded from this function's contract.
        match unsafe { error_ref(error) } {
            Some(error) => error.message.as_ptr(),
            None => ptr::null(),
        }
    })
}

/// Frees an error. NULL is ignored.
///
/// # Safety
///
/// `error` is NULL or a `PolError` from this library not yet freed; it
/// must not be used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pol_error_free(error: *mut PolError) {
    catch_or((), || {
        if !error.is_null() {
            // SAFETY: a non-NULL `error` came from `Box::into_raw` in
            // `finish` and, by the caller's guarantee, is freed only once.
            drop(unsafe { Box::from_raw(error) });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_panic_status_with_its_message() {
        let failure = catch::<()>(|| panic!("the interpreter lost its place")).unwrap_err();
        assert_eq!(failure.status, PolStatus::Panic);
        assert_eq!(
            failure.message,
            "internal error in the Pol runtime (a bug, please report it): the interpreter lost its place"
        );
        assert_eq!(catch_or(7, || panic!("accessor")), 7);
    }

    #[test]
    fn a_failure_reaches_c_through_err() {
        let mut err = ptr::null_mut();
        let failure = Failure::new(PolStatus::Io, "cannot read `a\0b`");
        // SAFETY: `err` is a local, valid for writes.
        let status = unsafe { finish(&mut err, Err(failure)) };
        assert_eq!(status, PolStatus::Io);
        // SAFETY: `finish` just allocated `err`; it is freed once.
        unsafe {
            assert_eq!(pol_error_code(err), PolStatus::Io);
            let message = std::ffi::CStr::from_ptr(pol_error_message(err));
            assert_eq!(message.to_str(), Ok("cannot read `a\u{FFFD}b`"));
            pol_error_free(err);
        }
        // SAFETY: as above; success resets `err` to NULL.
        assert_eq!(unsafe { finish(&mut err, Ok(())) }, PolStatus::Ok);
        assert!(err.is_null());
    }
}
