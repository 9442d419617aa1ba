//! The bundle: one file holding a compiled program, what it offers, and an
//! optional signature. `polc build` writes it; a production runtime reads
//! it without the front end.
//!
//! The layout, byte by byte (integers little-endian; `docs/bundles.md`
//! says the same with the versioning rules):
//!
//! | offset | size | content |
//! |---|---|---|
//! | 0 | 8 | magic `POLBNDL\0` |
//! | 8 | 2 | bundle format version ([`BUNDLE_VERSION`]) |
//! | 10 | 2 | flags: bit 0 set when signed; other bits zero |
//! | 12 | 4 | manifest length `M` |
//! | 16 | 4 | payload length `P` |
//! | 20 | 32 | SHA-256 of the `M + P` bytes that follow the header |
//! | 52 | `M` | the manifest, UTF-8 JSON ([`Manifest`]) |
//! | 52 + `M` | `P` | the payload: the [`Program`], postcard-encoded |
//! | 52 + `M` + `P` | 64 | when signed: the ed25519 signature of every byte before it |
//!
//! [`read`] checks, in this order, before it decodes anything: the magic,
//! the version, the lengths, the hash, the signature (when keys are
//! trusted), and only then parses the manifest, decodes the program and
//! verifies it ([`crate::ir::verify`], types included). Nothing in the
//! file is trusted to be well-formed.

use ed25519_dalek::Signer as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::ir::{self, PolicyKind, Program, Type};

/// The first eight bytes of every bundle.
pub const MAGIC: [u8; 8] = *b"POLBNDL\0";

/// The bundle format this runtime writes and the newest it reads.
pub const BUNDLE_VERSION: u16 = 1;

/// The fixed header's length in bytes.
pub const HEADER_LEN: usize = 52;

/// An ed25519 signature's length in bytes.
pub const SIGNATURE_LEN: usize = 64;

const FLAG_SIGNED: u16 = 1;

/// What a bundle says about itself: shown by `polc inspect`, checked
/// against the program when loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The revision given at build time (`polc build --revision`), or empty.
    pub revision: String,
    /// The compiler that wrote it, such as `polc 0.1.0`.
    pub compiler: String,
    /// When it was built (RFC 3339), absent in reproducible builds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub built_at: Option<String>,
    /// The IR format version of the payload ([`ir::FORMAT_VERSION`]).
    pub ir_version: u32,
    /// `sha256:<hex>` of the payload: the identity of the compiled policies,
    /// the same for the same sources whatever the revision.
    pub content_hash: String,
    /// The packages compiled in, sorted.
    pub packages: Vec<String>,
    /// Every policy a host may evaluate.
    pub entrypoints: Vec<EntrypointInfo>,
    /// The signing key's id ([`PublicKey::id`]) when the bundle is signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

/// One entrypoint of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntrypointInfo {
    /// The qualified name, `package.policy`.
    pub name: String,
    /// `decision`, `value` or `filter`.
    pub kind: String,
    /// The JSON Schema (draft 2020-12) of the input the host passes.
    pub input_schema: serde_json::Value,
}

/// What `polc build` records besides the program.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildInfo {
    /// The revision, such as a git commit or a release name.
    pub revision: String,
    /// The compiler's name and version.
    pub compiler: String,
    /// The build time, RFC 3339; `None` for a reproducible build.
    pub built_at: Option<String>,
}

/// Why a bundle was refused. Every variant names the cause; none of them
/// means anything in the bundle was used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// Fewer bytes than the header or the lengths it declares.
    #[error("the bundle is truncated: {0}")]
    Truncated(String),
    /// Not a bundle at all.
    #[error("not a Pol bundle (wrong magic bytes)")]
    BadMagic,
    /// Written by a newer `polc` than this runtime understands.
    #[error(
        "bundle format version {found} is newer than this runtime's {supported}: upgrade the runtime"
    )]
    TooNew {
        /// The bundle's version.
        found: u16,
        /// The newest this runtime reads.
        supported: u16,
    },
    /// The header or the manifest does not follow the format.
    #[error("the bundle is malformed: {0}")]
    Malformed(String),
    /// The content does not match the hash in the header or the manifest.
    #[error("the bundle's content hash does not match: it was corrupted or modified")]
    BadHash,
    /// Keys are required and the bundle carries no signature.
    #[error(
        "the bundle is not signed, and this runtime only loads bundles signed by a trusted key"
    )]
    Unsigned,
    /// The signature is not from any trusted key.
    #[error("the bundle's signature does not verify with any trusted key ({0})")]
    BadSignature(String),
    /// The payload is not a program this runtime can decode.
    #[error("the bundle's program cannot be decoded: {0}")]
    Payload(String),
    /// The program failed verification.
    #[error("the bundle's program is invalid: {0}")]
    Invalid(ir::VerifyError),
    /// The manifest does not describe the program.
    #[error("the bundle's manifest does not match its program: {0}")]
    ManifestMismatch(String),
    /// A program too large for the format (a section over 4 GiB), or one
    /// whose manifest the reader would refuse; only `write` reports this.
    #[error("the program cannot be written as a bundle: {0}")]
    Unwritable(String),
}

/// Which signatures a runtime accepts.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    keys: Vec<PublicKey>,
    required: bool,
}

impl Trust {
    /// Accepts unsigned bundles (and signed ones without checking who
    /// signed them): for development and tests.
    pub fn any() -> Trust {
        Trust::default()
    }

    /// Requires a valid signature by one of `keys`. With no keys at all,
    /// every bundle is refused: an empty key directory fails closed rather
    /// than trusting everything.
    pub fn keys(keys: impl IntoIterator<Item = PublicKey>) -> Trust {
        Trust {
            keys: keys.into_iter().collect(),
            required: true,
        }
    }

    /// Whether a signature is required.
    pub fn requires_signature(&self) -> bool {
        self.required
    }
}

/// A loaded bundle: its manifest and its verified program.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// What the bundle says about itself, checked against the program.
    pub manifest: Manifest,
    /// The program, verified.
    pub program: Program,
    /// Whether it was signed, and by which trusted key (its id) when keys
    /// were required.
    pub signature: SignatureStatus,
}

/// What is known of a bundle's signature after loading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureStatus {
    /// No signature.
    Unsigned,
    /// Signed, not checked (no trusted keys were configured).
    Unchecked,
    /// Signed by the trusted key with this id.
    Verified(String),
}

/// An ed25519 public key that verifies bundles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey(ed25519_dalek::VerifyingKey);

/// An ed25519 secret key that signs bundles.
#[derive(Debug, Clone)]
pub struct SecretKey(ed25519_dalek::SigningKey);

const PUBLIC_PREFIX: &str = "pol-ed25519-public-key ";
const SECRET_PREFIX: &str = "pol-ed25519-secret-key ";

impl PublicKey {
    /// The key's id: the first 8 bytes of the SHA-256 of its bytes, in hex.
    pub fn id(&self) -> String {
        hex(&Sha256::digest(self.0.as_bytes())[..8])
    }

    /// Parses the text format written by `polc keygen` (`NAME.pub`): lines
    /// starting with `#` are comments, and one line reads
    /// `pol-ed25519-public-key <64 hex digits>`.
    pub fn parse(text: &str) -> Result<PublicKey, String> {
        let bytes = key_line(text, PUBLIC_PREFIX, "public")?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|_| "the public key is not a valid ed25519 point".to_string())
    }

    /// The text format, with a comment naming the key.
    pub fn to_text(&self) -> String {
        format!(
            "# Pol bundle verification key (ed25519), id {}\n{PUBLIC_PREFIX}{}\n",
            self.id(),
            hex(self.0.as_bytes())
        )
    }
}

impl SecretKey {
    /// The key of a 32-byte seed (from a secure random source).
    pub fn from_seed(seed: [u8; 32]) -> SecretKey {
        SecretKey(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// Parses the text format written by `polc keygen` (`NAME.key`):
    /// comment lines, then `pol-ed25519-secret-key <64 hex digits>`.
    pub fn parse(text: &str) -> Result<SecretKey, String> {
        key_line(text, SECRET_PREFIX, "secret").map(SecretKey::from_seed)
    }

    /// The text format. Keep it private: whoever has it can sign bundles.
    pub fn to_text(&self) -> String {
        format!(
            "# Pol bundle signing key (ed25519), id {}. Keep this file secret.\n{SECRET_PREFIX}{}\n",
            self.public().id(),
            hex(&self.0.to_bytes())
        )
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }
}

fn key_line(text: &str, prefix: &str, what: &str) -> Result<[u8; 32], String> {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let line = lines
        .next()
        .ok_or_else(|| format!("no `{}` line in the {what} key file", prefix.trim()))?;
    if lines.next().is_some() {
        return Err(format!("more than one key line in the {what} key file"));
    }
    let Some(digits) = line.strip_prefix(prefix) else {
        let other = if what == "public" {
            SECRET_PREFIX
        } else {
            PUBLIC_PREFIX
        };
        return Err(if line.starts_with(other) {
            format!(
                "this is not a {what} key file (it holds a {} key)",
                other.split('-').nth(2).unwrap_or("different")
            )
        } else {
            format!("the {what} key line must start with `{}`", prefix.trim())
        });
    };
    let bytes = unhex(digits.trim())
        .filter(|b| b.len() == 32)
        .ok_or_else(|| format!("the {what} key must be 64 hex digits"))?;
    let mut out = [0u8; 32];
    out.copy_from_slice(&bytes);
    Ok(out)
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    text.as_bytes()
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

fn sha256_tag(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// Writes a bundle of `program` (which must be verified), signed when a
/// key is given. The same program and info give the same bytes. It checks
/// that the runtime will read what it wrote (the manifest parses and
/// matches), so a bundle that cannot load is never written.
pub fn write(
    program: &Program,
    info: &BuildInfo,
    signer: Option<&SecretKey>,
) -> Result<Vec<u8>, BundleError> {
    // The revision lives in the manifest, so the payload (and its content
    // hash) is the same for the same policies whatever the revision.
    let payload = if program.revision.is_some() {
        let mut without = program.clone();
        without.revision = None;
        postcard::to_allocvec(&without)
    } else {
        postcard::to_allocvec(program)
    }
    .map_err(|e| BundleError::Unwritable(format!("the program does not encode: {e}")))?;
    let manifest = Manifest {
        revision: info.revision.clone(),
        compiler: info.compiler.clone(),
        built_at: info.built_at.clone(),
        ir_version: program.format_version,
        content_hash: sha256_tag(&payload),
        packages: packages(program),
        entrypoints: entrypoints(program),
        key_id: signer.map(|k| k.public().id()),
    };
    let manifest = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| BundleError::Unwritable(format!("the manifest does not encode: {e}")))?;
    let out = assemble(&manifest, &payload, signer)?;
    // What the reader refuses (a manifest nested past JSON's depth limit)
    // is refused here instead.
    read_manifest(&out, &Trust::any()).map_err(|e| BundleError::Unwritable(e.to_string()))?;
    Ok(out)
}

/// Frames a manifest and a payload as a bundle (header, hash, sections and,
/// with `signer`, the signature), as [`write`] does, without checking that
/// they agree: for tests and tools that build bundles by hand. The reader
/// refuses any disagreement between the two.
pub fn assemble(
    manifest: &[u8],
    payload: &[u8],
    signer: Option<&SecretKey>,
) -> Result<Vec<u8>, BundleError> {
    let length = |bytes: &[u8], what: &str| {
        u32::try_from(bytes.len())
            .map_err(|_| BundleError::Unwritable(format!("the {what} is larger than 4 GiB")))
    };
    let (manifest_len, payload_len) = (length(manifest, "manifest")?, length(payload, "program")?);
    let mut out = Vec::with_capacity(HEADER_LEN + manifest.len() + payload.len() + SIGNATURE_LEN);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&BUNDLE_VERSION.to_le_bytes());
    let flags = if signer.is_some() { FLAG_SIGNED } else { 0 };
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(&manifest_len.to_le_bytes());
    out.extend_from_slice(&payload_len.to_le_bytes());
    let mut hasher = Sha256::new();
    hasher.update(manifest);
    hasher.update(payload);
    out.extend_from_slice(&hasher.finalize());
    out.extend_from_slice(manifest);
    out.extend_from_slice(payload);
    if let Some(key) = signer {
        let signature = key.0.sign(&out);
        out.extend_from_slice(&signature.to_bytes());
    }
    Ok(out)
}

/// The parts of a bundle whose integrity checked out, before decoding.
struct Checked<'b> {
    manifest: &'b [u8],
    payload: &'b [u8],
    signature: SignatureStatus,
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Checks the header, the hash and the signature; decodes nothing.
fn check_integrity<'b>(bytes: &'b [u8], trust: &Trust) -> Result<Checked<'b>, BundleError> {
    if bytes.len() < MAGIC.len() {
        return Err(if MAGIC.starts_with(bytes) {
            BundleError::Truncated(format!("{} bytes, not even the magic", bytes.len()))
        } else {
            BundleError::BadMagic
        });
    }
    if bytes[..MAGIC.len()] != MAGIC {
        return Err(BundleError::BadMagic);
    }
    if bytes.len() < HEADER_LEN {
        return Err(BundleError::Truncated(format!(
            "{} bytes, shorter than the {HEADER_LEN}-byte header",
            bytes.len()
        )));
    }
    let version = u16_at(bytes, 8);
    if version > BUNDLE_VERSION {
        return Err(BundleError::TooNew {
            found: version,
            supported: BUNDLE_VERSION,
        });
    }
    if version == 0 {
        return Err(BundleError::Malformed("format version 0".into()));
    }
    let flags = u16_at(bytes, 10);
    if flags & !FLAG_SIGNED != 0 {
        return Err(BundleError::Malformed(format!(
            "unknown flags {flags:#06x}"
        )));
    }
    let signed = flags & FLAG_SIGNED != 0;
    let manifest_len = u32_at(bytes, 12) as usize;
    let payload_len = u32_at(bytes, 16) as usize;
    let content_end = HEADER_LEN
        .checked_add(manifest_len)
        .and_then(|n| n.checked_add(payload_len))
        .ok_or_else(|| BundleError::Malformed("section lengths overflow".into()))?;
    let total = content_end + if signed { SIGNATURE_LEN } else { 0 };
    if bytes.len() < total {
        return Err(BundleError::Truncated(format!(
            "{} bytes, the header declares {total}",
            bytes.len()
        )));
    }
    if bytes.len() > total {
        return Err(BundleError::Malformed(format!(
            "{} bytes after the end the header declares",
            bytes.len() - total
        )));
    }
    let content = &bytes[HEADER_LEN..content_end];
    if Sha256::digest(content).as_slice() != &bytes[20..52] {
        return Err(BundleError::BadHash);
    }
    let signature = if !signed {
        if trust.requires_signature() {
            return Err(BundleError::Unsigned);
        }
        SignatureStatus::Unsigned
    } else if !trust.requires_signature() {
        SignatureStatus::Unchecked
    } else {
        let mut raw = [0u8; SIGNATURE_LEN];
        raw.copy_from_slice(&bytes[content_end..total]);
        let signature = ed25519_dalek::Signature::from_bytes(&raw);
        let signer = trust.keys.iter().find(|key| {
            key.0
                .verify_strict(&bytes[..content_end], &signature)
                .is_ok()
        });
        match signer {
            Some(key) => SignatureStatus::Verified(key.id()),
            None if trust.keys.is_empty() => {
                return Err(BundleError::BadSignature(
                    "no trusted keys are configured".into(),
                ));
            }
            None => {
                let ids: Vec<String> = trust.keys.iter().map(PublicKey::id).collect();
                return Err(BundleError::BadSignature(format!(
                    "trusted: {}",
                    ids.join(", ")
                )));
            }
        }
    };
    Ok(Checked {
        manifest: &content[..manifest_len],
        payload: &content[manifest_len..],
        signature,
    })
}

/// Reads only the manifest, after the same integrity checks as [`read`]
/// (for `polc inspect`, which shows bundles it cannot verify).
pub fn read_manifest(
    bytes: &[u8],
    trust: &Trust,
) -> Result<(Manifest, SignatureStatus), BundleError> {
    let checked = check_integrity(bytes, trust)?;
    let manifest = parse_manifest(checked.manifest)?;
    if manifest.content_hash != sha256_tag(checked.payload) {
        return Err(BundleError::BadHash);
    }
    Ok((manifest, checked.signature))
}

fn parse_manifest(bytes: &[u8]) -> Result<Manifest, BundleError> {
    serde_json::from_slice(bytes).map_err(|e| BundleError::Malformed(format!("manifest: {e}")))
}

/// Reads and verifies a bundle: integrity, signature (when `trust`
/// requires one), then the program (decoded and verified, types included)
/// and its agreement with the manifest.
pub fn read(bytes: &[u8], trust: &Trust) -> Result<Bundle, BundleError> {
    let checked = check_integrity(bytes, trust)?;
    let manifest = parse_manifest(checked.manifest)?;
    if manifest.content_hash != sha256_tag(checked.payload) {
        return Err(BundleError::BadHash);
    }
    // postcard is not self-describing: a payload of another IR version
    // would be misread, so only this runtime's version is decoded.
    if manifest.ir_version != ir::FORMAT_VERSION {
        let relation = if manifest.ir_version > ir::FORMAT_VERSION {
            "newer"
        } else {
            "older"
        };
        return Err(BundleError::Payload(format!(
            "IR format version {} is {relation} than this runtime's {}: rebuild the bundle with a matching polc",
            manifest.ir_version,
            ir::FORMAT_VERSION
        )));
    }
    ir::take_type_too_deep();
    let (mut program, rest) =
        postcard::take_from_bytes::<Program>(checked.payload).map_err(|e| {
            BundleError::Payload(if ir::take_type_too_deep() {
                format!("a type nested deeper than {} levels", ir::MAX_TYPE_DEPTH)
            } else {
                e.to_string()
            })
        })?;
    if !rest.is_empty() {
        return Err(BundleError::Payload(format!(
            "{} bytes after the program",
            rest.len()
        )));
    }
    ir::verify(&program).map_err(BundleError::Invalid)?;
    if program.format_version != manifest.ir_version {
        return Err(BundleError::ManifestMismatch(
            "the IR versions differ".into(),
        ));
    }
    // The manifest is what `write` derives from the program, field by
    // field: nothing a tool shows from it can differ from what runs.
    if manifest.entrypoints != entrypoints(&program) {
        return Err(BundleError::ManifestMismatch(
            "the entrypoints (names, kinds or input schemas) are not the program's".into(),
        ));
    }
    if manifest.packages != packages(&program) {
        return Err(BundleError::ManifestMismatch(
            "the packages are not the program's".into(),
        ));
    }
    if let SignatureStatus::Verified(signer) = &checked.signature
        && manifest.key_id.as_ref() != Some(signer)
    {
        return Err(BundleError::ManifestMismatch(format!(
            "signed by key {signer}, but the manifest names another"
        )));
    }
    program.revision = (!manifest.revision.is_empty()).then(|| manifest.revision.clone());
    Ok(Bundle {
        manifest,
        program,
        signature: checked.signature,
    })
}

fn packages(program: &Program) -> Vec<String> {
    let mut out: Vec<String> = program
        .policies
        .iter()
        .map(|p| p.name.as_str())
        .chain(program.schemas.iter().map(|s| s.name.as_str()))
        .chain(program.params.iter().map(|p| p.name.as_str()))
        .filter(|name| !name.starts_with('<'))
        .filter_map(|name| {
            name.rsplit_once('.')
                .map(|(package, _)| package.to_string())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn entrypoints(program: &Program) -> Vec<EntrypointInfo> {
    program
        .policies
        .iter()
        .map(|policy| EntrypointInfo {
            name: policy.name.clone(),
            kind: match policy.kind {
                PolicyKind::Decision { .. } => "decision",
                PolicyKind::Value { .. } => "value",
                PolicyKind::Filter { .. } => "filter",
            }
            .to_string(),
            input_schema: input_schema(program, &policy.input),
        })
        .collect()
}

/// The JSON Schema (draft 2020-12) of inputs of type `ty`, as the runtime's
/// decoder accepts them: unknown object fields are ignored, optional fields
/// may be absent or `null`, durations and timestamps are strings.
pub fn input_schema(program: &Program, ty: &Type) -> serde_json::Value {
    let mut defs = serde_json::Map::new();
    let mut root = schema_of(program, ty, &mut defs);
    if let serde_json::Value::Object(object) = &mut root {
        let mut head = serde_json::Map::new();
        head.insert(
            "$schema".into(),
            "https://json-schema.org/draft/2020-12/schema".into(),
        );
        head.append(object);
        if !defs.is_empty() {
            head.insert("$defs".into(), serde_json::Value::Object(defs));
        }
        return serde_json::Value::Object(head);
    }
    root
}

fn schema_of(
    program: &Program,
    ty: &Type,
    defs: &mut serde_json::Map<String, serde_json::Value>,
) -> serde_json::Value {
    use serde_json::json;
    match ty {
        Type::Bool => json!({"type": "boolean"}),
        Type::Int => json!({"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX}),
        Type::Float => json!({"type": "number"}),
        Type::String => json!({"type": "string"}),
        Type::Duration => {
            json!({"type": "string", "description": "a duration such as \"1h30m\" or \"250ms\""})
        }
        Type::Timestamp => json!({"type": "string", "format": "date-time"}),
        Type::Enum(id) => match program.enums.get(id.0 as usize) {
            Some(e) => json!({"enum": e.variants}),
            None => json!(false),
        },
        Type::Schema(id) => {
            let Some(schema) = program.schemas.get(id.0 as usize) else {
                return json!(false);
            };
            if !defs.contains_key(&schema.name) {
                // Placeholder first, so a recursive schema refers to itself.
                defs.insert(schema.name.clone(), json!({}));
                let mut properties = serde_json::Map::new();
                let mut required = Vec::new();
                for field in &schema.fields {
                    properties.insert(field.name.clone(), schema_of(program, &field.ty, defs));
                    if !matches!(field.ty, Type::Optional(_)) {
                        required.push(field.name.clone());
                    }
                }
                defs.insert(
                    schema.name.clone(),
                    json!({"type": "object", "properties": properties, "required": required}),
                );
            }
            json!({"$ref": format!("#/$defs/{}", schema.name)})
        }
        Type::Finding => json!({
            "type": "object",
            "properties": {
                "kind": {"type": "string"},
                "start": {"type": "integer", "minimum": 0},
                "end": {"type": "integer", "minimum": 0},
                "text": {"type": "string"},
            },
            "required": ["kind", "start", "end"],
        }),
        Type::List(t) | Type::Set(t) => {
            json!({"type": "array", "items": schema_of(program, t, defs)})
        }
        Type::Map(t) => {
            json!({"type": "object", "additionalProperties": schema_of(program, t, defs)})
        }
        Type::Optional(t) => json!({"anyOf": [schema_of(program, t, defs), {"type": "null"}]}),
        Type::Decision | Type::ValueDecision(_) | Type::None => json!(false),
    }
}
