//! The one owner of the mutable workspace.
//!
//! Every document change goes through a channel to one thread that holds
//! the [`Workspace`]. Requests send it a job; the owner hands the job a
//! clone of the database (a snapshot) on a blocking thread, so a slow
//! request never holds up an edit: the next edit makes salsa cancel the
//! snapshot's queries (they unwind with `salsa::Cancelled`, which the job
//! catches), and the edit proceeds. No snapshot ever lives in async code.
//!
//! After a batch of edits (the channel drained), the owner starts a job
//! that checks the workspace and publishes the diagnostics of every file
//! whose diagnostics changed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;

use pol_sema::{Database, Project, Workspace};
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::{self as lsp, TextDocumentContentChangeEvent, Uri};

use crate::config::Settings;
use crate::convert::{self, Encoding, LineIndex};

/// What a request's job sees: a database snapshot and how to convert.
pub(crate) struct Snapshot {
    /// A clone of the owner's database.
    pub(crate) db: Database,
    /// The project input.
    pub(crate) project: Project,
    /// The negotiated position encoding.
    pub(crate) encoding: Encoding,
    /// Where the embedded library's files are written, for URIs.
    pub(crate) std_dir: Option<PathBuf>,
    /// The settings when the snapshot was taken.
    pub(crate) settings: Arc<Settings>,
    /// The workspace folders.
    pub(crate) folders: Arc<[PathBuf]>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot").finish_non_exhaustive()
    }
}

/// A request's work, run on a blocking thread with a snapshot.
pub(crate) type Job = Box<dyn FnOnce(Snapshot) + Send>;

/// A message to the owner.
pub(crate) enum Msg {
    /// Start: the position encoding, the workspace folders to load and
    /// the settings from `initializationOptions`.
    Init {
        encoding: Encoding,
        folders: Vec<PathBuf>,
        settings: Settings,
    },
    /// New settings (`workspace/didChangeConfiguration`).
    Settings(Settings),
    /// `didOpen`.
    Open {
        path: String,
        text: String,
        version: i32,
    },
    /// `didChange`.
    Change {
        path: String,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
    },
    /// `didClose`: the file's text reverts to what is on disk.
    Close { path: String },
    /// Files changed on disk: their paths.
    Disk(Vec<String>),
    /// A request.
    Query(Job),
}

/// Sends messages to the owner; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct OwnerHandle {
    tx: mpsc::Sender<Msg>,
}

impl OwnerHandle {
    /// Sends a message; after shutdown it is dropped.
    pub(crate) fn send(&self, msg: Msg) {
        let _ = self.tx.send(msg);
    }
}

/// Starts the owner thread.
pub(crate) fn start(
    runtime: tokio::runtime::Handle,
    client: Client,
    std_dir: Option<PathBuf>,
) -> OwnerHandle {
    let (tx, rx) = mpsc::channel();
    let publisher = Arc::new(Publisher {
        client,
        state: tokio::sync::Mutex::new(Published::default()),
    });
    let owner = Owner {
        workspace: Workspace::new(),
        docs: HashMap::new(),
        encoding: Encoding::Utf16,
        settings: Arc::new(Settings::default()),
        folders: Arc::from(Vec::new()),
        std_dir,
        runtime,
        publisher,
        generation: 0,
        edited: std::collections::BTreeSet::new(),
    };
    let spawned = std::thread::Builder::new()
        .name("pol-lsp-owner".into())
        .spawn(move || owner.run(rx));
    if let Err(e) = spawned {
        eprintln!("pol-lsp: cannot start the workspace thread: {e}");
    }
    OwnerHandle { tx }
}

/// An open document as the editor has it.
struct Doc {
    text: String,
    version: i32,
    /// An incremental change did not fit the text: the server's copy may
    /// differ from the editor's, so incremental changes are ignored until
    /// the editor sends the whole text (a change without a range, or a
    /// reopen).
    desynced: bool,
}

struct Owner {
    workspace: Workspace,
    /// Open documents.
    docs: HashMap<String, Doc>,
    encoding: Encoding,
    settings: Arc<Settings>,
    folders: Arc<[PathBuf]>,
    std_dir: Option<PathBuf>,
    runtime: tokio::runtime::Handle,
    publisher: Arc<Publisher>,
    generation: u64,
    /// Files edited since diagnostics were last published: theirs are
    /// published first, from a check of their bodies only.
    edited: std::collections::BTreeSet<String>,
}

impl Owner {
    fn run(mut self, rx: mpsc::Receiver<Msg>) {
        let mut dirty = false;
        loop {
            let msg = if dirty {
                match rx.try_recv() {
                    Ok(msg) => msg,
                    Err(mpsc::TryRecvError::Empty) => {
                        self.publish_diagnostics();
                        dirty = false;
                        continue;
                    }
                    Err(mpsc::TryRecvError::Disconnected) => return,
                }
            } else {
                match rx.recv() {
                    Ok(msg) => msg,
                    Err(_) => return,
                }
            };
            match msg {
                Msg::Query(job) => self.spawn_job(job),
                edit => {
                    // A bug in applying one edit must not stop the server
                    // taking the next: the panic is logged and the loop goes on.
                    let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        self.apply(edit);
                    }));
                    if applied.is_err() {
                        eprintln!("pol-lsp: an edit failed to apply; continuing");
                    }
                    dirty = true;
                }
            }
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            db: self.workspace.db().clone(),
            project: self.workspace.project(),
            encoding: self.encoding,
            std_dir: self.std_dir.clone(),
            settings: self.settings.clone(),
            folders: self.folders.clone(),
        }
    }

    /// Logs a message in the client's log (`window/logMessage`).
    fn log(&self, level: lsp::MessageType, message: String) {
        let client = self.publisher.client.clone();
        self.runtime.spawn(async move {
            client.log_message(level, message).await;
        });
    }

    fn spawn_job(&self, job: Job) {
        let snapshot = self.snapshot();
        // A panic in the job ends its blocking thread only; the request
        // then answers with an error.
        drop(self.runtime.spawn_blocking(move || job(snapshot)));
    }

    fn apply(&mut self, msg: Msg) {
        match msg {
            Msg::Init {
                encoding,
                folders,
                settings,
            } => {
                self.encoding = encoding;
                self.settings = Arc::new(settings);
                self.folders = Arc::from(folders.clone());
                for folder in folders {
                    let mut found = Vec::new();
                    collect_pol_files(&folder, &mut found, 0);
                    for path in found {
                        let key = path.to_string_lossy().into_owned();
                        if self.docs.contains_key(&key) || self.is_std(&key) {
                            continue;
                        }
                        if let Ok(text) = std::fs::read_to_string(&path) {
                            self.workspace.set_file(&key, text);
                        }
                    }
                }
            }
            Msg::Open {
                path,
                text,
                version,
            } => {
                if self.is_std(&path) {
                    return;
                }
                self.workspace.set_file(&path, text.clone());
                self.edited.insert(path.clone());
                self.docs.insert(
                    path,
                    Doc {
                        text,
                        version,
                        desynced: false,
                    },
                );
            }
            Msg::Settings(settings) => self.settings = Arc::new(settings),
            Msg::Change {
                path,
                version,
                changes,
            } => {
                if self.is_std(&path) {
                    return;
                }
                self.apply_changes(path, version, changes);
            }
            Msg::Close { path } => {
                // The document is forgotten, desynced or not: a reopen
                // brings its whole text.
                if self.docs.remove(&path).is_some() {
                    self.reload_from_disk(&path);
                }
            }
            Msg::Disk(paths) => {
                for path in paths {
                    if !self.docs.contains_key(&path) && !self.is_std(&path) {
                        self.reload_from_disk(&path);
                    }
                }
            }
            Msg::Query(job) => self.spawn_job(job),
        }
    }

    /// Applies one `didChange` batch. The batch applies whole or not at
    /// all: a change whose range is outside the text (or reversed) rejects
    /// the batch, logs a warning and marks the document desynced, so later
    /// incremental changes, made against the editor's text, cannot corrupt
    /// the server's copy; a change with the whole text resyncs it.
    fn apply_changes(
        &mut self,
        path: String,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
    ) {
        let encoding = self.encoding;
        let Some(doc) = self.docs.get_mut(&path) else {
            return;
        };
        let was_desynced = doc.desynced;
        let mut text = doc.text.clone();
        let mut desynced = doc.desynced;
        let mut refused = None;
        let mut ignored = 0;
        for change in changes {
            if change.range.is_some() && desynced {
                ignored += 1;
                continue;
            }
            if let Err(why) = convert::apply_change(&mut text, change.range, &change.text, encoding)
            {
                refused = Some(why);
                break;
            }
            if change.range.is_none() {
                desynced = false;
            }
        }
        let mut messages = Vec::new();
        if let Some(why) = refused {
            doc.desynced = true;
            messages.push((
                lsp::MessageType::WARNING,
                format!(
                    "pol-lsp: an edit of {path} (version {version}) was refused: {why}; the server kept the text of version {} and ignores further incremental edits of this file until the editor sends its whole text (close and reopen the file)",
                    doc.version
                ),
            ));
        } else {
            if was_desynced && !desynced {
                messages.push((
                    lsp::MessageType::INFO,
                    format!("pol-lsp: {path} is in sync again (version {version})"),
                ));
            } else if ignored > 0 {
                messages.push((
                    lsp::MessageType::WARNING,
                    format!(
                        "pol-lsp: ignored {ignored} incremental edit(s) of {path} (version {version}): the file is out of sync; close and reopen it"
                    ),
                ));
            }
            if !desynced {
                doc.text = text.clone();
                doc.version = version;
                doc.desynced = false;
                self.workspace.set_file(&path, text);
                self.edited.insert(path);
            }
        }
        for (level, message) in messages {
            self.log(level, message);
        }
    }

    fn is_std(&self, path: &str) -> bool {
        self.std_dir
            .as_ref()
            .is_some_and(|dir| Path::new(path).starts_with(dir))
    }

    /// The file's text from disk, or the file removed when it is gone (or
    /// was only ever an unsaved buffer).
    fn reload_from_disk(&mut self, path: &str) {
        match std::fs::read_to_string(path) {
            Ok(text) if path.ends_with(".pol") => {
                self.workspace.set_file(path, text);
            }
            _ => self.workspace.remove_file(path),
        }
    }

    /// Checks the workspace on a blocking thread and publishes what
    /// changed: first the edited files' diagnostics from a check of their
    /// bodies only (fast), then every file's from the whole check. A later
    /// edit cancels the checks; a stale result is never published over a
    /// newer one.
    fn publish_diagnostics(&mut self) {
        self.generation += 1;
        let generation = self.generation;
        let edited: Vec<String> = std::mem::take(&mut self.edited).into_iter().collect();
        let versions: HashMap<String, i32> = self
            .docs
            .iter()
            .map(|(path, doc)| (path.clone(), doc.version))
            .collect();
        // With `pol.diagnostics.workspace` off, only open files' are
        // published (and those of files no longer open are cleared).
        let only_open = !self.settings.workspace_diagnostics;
        let keep = move |files: &mut Vec<FileDiagnostics>, versions: &HashMap<String, i32>| {
            if only_open {
                files.retain(|(path, _, _)| versions.contains_key(path));
            }
        };
        let publisher = self.publisher.clone();
        let runtime = self.runtime.clone();
        self.spawn_job(Box::new(move |snapshot| {
            let catch = |f: &dyn Fn() -> Vec<FileDiagnostics>| {
                salsa::Cancelled::catch(std::panic::AssertUnwindSafe(f)).ok()
            };
            if !edited.is_empty() {
                let Some(mut files) = catch(&|| edited_diagnostics(&snapshot, &edited)) else {
                    return;
                };
                keep(&mut files, &versions);
                let (publisher, versions) = (publisher.clone(), versions.clone());
                runtime.spawn(async move {
                    publisher
                        .publish((generation, 0), files, versions, false)
                        .await;
                });
            }
            let Some(mut files) = catch(&|| diagnostics_of(&snapshot)) else {
                return;
            };
            keep(&mut files, &versions);
            drop(snapshot);
            runtime.spawn(async move {
                publisher
                    .publish((generation, 1), files, versions, true)
                    .await;
            });
        }));
    }
}

/// One file's diagnostics, ready to publish: its path, URI and diagnostics.
pub(crate) type FileDiagnostics = (String, Uri, Vec<lsp::Diagnostic>);

/// The diagnostics of the given project files from checks of their bodies
/// only (see [`pol_ide::Analysis::file_diagnostics`]).
fn edited_diagnostics(snapshot: &Snapshot, paths: &[String]) -> Vec<FileDiagnostics> {
    let analysis = pol_ide::Analysis::new(&snapshot.db, snapshot.project);
    let project = analysis.project_paths();
    paths
        .iter()
        .filter(|path| project.contains(path))
        .filter_map(|path| {
            let diagnostics = analysis.file_diagnostics(path);
            convert_file(&analysis, snapshot, path, &diagnostics)
        })
        .collect()
}

/// A file's diagnostics as LSP diagnostics.
fn convert_file(
    analysis: &pol_ide::Analysis<'_>,
    snapshot: &Snapshot,
    path: &str,
    diagnostics: &[pol_syntax::Diagnostic],
) -> Option<FileDiagnostics> {
    let uri = convert::path_to_uri(path, snapshot.std_dir.as_deref())?;
    let text = analysis.text(path)?;
    let index = LineIndex::new(text, snapshot.encoding);
    let converted = diagnostics
        .iter()
        .map(|d| crate::server::to_lsp_diagnostic(analysis, snapshot, &uri, &index, d))
        .collect();
    Some((path.to_string(), uri, converted))
}

/// Every project file's diagnostics as LSP diagnostics.
pub(crate) fn diagnostics_of(snapshot: &Snapshot) -> Vec<FileDiagnostics> {
    let analysis = pol_ide::Analysis::new(&snapshot.db, snapshot.project);
    analysis
        .all_diagnostics()
        .iter()
        .filter_map(|(path, diagnostics)| convert_file(&analysis, snapshot, path, diagnostics))
        .collect()
}

/// Publishes diagnostics, skipping files whose diagnostics did not change
/// and results older than what was published last.
struct Publisher {
    client: Client,
    state: tokio::sync::Mutex<Published>,
}

#[derive(Default)]
struct Published {
    /// The generation and stage (0: edited files, 1: all) last published.
    last: (u64, u8),
    by_uri: HashMap<Uri, Vec<lsp::Diagnostic>>,
}

impl Publisher {
    /// Publishes `files` unless something newer was; `complete` means
    /// `files` lists every project file, so files missing from it left the
    /// workspace and their diagnostics are cleared.
    async fn publish(
        &self,
        key: (u64, u8),
        files: Vec<FileDiagnostics>,
        versions: HashMap<String, i32>,
        complete: bool,
    ) {
        let mut state = self.state.lock().await;
        if key < state.last {
            return;
        }
        state.last = key;
        let mut seen = std::collections::HashSet::new();
        for (path, uri, diagnostics) in files {
            seen.insert(uri.clone());
            if state.by_uri.get(&uri) == Some(&diagnostics) {
                continue;
            }
            state.by_uri.insert(uri.clone(), diagnostics.clone());
            let version = versions.get(&path).copied();
            self.client
                .publish_diagnostics(uri, diagnostics, version)
                .await;
        }
        if !complete {
            return;
        }
        // Files that left the workspace: clear what was shown for them.
        let gone: Vec<Uri> = state
            .by_uri
            .keys()
            .filter(|uri| !seen.contains(*uri))
            .cloned()
            .collect();
        for uri in gone {
            state.by_uri.remove(&uri);
            self.client.publish_diagnostics(uri, Vec::new(), None).await;
        }
    }
}

/// The `.pol` files under `dir`, skipping hidden folders, `target` and
/// `node_modules`, at most 32 levels deep.
fn collect_pol_files(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    if depth > 32 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(std::fs::DirEntry::path);
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "node_modules" {
                collect_pol_files(&path, out, depth + 1);
            }
        } else if kind.is_file() && name.ends_with(".pol") {
            out.push(path);
        }
    }
}

/// Writes the embedded library's files under `dir` (so go to definition
/// can open them), leaving files that already hold the same text.
pub(crate) fn materialize_std(dir: &Path) -> std::io::Result<()> {
    for (rel, text) in pol_stdlib::FILES {
        let path = dir.join(rel);
        if std::fs::read_to_string(&path).is_ok_and(|old| old == *text) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
    }
    Ok(())
}
