//! `polc build`, `polc keygen`, `polc verify` and `polc inspect`: bundles
//! and the keys that sign them (the format is in `pol_ir::bundle` and
//! `docs/bundles.md`).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use pol_ir::bundle::{self, BuildInfo, PublicKey, SecretKey, SignatureStatus, Trust};
use pol_ir::ir::{Program, Type};

use crate::{ColorChoice, EXIT_OK, EXIT_USAGE, Format, collect_sources, render, use_color};

/// Exit code of `polc verify` when the bundle is refused.
const EXIT_REFUSED: u8 = 1;

#[derive(Debug, clap::Args)]
pub(crate) struct BuildArgs {
    /// Files or directories (searched recursively for `.pol` files).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Where to write the bundle.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// The revision recorded in the manifest (a git commit, a release name).
    #[arg(long, default_value = "")]
    revision: String,
    /// Sign with this secret key (`NAME.key`, from `polc keygen`).
    #[arg(long, value_name = "KEYFILE")]
    sign: Option<PathBuf>,
    /// Embed no build time, so the same sources and revision give the same
    /// bytes. `SOURCE_DATE_EPOCH`, when set, is the build time instead of now.
    #[arg(long)]
    reproducible: bool,
    /// Colors in diagnostics: auto, always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Debug, clap::Args)]
pub(crate) struct KeygenArgs {
    /// Writes `NAME.key` (secret) and `NAME.pub` (public).
    #[arg(short, long, value_name = "NAME")]
    output: PathBuf,
    /// Replace existing key files.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct VerifyArgs {
    /// The bundle.
    file: PathBuf,
    /// Require a signature by this public key (`NAME.pub`); repeat to trust
    /// several. Without it, only integrity and the program are checked.
    #[arg(long, value_name = "PUBFILE")]
    key: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct InspectArgs {
    /// The bundle.
    file: PathBuf,
    /// Check the signature against this public key too.
    #[arg(long, value_name = "PUBFILE")]
    key: Vec<PathBuf>,
    /// Human text or a JSON object.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}

/// Compiles `.pol` files (with the embedded standard library) into bundle
/// bytes: what `polc build` writes. Errors are rendered diagnostics.
pub fn compile_bundle(
    files: Vec<(String, String)>,
    info: &BuildInfo,
    signer: Option<&SecretKey>,
    color: bool,
) -> Result<Vec<u8>, String> {
    let mut workspace = pol_sema::Workspace::new();
    workspace.set_files(files);
    let report = render::Report::new(&workspace);
    if report.error_count() > 0 {
        return Err(format!(
            "{}the policies have errors; no bundle was written",
            report.human(color)
        ));
    }
    let program = pol_sema::lower::lower(&workspace.checked()).map_err(|e| e.to_string())?;
    pol_ir::ir::verify(&program).map_err(|e| format!("internal error: {e}"))?;
    bundle::write(&program, info, signer).map_err(|e| e.to_string())
}

/// The build time to record: none when reproducible, `SOURCE_DATE_EPOCH`
/// when set, otherwise now.
fn build_time(reproducible: bool) -> Result<Option<String>, String> {
    if reproducible {
        return Ok(None);
    }
    let seconds = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(text) => text
            .trim()
            .parse::<u64>()
            .map_err(|_| format!("SOURCE_DATE_EPOCH `{text}` is not a number of seconds"))?,
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    };
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
    Ok(Some(humantime::format_rfc3339_seconds(time).to_string()))
}

pub(crate) fn build(args: &BuildArgs) -> ExitCode {
    let files = match collect_sources(&args.paths) {
        Ok(files) => files,
        Err(message) => return usage(message),
    };
    let signer = match &args.sign {
        Some(path) => match read_text(path).and_then(|text| {
            SecretKey::parse(&text).map_err(|e| format!("`{}`: {e}", path.display()))
        }) {
            Ok(key) => Some(key),
            Err(message) => return usage(message),
        },
        None => None,
    };
    let built_at = match build_time(args.reproducible) {
        Ok(time) => time,
        Err(message) => return usage(message),
    };
    let info = BuildInfo {
        revision: args.revision.clone(),
        compiler: format!("polc {}", env!("CARGO_PKG_VERSION")),
        built_at,
    };
    let bytes = match compile_bundle(files, &info, signer.as_ref(), use_color(args.color)) {
        Ok(bytes) => bytes,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(crate::EXIT_ERRORS);
        }
    };
    if let Err(e) = std::fs::write(&args.output, &bytes) {
        return usage(format!("cannot write `{}`: {e}", args.output.display()));
    }
    let manifest = bundle::read_manifest(&bytes, &Trust::any()).map(|(m, _)| m);
    let hash = manifest
        .as_ref()
        .map(|m| m.content_hash.clone())
        .unwrap_or_default();
    println!(
        "wrote {} ({} bytes, {}, {}{})",
        args.output.display(),
        bytes.len(),
        entrypoints(manifest.map(|m| m.entrypoints.len()).unwrap_or(0)),
        hash,
        match &signer {
            Some(key) => format!(", signed by key {}", key.public().id()),
            None => ", unsigned".to_string(),
        }
    );
    ExitCode::from(EXIT_OK)
}

fn entrypoints(count: usize) -> String {
    match count {
        1 => "1 entrypoint".to_string(),
        n => format!("{n} entrypoints"),
    }
}

fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))
}

/// The keys given on the command line; none means no signature is
/// checked (the commands say so in their output).
pub(crate) fn trust_of(keys: Vec<PublicKey>) -> Trust {
    if keys.is_empty() {
        Trust::any()
    } else {
        Trust::keys(keys)
    }
}

pub(crate) fn read_keys(paths: &[PathBuf]) -> Result<Vec<PublicKey>, String> {
    paths
        .iter()
        .map(|path| {
            PublicKey::parse(&read_text(path)?).map_err(|e| format!("`{}`: {e}", path.display()))
        })
        .collect()
}

pub(crate) fn keygen(args: &KeygenArgs) -> ExitCode {
    let mut seed = [0u8; 32];
    if let Err(e) = getrandom::fill(&mut seed) {
        return usage(format!("no secure random source: {e}"));
    }
    let secret = SecretKey::from_seed(seed);
    let name = args.output.display().to_string();
    let secret_path = PathBuf::from(format!("{name}.key"));
    let public_path = PathBuf::from(format!("{name}.pub"));
    for path in [&secret_path, &public_path] {
        if path.exists() && !args.force {
            return usage(format!(
                "`{}` exists; pass --force to replace it",
                path.display()
            ));
        }
    }
    if let Err(e) = write_secret(&secret_path, &secret.to_text()) {
        return usage(format!("cannot write `{}`: {e}", secret_path.display()));
    }
    if let Err(e) = std::fs::write(&public_path, secret.public().to_text()) {
        return usage(format!("cannot write `{}`: {e}", public_path.display()));
    }
    println!(
        "wrote {} (secret: keep it out of version control) and {} (key id {})",
        secret_path.display(),
        public_path.display(),
        secret.public().id()
    );
    ExitCode::from(EXIT_OK)
}

/// Writes a file only its owner can read (on Unix): always a new file,
/// never an existing one reopened (which would keep its permissions) nor a
/// symlink followed.
fn write_secret(path: &Path, text: &str) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())
}

pub(crate) fn verify(args: &VerifyArgs) -> ExitCode {
    let keys = match read_keys(&args.key) {
        Ok(keys) => keys,
        Err(message) => return usage(message),
    };
    let bytes = match std::fs::read(&args.file) {
        Ok(bytes) => bytes,
        Err(e) => return usage(format!("cannot read `{}`: {e}", args.file.display())),
    };
    let trust = trust_of(keys);
    match pol_runtime::Engine::from_bundle(&bytes, &trust) {
        Ok(engine) => {
            let signature = match engine.signature() {
                Some(SignatureStatus::Verified(id)) => format!("signed by trusted key {id}"),
                Some(SignatureStatus::Unchecked) => {
                    "signed, signature not checked (no --key given)".to_string()
                }
                _ => "unsigned".to_string(),
            };
            println!(
                "valid: {} (revision {}, {}, {signature})",
                args.file.display(),
                engine
                    .revision()
                    .map_or("none".to_string(), |r| format!("`{r}`")),
                entrypoints(engine.program().policies.len()),
            );
            ExitCode::from(EXIT_OK)
        }
        Err(e) => {
            println!("refused: {}: {e}", args.file.display());
            ExitCode::from(EXIT_REFUSED)
        }
    }
}

pub(crate) fn inspect(args: &InspectArgs) -> ExitCode {
    let keys = match read_keys(&args.key) {
        Ok(keys) => keys,
        Err(message) => return usage(message),
    };
    let bytes = match std::fs::read(&args.file) {
        Ok(bytes) => bytes,
        Err(e) => return usage(format!("cannot read `{}`: {e}", args.file.display())),
    };
    let (manifest, signature) = match bundle::read_manifest(&bytes, &trust_of(keys)) {
        Ok(found) => found,
        Err(e) => {
            println!("refused: {}: {e}", args.file.display());
            return ExitCode::from(EXIT_REFUSED);
        }
    };
    // The program, for readable input types; a bundle whose program does
    // not verify is still shown, with the reason.
    let program = bundle::read(&bytes, &Trust::any()).map(|b| b.program);
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    match args.format {
        Format::Json => {
            let mut object = match serde_json::to_value(&manifest) {
                Ok(serde_json::Value::Object(object)) => object,
                _ => serde_json::Map::new(),
            };
            object.insert("format_version".into(), version.into());
            object.insert("size".into(), bytes.len().into());
            object.insert("signature".into(), signature_json(&signature));
            if let Err(e) = &program {
                object.insert("program_error".into(), e.to_string().into());
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::Value::Object(object))
                    .unwrap_or_default()
            );
        }
        Format::Human => {
            let mut out = String::new();
            let line = |out: &mut String, label: &str, value: &str| {
                out.push_str(&format!("{label:<10}{value}\n"));
            };
            line(
                &mut out,
                "bundle",
                &format!(
                    "{} ({} bytes, format {version})",
                    args.file.display(),
                    bytes.len()
                ),
            );
            let revision = if manifest.revision.is_empty() {
                "(none)"
            } else {
                &manifest.revision
            };
            line(&mut out, "revision", revision);
            line(&mut out, "compiler", &manifest.compiler);
            line(
                &mut out,
                "built",
                manifest
                    .built_at
                    .as_deref()
                    .unwrap_or("(no build time: reproducible)"),
            );
            line(&mut out, "content", &manifest.content_hash);
            line(
                &mut out,
                "signature",
                &signature_text(&signature, &manifest),
            );
            line(&mut out, "packages", &manifest.packages.join(", "));
            if let Err(e) = &program {
                line(&mut out, "program", &format!("invalid: {e}"));
            }
            out.push_str(&format!("entrypoints ({}):\n", manifest.entrypoints.len()));
            for entry in &manifest.entrypoints {
                let input = match &program {
                    Ok(program) => program
                        .policies
                        .iter()
                        .find(|p| p.name == entry.name)
                        .map(|p| describe_input(program, &p.input))
                        .unwrap_or_default(),
                    Err(_) => String::new(),
                };
                out.push_str(&format!("  {} ({})\n{input}", entry.name, entry.kind));
            }
            print!("{out}");
        }
    }
    ExitCode::from(EXIT_OK)
}

fn signature_text(signature: &SignatureStatus, manifest: &bundle::Manifest) -> String {
    let id = manifest.key_id.as_deref().unwrap_or("unknown");
    match signature {
        SignatureStatus::Unsigned => "none (unsigned)".into(),
        SignatureStatus::Unchecked => {
            format!("ed25519, key id {id} (not checked: pass --key NAME.pub)")
        }
        SignatureStatus::Verified(id) => format!("ed25519, verified with trusted key {id}"),
    }
}

fn signature_json(signature: &SignatureStatus) -> serde_json::Value {
    match signature {
        SignatureStatus::Unsigned => serde_json::json!({"signed": false}),
        SignatureStatus::Unchecked => serde_json::json!({"signed": true, "verified": false}),
        SignatureStatus::Verified(id) => {
            serde_json::json!({"signed": true, "verified": true, "key_id": id})
        }
    }
}

/// The input type of an entrypoint with the fields of its schema, indented.
fn describe_input(program: &Program, ty: &Type) -> String {
    let mut out = format!("    input: {}\n", type_name(program, ty));
    if let Type::Schema(id) = ty
        && let Some(schema) = program.schemas.get(id.0 as usize)
    {
        for field in &schema.fields {
            let (name, ty) = match &field.ty {
                Type::Optional(inner) => (format!("{}?", field.name), &**inner),
                other => (field.name.clone(), other),
            };
            out.push_str(&format!("      {name}: {}\n", type_name(program, ty)));
        }
    }
    out
}

fn type_name(program: &Program, ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::Int => "int".into(),
        Type::Float => "float".into(),
        Type::String => "string".into(),
        Type::Duration => "duration".into(),
        Type::Timestamp => "timestamp".into(),
        Type::Enum(id) => program
            .enums
            .get(id.0 as usize)
            .map(|e| format!("{} ({})", e.name, e.variants.join(" | ")))
            .unwrap_or_default(),
        Type::Schema(id) => program
            .schemas
            .get(id.0 as usize)
            .map(|s| s.name.clone())
            .unwrap_or_default(),
        Type::Finding => "Finding".into(),
        Type::List(t) => format!("list<{}>", type_name(program, t)),
        Type::Set(t) => format!("set<{}>", type_name(program, t)),
        Type::Map(t) => format!("map<string, {}>", type_name(program, t)),
        Type::Optional(t) => format!("{}?", type_name(program, t)),
        Type::Decision => "Decision".into(),
        Type::ValueDecision(t) => format!("Decision<{}>", type_name(program, t)),
        Type::None => "none".into(),
    }
}
