//! What the C ABI tests share: bundles of the standard policy library
//! built in-process (as `polc build` would), signing keys, and safe
//! wrappers over the extern functions so each test reads as a host would
//! use the API. The raw calls live here, in one place.

#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test binary uses a different part of these helpers"
)]

use std::ffi::{CStr, CString, c_char};
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::OnceLock;

use pol_capi::*;
use pol_ir::bundle::{BuildInfo, SecretKey};
use pol_ir::ir::Program;

/// The signing key the tests trust.
pub fn trusted_key() -> SecretKey {
    SecretKey::from_seed([7; 32])
}

/// A key nobody trusts.
pub fn other_key() -> SecretKey {
    SecretKey::from_seed([9; 32])
}

/// The `.pub` text of `key`, as `polc keygen` writes it.
pub fn public_text(key: &SecretKey) -> String {
    key.public().to_text()
}

fn stdlib_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib-policies")
}

fn collect(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read stdlib-policies")
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "pol") {
            let name = path
                .strip_prefix(root)
                .expect("inside the root")
                .display()
                .to_string();
            let text = std::fs::read_to_string(&path).expect("read a policy");
            out.push((name, text));
        }
    }
}

/// The standard policy library, compiled from `stdlib-policies/` once per
/// test binary.
pub fn stdlib_program() -> &'static Program {
    static PROGRAM: OnceLock<Program> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        let root = stdlib_dir();
        let mut files = Vec::new();
        collect(&root, &root, &mut files);
        pol_sema::compile(files).unwrap_or_else(|errors| panic!("stdlib compiles: {errors:?}"))
    })
}

/// A bundle of the standard library at `revision`, signed by `signer`.
pub fn stdlib_bundle(revision: &str, signer: Option<&SecretKey>) -> Vec<u8> {
    let info = BuildInfo {
        revision: revision.to_string(),
        compiler: "pol-capi tests".to_string(),
        built_at: None,
    };
    pol_ir::bundle::write(stdlib_program(), &info, signer).expect("writes")
}

/// A bundle of one small policy, for swap tests that need a program other
/// than the standard library.
pub fn small_bundle(source: &str, revision: &str) -> Vec<u8> {
    let program =
        pol_sema::compile([("small.pol".to_string(), source.to_string())]).expect("compiles");
    let info = BuildInfo {
        revision: revision.to_string(),
        ..BuildInfo::default()
    };
    pol_ir::bundle::write(&program, &info, None).expect("writes")
}

/// A failed call, read back from its `PolError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub status: PolStatus,
    pub message: String,
}

/// Reads `*err` after a call that returned `status`, checks that the two
/// agree, and frees the error.
pub fn failure(status: PolStatus, err: *mut PolError) -> Failure {
    assert_ne!(status, PolStatus::Ok, "the call succeeded");
    assert!(!err.is_null(), "a failed call fills in `err`");
    // SAFETY: `err` is a live error the call just returned; it is freed
    // once, at the end, and not used after.
    unsafe {
        assert_eq!(pol_error_code(err), status);
        let message = text(pol_error_message(err)).expect("a message");
        pol_error_free(err);
        Failure { status, message }
    }
}

/// Copies a C string the API returned; `None` for NULL.
///
/// # Safety
///
/// `ptr` is NULL or a live NUL-terminated string.
pub unsafe fn text(ptr: *const c_char) -> Option<String> {
    // SAFETY: forwarded from this function's contract.
    (!ptr.is_null()).then(|| {
        unsafe { CStr::from_ptr(ptr) }
            .to_string_lossy()
            .into_owned()
    })
}

/// An engine, freed on drop.
#[derive(Debug)]
pub struct Engine(pub *mut PolEngine);

// SAFETY: the C ABI documents `PolEngine` as usable from any number of
// threads at once (its Rust state is a `LiveEngine` and a lock); only
// `pol_engine_free`, in `Drop`, needs exclusive access, which `Drop`
// has.
unsafe impl Send for Engine {}
// SAFETY: as above.
unsafe impl Sync for Engine {}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: the engine came from a load call and is freed only here.
        unsafe { pol_engine_free(self.0) }
    }
}

/// Loads a bundle from memory, trusting `keys` (`.pub` texts).
pub fn load(bundle: &[u8], keys: &[String]) -> Result<Engine, Failure> {
    let keys: Vec<CString> = keys
        .iter()
        .map(|k| CString::new(k.as_str()).expect("no NUL"))
        .collect();
    let pointers: Vec<*const c_char> = keys.iter().map(|k| k.as_ptr()).collect();
    let mut engine = ptr::null_mut();
    let mut err = ptr::null_mut();
    // SAFETY: every pointer is valid for the call: the bundle slice, the
    // key array and its strings (kept alive above), and the out-params.
    let status = unsafe {
        pol_engine_load(
            bundle.as_ptr(),
            bundle.len(),
            pointers.as_ptr(),
            pointers.len(),
            &mut engine,
            &mut err,
        )
    };
    match status {
        PolStatus::Ok => {
            assert!(err.is_null(), "success leaves `err` NULL");
            Ok(Engine(engine))
        }
        _ => {
            assert!(engine.is_null(), "failure leaves `out` untouched");
            Err(failure(status, err))
        }
    }
}

impl Engine {
    /// The id of entrypoint `name`.
    pub fn entrypoint(&self, name: &str) -> Result<u32, Failure> {
        let name = CString::new(name).expect("no NUL");
        let mut id = u32::MAX;
        let mut err = ptr::null_mut();
        // SAFETY: a live engine, a NUL-terminated name, valid out-params.
        let status = unsafe { pol_entrypoint(self.0, name.as_ptr(), &mut id, &mut err) };
        match status {
            PolStatus::Ok => Ok(id),
            _ => Err(failure(status, err)),
        }
    }

    /// Evaluates `json` at time 0.
    pub fn evaluate(&self, entry: u32, json: &str) -> Result<Decision, Failure> {
        let mut decision = ptr::null_mut();
        let mut err = ptr::null_mut();
        // SAFETY: a live engine, a slice of `json.len()` bytes, valid
        // out-params.
        let status = unsafe {
            pol_evaluate(
                self.0,
                entry,
                json.as_ptr(),
                json.len(),
                0,
                &mut decision,
                &mut err,
            )
        };
        match status {
            PolStatus::Ok => Ok(Decision(decision)),
            _ => Err(failure(status, err)),
        }
    }

    /// Looks up `name` and evaluates `json`, panicking on a call failure.
    pub fn decide(&self, name: &str, json: &str) -> Decision {
        let entry = self.entrypoint(name).expect("entrypoint");
        self.evaluate(entry, json).expect("evaluates")
    }

    /// Hot swap from memory.
    pub fn load_bundle(&self, bundle: &[u8]) -> Result<(), Failure> {
        let mut err = ptr::null_mut();
        // SAFETY: a live engine, a valid slice, a valid out-param.
        let status =
            unsafe { pol_engine_load_bundle(self.0, bundle.as_ptr(), bundle.len(), &mut err) };
        match status {
            PolStatus::Ok => Ok(()),
            _ => Err(failure(status, err)),
        }
    }

    /// The current revision, through `pol_engine_revision`.
    pub fn revision(&self) -> String {
        let mut buf = [0 as c_char; 64];
        // SAFETY: a live engine and a buffer of `buf.len()` bytes.
        let len = unsafe { pol_engine_revision(self.0, buf.as_mut_ptr(), buf.len()) };
        assert!(len < buf.len(), "the test revisions are short");
        // SAFETY: `pol_engine_revision` NUL-terminated the buffer.
        unsafe { text(buf.as_ptr()) }.expect("not NULL")
    }
}

/// A decision, freed on drop.
#[derive(Debug)]
pub struct Decision(pub *mut PolDecision);

// SAFETY: the C ABI documents a decision as immutable and readable from
// any thread (its lazy parts are `OnceLock`s).
unsafe impl Send for Decision {}

impl Drop for Decision {
    fn drop(&mut self) {
        // SAFETY: the decision came from `pol_evaluate` and is freed only
        // here.
        unsafe { pol_decision_free(self.0) }
    }
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        // SAFETY: a live decision.
        unsafe { pol_decision_effect(self.0) == PolEffect::Allow }
    }

    pub fn reasons(&self) -> Vec<String> {
        // SAFETY: a live decision; indices below the count are in range.
        unsafe {
            (0..pol_decision_reason_count(self.0))
                .map(|i| text(pol_decision_reason(self.0, i)).expect("in range"))
                .collect()
        }
    }

    pub fn requires_approval(&self) -> bool {
        // SAFETY: a live decision.
        unsafe { pol_decision_requires_approval(self.0) }
    }

    pub fn error(&self) -> Option<String> {
        // SAFETY: a live decision; the string is copied before it is freed.
        unsafe { text(pol_decision_error(self.0)) }
    }

    pub fn revision(&self) -> Option<String> {
        // SAFETY: a live decision.
        unsafe { text(pol_decision_revision(self.0)) }
    }

    pub fn json(&self) -> serde_json::Value {
        // SAFETY: a live decision.
        let json = unsafe { text(pol_decision_json(self.0)) }.expect("not NULL");
        serde_json::from_str(&json).expect("the decision JSON parses")
    }
}
