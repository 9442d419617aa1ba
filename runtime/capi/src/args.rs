//! Reading the arguments C passes in: every pointer is checked for NULL
//! here, before anything reads through it, and every name for UTF-8.

use std::ffi::{CStr, c_char};
use std::path::PathBuf;

use pol_runtime::{PublicKey, Trust};

use crate::error::{Failure, PolStatus};

/// Borrows the object behind a required pointer.
///
/// # Safety
///
/// `ptr` is NULL or points to a live `T` that nothing mutates for `'a`.
pub(crate) unsafe fn object<'a, T>(ptr: *const T, name: &str) -> Result<&'a T, Failure> {
    // SAFETY: by the caller's guarantee, a non-NULL `ptr` points to a live
    // `T` for `'a`; `as_ref` turns NULL into `None`.
    unsafe { ptr.as_ref() }.ok_or_else(|| Failure::null(name))
}

/// Borrows `len` bytes from C. NULL is refused even with a length of zero,
/// so a forgotten buffer is reported rather than read as empty.
///
/// # Safety
///
/// `ptr` is NULL or valid for reads of `len` bytes, unchanged for `'a`.
pub(crate) unsafe fn bytes<'a>(
    ptr: *const u8,
    len: usize,
    name: &str,
) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    if isize::try_from(len).is_err() {
        return Err(Failure::new(
            PolStatus::InvalidArgument,
            format!("`{name}` is longer than any buffer can be"),
        ));
    }
    // SAFETY: `ptr` is not NULL, the caller guarantees it is valid for
    // reads of `len` bytes for `'a`, and `len` fits `isize` as
    // `from_raw_parts` requires.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows a NUL-terminated C string.
///
/// # Safety
///
/// `ptr` is NULL or points to a NUL-terminated string, unchanged for `'a`.
pub(crate) unsafe fn c_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a CStr, Failure> {
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: `ptr` is not NULL, and the caller guarantees it points to a
    // NUL-terminated string that stays unchanged for `'a`.
    Ok(unsafe { CStr::from_ptr(ptr) })
}

/// Borrows a NUL-terminated UTF-8 string, such as an entrypoint name.
///
/// # Safety
///
/// As for [`c_str`].
pub(crate) unsafe fn utf8<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Failure> {
    // SAFETY: forwarded from this function's contract.
    let text = unsafe { c_str(ptr, name) }?;
    text.to_str().map_err(|_| {
        Failure::new(
            PolStatus::InvalidArgument,
            format!("`{name}` is not valid UTF-8"),
        )
    })
}

/// A file path from C: any bytes on Unix, UTF-8 elsewhere.
///
/// # Safety
///
/// As for [`c_str`].
pub(crate) unsafe fn path(ptr: *const c_char, name: &str) -> Result<PathBuf, Failure> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt as _;
        // SAFETY: forwarded from this function's contract.
        let bytes = unsafe { c_str(ptr, name) }?.to_bytes();
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        // SAFETY: forwarded from this function's contract.
        unsafe { utf8(ptr, name) }.map(PathBuf::from)
    }
}

/// The trust of an engine: the keys its bundles must be signed by, each the
/// text of a `.pub` file written by `polc keygen`. No keys trust any
/// bundle, signed or not.
///
/// # Safety
///
/// When `count` is not zero, `keys` is NULL or an array of `count`
/// pointers, each NULL or a NUL-terminated string.
pub(crate) unsafe fn trust(keys: *const *const c_char, count: usize) -> Result<Trust, Failure> {
    if count == 0 {
        return Ok(Trust::any());
    }
    if keys.is_null() {
        return Err(Failure::null("trusted_keys"));
    }
    if count
        .checked_mul(std::mem::size_of::<*const c_char>())
        .is_none_or(|bytes| isize::try_from(bytes).is_err())
    {
        return Err(Failure::new(
            PolStatus::InvalidArgument,
            "`key_count` is larger than any array can be",
        ));
    }
    // SAFETY: `keys` is not NULL and `count` is not zero, so the caller
    // guarantees it is an array of `count` pointers (aligned, as C arrays
    // of pointers are), unchanged during the call.
    let keys = unsafe { std::slice::from_raw_parts(keys, count) };
    let mut parsed = Vec::with_capacity(keys.len());
    for (i, &key) in keys.iter().enumerate() {
        let name = format!("trusted_keys[{i}]");
        // SAFETY: the caller guarantees each entry is NULL or a
        // NUL-terminated string.
        let text = unsafe { utf8(key, &name) }?;
        let key = PublicKey::parse(text)
            .map_err(|e| Failure::new(PolStatus::InvalidArgument, format!("`{name}`: {e}")))?;
        parsed.push(key);
    }
    Ok(Trust::keys(parsed))
}
