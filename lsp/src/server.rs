//! The LSP methods: each converts positions, runs a `pol-ide` feature on
//! a snapshot through the owner, and converts the answer back.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use pol_ide::Analysis;
use tower_lsp_server::jsonrpc::{self, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use crate::config::Settings;
use crate::convert::{self, Encoding, LineIndex};
use crate::evaluate::{self, InputFiles};
use crate::owner::{Msg, OwnerHandle, Snapshot};

/// The command a code lens runs.
pub(crate) const RUN_LENS: &str = "pol.runLens";

/// The language server.
#[derive(Debug)]
pub(crate) struct Backend {
    client: Client,
    owner: OwnerHandle,
    std_dir: Option<PathBuf>,
    /// What the client can do, from `initialize`.
    abilities: OnceLock<ClientAbilities>,
    /// Problems with the settings of `initializationOptions`, logged once
    /// the client is initialized.
    init_warnings: Mutex<Vec<String>>,
    /// The last semantic tokens sent for each document, with their result
    /// id, for `semanticTokens/full/delta`.
    tokens: Mutex<HashMap<String, (String, Vec<SemanticToken>)>>,
    next_result_id: AtomicU64,
}

/// The client capabilities the server acts on.
#[derive(Debug, Clone, Copy, Default)]
struct ClientAbilities {
    /// `workspace/codeLens/refresh`.
    code_lens_refresh: bool,
    /// `workspace/configuration`.
    configuration: bool,
}

impl Backend {
    pub(crate) fn new(client: Client, owner: OwnerHandle, std_dir: Option<PathBuf>) -> Backend {
        Backend {
            client,
            owner,
            std_dir,
            abilities: OnceLock::new(),
            init_warnings: Mutex::new(Vec::new()),
            tokens: Mutex::new(HashMap::new()),
            next_result_id: AtomicU64::new(1),
        }
    }

    fn abilities(&self) -> ClientAbilities {
        self.abilities.get().copied().unwrap_or_default()
    }

    /// Asks the client to ask for code lenses again, when it can.
    async fn refresh_lenses(&self) {
        if self.abilities().code_lens_refresh {
            let _ = self.client.code_lens_refresh().await;
        }
    }

    /// The document's semantic tokens (those overlapping `range` when
    /// given), encoded.
    async fn encoded_tokens(&self, uri: &Uri, range: Option<Range>) -> Result<Vec<SemanticToken>> {
        let path = self.doc_path(uri);
        self.query(move |analysis, snapshot| encode_tokens(analysis, snapshot, &path, range))
            .await
    }

    /// Remembers `data` as the document's last tokens; returns their id.
    fn remember_tokens(&self, uri: &Uri, data: Vec<SemanticToken>) -> String {
        let id = self
            .next_result_id
            .fetch_add(1, Ordering::Relaxed)
            .to_string();
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.insert(self.doc_path(uri), (id.clone(), data));
        id
    }

    /// The workspace path of a document (embedded-library files map back
    /// to their `<std>/...` path).
    fn doc_path(&self, uri: &Uri) -> String {
        let path = convert::uri_to_path(uri);
        convert::std_path(&path, self.std_dir.as_deref()).unwrap_or(path)
    }

    /// Runs `f` on a snapshot on a blocking thread. An edit that arrives
    /// meanwhile cancels it: the request then fails with `ContentModified`.
    async fn query<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Analysis<'_>, &Snapshot) -> T + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.owner
            .send(Msg::Query(Box::new(move |snapshot: Snapshot| {
                let result = salsa::Cancelled::catch(std::panic::AssertUnwindSafe(|| {
                    let analysis = Analysis::new(&snapshot.db, snapshot.project);
                    f(&analysis, &snapshot)
                }));
                let _ = tx.send(result.ok());
            })));
        match rx.await {
            Ok(Some(value)) => Ok(value),
            Ok(None) => Err(jsonrpc::Error {
                code: jsonrpc::ErrorCode::ContentModified,
                message: "the document changed; the request was cancelled".into(),
                data: None,
            }),
            Err(_) => Err(jsonrpc::Error::internal_error()),
        }
    }

    /// Like [`Backend::query`], with the document's path and the byte
    /// offset of `position` in it.
    async fn at<T, F>(&self, uri: &Uri, position: Position, f: F) -> Result<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce(&Analysis<'_>, &Snapshot, &str, u32) -> Option<T> + Send + 'static,
    {
        let path = self.doc_path(uri);
        self.query(move |analysis, snapshot| {
            let text = analysis.text(&path)?;
            let offset = LineIndex::new(text, snapshot.encoding).offset(position);
            f(analysis, snapshot, &path, offset)
        })
        .await
    }
}

/// The range of `span` in the file `path`.
fn range_in(
    analysis: &Analysis<'_>,
    snapshot: &Snapshot,
    path: &str,
    span: pol_syntax::Span,
) -> Option<Range> {
    let text = analysis.text(path)?;
    Some(LineIndex::new(text, snapshot.encoding).range(span))
}

/// A location in the file `path`.
fn location(
    analysis: &Analysis<'_>,
    snapshot: &Snapshot,
    path: &str,
    span: pol_syntax::Span,
) -> Option<Location> {
    let uri = convert::path_to_uri(path, snapshot.std_dir.as_deref())?;
    Some(Location::new(
        uri,
        range_in(analysis, snapshot, path, span)?,
    ))
}

/// A front-end diagnostic as an LSP diagnostic: its code, the help text
/// after the message, the other labels as related information.
pub(crate) fn to_lsp_diagnostic(
    analysis: &Analysis<'_>,
    snapshot: &Snapshot,
    uri: &Uri,
    index: &LineIndex<'_>,
    d: &pol_syntax::Diagnostic,
) -> Diagnostic {
    let range = d
        .primary_span()
        .map_or_else(Range::default, |s| index.range(s));
    let mut message = d.message.clone();
    if let Some(label) = d.labels.first().filter(|l| !l.message.is_empty()) {
        message.push_str(&format!(": {}", label.message));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .skip(1)
        .filter_map(|label| {
            let location = match &label.file {
                None => Location::new(uri.clone(), index.range(label.span)),
                Some(path) => location(analysis, snapshot, path, label.span)?,
            };
            Some(DiagnosticRelatedInformation {
                location,
                message: if label.message.is_empty() {
                    "related".into()
                } else {
                    label.message.clone()
                },
            })
        })
        .collect();
    Diagnostic {
        range,
        severity: Some(match d.severity {
            pol_syntax::Severity::Error => DiagnosticSeverity::ERROR,
            pol_syntax::Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.to_string())),
        source: Some("pol".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Diagnostic::default()
    }
}

/// The semantic tokens of `path` in the protocol's relative encoding,
/// only those overlapping `range` when given.
fn encode_tokens(
    analysis: &Analysis<'_>,
    snapshot: &Snapshot,
    path: &str,
    range: Option<Range>,
) -> Vec<SemanticToken> {
    let Some(text) = analysis.text(path) else {
        return Vec::new();
    };
    let index = LineIndex::new(text, snapshot.encoding);
    let bounds = range.map(|r| (index.offset(r.start), index.offset(r.end)));
    let mut data = Vec::new();
    let (mut last_line, mut last_start) = (0, 0);
    for token in analysis.semantic_tokens(path) {
        if let Some((from, to)) = bounds
            && (token.span.end <= from || token.span.start >= to)
        {
            continue;
        }
        let start = index.position(token.span.start);
        let end = index.position(token.span.end);
        if start.line != end.line || end.character <= start.character {
            continue;
        }
        // Tokens come sorted and disjoint; one that is not is skipped
        // rather than encoded as a wrapped delta.
        let Some(delta_line) = start.line.checked_sub(last_line) else {
            continue;
        };
        let delta_start = if delta_line == 0 {
            match start.character.checked_sub(last_start) {
                Some(delta) => delta,
                None => continue,
            }
        } else {
            start.character
        };
        data.push(SemanticToken {
            delta_line,
            delta_start,
            length: end.character - start.character,
            token_type: pol_ide::TokenType::ALL
                .iter()
                .position(|t| *t == token.ty)
                .unwrap_or(0) as u32,
            token_modifiers_bitset: token.modifiers,
        });
        last_line = start.line;
        last_start = start.character;
    }
    data
}

/// The edit that turns the tokens `old` into `new`: one replacement of
/// what lies between their common prefix and suffix, in the integer
/// array's units (five per token). No edit when they are equal.
fn tokens_edit(old: &[SemanticToken], new: &[SemanticToken]) -> Vec<SemanticTokensEdit> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let deleted = old.len() - prefix - suffix;
    let inserted = &new[prefix..new.len() - suffix];
    if deleted == 0 && inserted.is_empty() {
        return Vec::new();
    }
    vec![SemanticTokensEdit {
        start: (prefix * 5) as u32,
        delete_count: (deleted * 5) as u32,
        data: Some(inserted.to_vec()),
    }]
}

fn completion_kind(kind: pol_ide::CompletionKind) -> CompletionItemKind {
    use pol_ide::CompletionKind as K;
    match kind {
        K::Field => CompletionItemKind::FIELD,
        K::Method => CompletionItemKind::METHOD,
        K::Function => CompletionItemKind::FUNCTION,
        K::Variant => CompletionItemKind::ENUM_MEMBER,
        K::Local => CompletionItemKind::VARIABLE,
        K::Let => CompletionItemKind::CONSTANT,
        K::Param => CompletionItemKind::VARIABLE,
        K::Policy => CompletionItemKind::FUNCTION,
        K::Schema => CompletionItemKind::STRUCT,
        K::Enum => CompletionItemKind::ENUM,
        K::Module => CompletionItemKind::MODULE,
        K::Type => CompletionItemKind::TYPE_PARAMETER,
        K::Keyword => CompletionItemKind::KEYWORD,
        K::Snippet => CompletionItemKind::SNIPPET,
    }
}

fn symbol_kind(kind: pol_ide::SymbolKind) -> SymbolKind {
    use pol_ide::SymbolKind as K;
    match kind {
        K::Package => SymbolKind::PACKAGE,
        K::Module => SymbolKind::MODULE,
        K::Struct => SymbolKind::STRUCT,
        K::Field => SymbolKind::FIELD,
        K::Enum => SymbolKind::ENUM,
        K::EnumMember => SymbolKind::ENUM_MEMBER,
        K::Constant => SymbolKind::CONSTANT,
        K::Variable => SymbolKind::VARIABLE,
        K::Function => SymbolKind::FUNCTION,
        K::Event => SymbolKind::EVENT,
        K::Method => SymbolKind::METHOD,
    }
}

fn token_type(ty: pol_ide::TokenType) -> SemanticTokenType {
    use pol_ide::TokenType as T;
    match ty {
        T::Keyword => SemanticTokenType::KEYWORD,
        T::Type => SemanticTokenType::TYPE,
        T::Struct => SemanticTokenType::STRUCT,
        T::Enum => SemanticTokenType::ENUM,
        T::EnumMember => SemanticTokenType::ENUM_MEMBER,
        T::Property => SemanticTokenType::PROPERTY,
        T::Function => SemanticTokenType::FUNCTION,
        T::Method => SemanticTokenType::METHOD,
        T::Variable => SemanticTokenType::VARIABLE,
        T::Parameter => SemanticTokenType::PARAMETER,
        T::Namespace => SemanticTokenType::NAMESPACE,
        T::String => SemanticTokenType::STRING,
        T::Number => SemanticTokenType::NUMBER,
        T::Comment => SemanticTokenType::COMMENT,
        T::Operator => SemanticTokenType::OPERATOR,
        T::Decorator => SemanticTokenType::DECORATOR,
    }
}

fn token_modifier(m: pol_ide::TokenModifier) -> SemanticTokenModifier {
    use pol_ide::TokenModifier as M;
    match m {
        M::Declaration => SemanticTokenModifier::DECLARATION,
        M::Documentation => SemanticTokenModifier::DOCUMENTATION,
        M::Readonly => SemanticTokenModifier::READONLY,
        M::DefaultLibrary => SemanticTokenModifier::DEFAULT_LIBRARY,
    }
}

fn document_symbol(
    analysis: &Analysis<'_>,
    snapshot: &Snapshot,
    s: &pol_ide::Symbol,
) -> Option<DocumentSymbol> {
    #[expect(deprecated, reason = "the field is required by the type")]
    Some(DocumentSymbol {
        name: s.name.clone(),
        detail: s.detail.clone(),
        kind: symbol_kind(s.kind),
        tags: None,
        deprecated: None,
        range: range_in(analysis, snapshot, &s.path, s.span)?,
        selection_range: range_in(analysis, snapshot, &s.path, s.selection)?,
        children: Some(
            s.children
                .iter()
                .filter_map(|c| document_symbol(analysis, snapshot, c))
                .collect(),
        ),
    })
}

/// Whether the client offers UTF-8 positions.
fn negotiate_encoding(params: &InitializeParams) -> Encoding {
    let offered = params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref());
    match offered {
        Some(list) if list.contains(&PositionEncodingKind::UTF8) => Encoding::Utf8,
        _ => Encoding::Utf16,
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let encoding = negotiate_encoding(&params);
        let mut folders: Vec<PathBuf> = params
            .workspace_folders
            .iter()
            .flatten()
            .filter_map(|f| f.uri.to_file_path().map(|p| p.into_owned()))
            .collect();
        #[expect(deprecated, reason = "older clients send only `rootUri`")]
        if folders.is_empty()
            && let Some(root) = params.root_uri.as_ref().and_then(|u| u.to_file_path())
        {
            folders.push(root.into_owned());
        }
        let (settings, warnings) = params
            .initialization_options
            .as_ref()
            .map(Settings::from_json)
            .unwrap_or_default();
        *self.init_warnings.lock().unwrap_or_else(|e| e.into_inner()) = warnings;
        let workspace = params.capabilities.workspace.as_ref();
        let _ = self.abilities.set(ClientAbilities {
            code_lens_refresh: workspace
                .and_then(|w| w.code_lens.as_ref())
                .and_then(|c| c.refresh_support)
                .unwrap_or(false),
            configuration: workspace.and_then(|w| w.configuration).unwrap_or(false),
        });
        self.owner.send(Msg::Init {
            encoding,
            folders,
            settings,
        });
        let legend = SemanticTokensLegend {
            token_types: pol_ide::TokenType::ALL
                .iter()
                .map(|t| token_type(*t))
                .collect(),
            token_modifiers: pol_ide::TokenModifier::ALL
                .iter()
                .map(|m| token_modifier(*m))
                .collect(),
        };
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "pol-lsp".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            capabilities: ServerCapabilities {
                position_encoding: Some(match encoding {
                    Encoding::Utf8 => PositionEncodingKind::UTF8,
                    Encoding::Utf16 => PositionEncodingKind::UTF16,
                }),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        ..TextDocumentSyncOptions::default()
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec![".".into()]),
                    ..CompletionOptions::default()
                }),
                signature_help_provider: Some(SignatureHelpOptions {
                    trigger_characters: Some(vec!["(".into(), ",".into()]),
                    ..SignatureHelpOptions::default()
                }),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: WorkDoneProgressOptions::default(),
                })),
                semantic_tokens_provider: Some(
                    SemanticTokensServerCapabilities::SemanticTokensOptions(
                        SemanticTokensOptions {
                            legend,
                            full: Some(SemanticTokensFullOptions::Delta { delta: Some(true) }),
                            range: Some(true),
                            ..SemanticTokensOptions::default()
                        },
                    ),
                ),
                document_symbol_provider: Some(OneOf::Left(true)),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
                document_formatting_provider: Some(OneOf::Left(true)),
                document_range_formatting_provider: Some(OneOf::Left(true)),
                code_lens_provider: Some(CodeLensOptions {
                    resolve_provider: Some(false),
                }),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: vec![RUN_LENS.into()],
                    ..ExecuteCommandOptions::default()
                }),
                ..ServerCapabilities::default()
            },
            ..InitializeResult::default()
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let warnings =
            std::mem::take(&mut *self.init_warnings.lock().unwrap_or_else(|e| e.into_inner()));
        for warning in warnings {
            self.client
                .log_message(MessageType::WARNING, format!("pol-lsp: {warning}"))
                .await;
        }
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        // Clients that push settings send them here; others send nothing
        // (or `null`) and answer `workspace/configuration` instead.
        let pushed = match &params.settings {
            serde_json::Value::Null => None,
            serde_json::Value::Object(o) if o.is_empty() => None,
            settings => Some(settings.clone()),
        };
        let value = match pushed {
            Some(value) => value,
            None if self.abilities().configuration => {
                let item = ConfigurationItem {
                    scope_uri: None,
                    section: Some("pol".into()),
                };
                match self.client.configuration(vec![item]).await {
                    Ok(values) => values.into_iter().next().unwrap_or_default(),
                    Err(e) => {
                        self.client
                            .log_message(
                                MessageType::WARNING,
                                format!("pol-lsp: cannot read the `pol` settings: {}", e.message),
                            )
                            .await;
                        return;
                    }
                }
            }
            None => serde_json::Value::Null,
        };
        let (settings, warnings) = Settings::from_json(&value);
        for warning in warnings {
            self.client
                .log_message(MessageType::WARNING, format!("pol-lsp: {warning}"))
                .await;
        }
        self.owner.send(Msg::Settings(settings));
        // Lenses depend on `pol.lens.enable` and `pol.inputDir`.
        self.refresh_lenses().await;
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        self.owner.send(Msg::Open {
            path: convert::uri_to_path(&params.text_document.uri),
            text: params.text_document.text,
            version: params.text_document.version,
        });
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        self.owner.send(Msg::Change {
            path: convert::uri_to_path(&params.text_document.uri),
            version: params.text_document.version,
            changes: params.content_changes,
        });
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.doc_path(&params.text_document.uri));
        self.owner.send(Msg::Close {
            path: convert::uri_to_path(&params.text_document.uri),
        });
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let paths = params
            .changes
            .iter()
            .map(|c| convert::uri_to_path(&c.uri))
            .collect();
        self.owner.send(Msg::Disk(paths));
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let p = params.text_document_position_params;
        self.at(
            &p.text_document.uri,
            p.position,
            |analysis, snapshot, path, offset| {
                let hover = analysis.hover(path, offset)?;
                Some(Hover {
                    contents: HoverContents::Markup(MarkupContent {
                        kind: MarkupKind::Markdown,
                        value: hover.markdown,
                    }),
                    range: range_in(analysis, snapshot, path, hover.span),
                })
            },
        )
        .await
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let p = params.text_document_position_params;
        self.at(
            &p.text_document.uri,
            p.position,
            |analysis, snapshot, path, offset| {
                let target = analysis.definition(path, offset)?;
                let location = location(analysis, snapshot, &target.path, target.span)?;
                Some(GotoDefinitionResponse::Scalar(location))
            },
        )
        .await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let p = params.text_document_position;
        let include = params.context.include_declaration;
        self.at(
            &p.text_document.uri,
            p.position,
            move |analysis, snapshot, path, offset| {
                let found = analysis.references(path, offset, include);
                Some(
                    found
                        .iter()
                        .filter_map(|t| location(analysis, snapshot, &t.path, t.span))
                        .collect(),
                )
            },
        )
        .await
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let p = params.text_document_position;
        self.at(
            &p.text_document.uri,
            p.position,
            |analysis, snapshot, path, offset| {
                let items = analysis.completions(path, offset);
                let text = analysis.text(path)?;
                let index = LineIndex::new(text, snapshot.encoding);
                let items = items
                    .into_iter()
                    .map(|item| {
                        let new_text = item.insert.clone().unwrap_or_else(|| item.label.clone());
                        CompletionItem {
                            label: item.label,
                            kind: Some(completion_kind(item.kind)),
                            detail: item.detail,
                            documentation: item.documentation.map(|d| {
                                Documentation::MarkupContent(MarkupContent {
                                    kind: MarkupKind::Markdown,
                                    value: d,
                                })
                            }),
                            insert_text_format: Some(if item.is_snippet {
                                InsertTextFormat::SNIPPET
                            } else {
                                InsertTextFormat::PLAIN_TEXT
                            }),
                            text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(
                                index.range(item.replace),
                                new_text,
                            ))),
                            ..CompletionItem::default()
                        }
                    })
                    .collect();
                Some(CompletionResponse::Array(items))
            },
        )
        .await
    }

    async fn signature_help(&self, params: SignatureHelpParams) -> Result<Option<SignatureHelp>> {
        let p = params.text_document_position_params;
        self.at(
            &p.text_document.uri,
            p.position,
            |analysis, _, path, offset| {
                let sig = analysis.signature_help(path, offset)?;
                // Parameter ranges in UTF-16 units of the label.
                let utf16 = |at: u32| {
                    sig.label
                        .get(..at as usize)
                        .map_or(0, |s| s.encode_utf16().count()) as u32
                };
                Some(SignatureHelp {
                    signatures: vec![SignatureInformation {
                        label: sig.label.clone(),
                        documentation: sig.doc.clone().map(|d| {
                            Documentation::MarkupContent(MarkupContent {
                                kind: MarkupKind::Markdown,
                                value: d,
                            })
                        }),
                        parameters: Some(
                            sig.params
                                .iter()
                                .map(|(start, end)| ParameterInformation {
                                    label: ParameterLabel::LabelOffsets([
                                        utf16(*start),
                                        utf16(*end),
                                    ]),
                                    documentation: None,
                                })
                                .collect(),
                        ),
                        active_parameter: Some(sig.active),
                    }],
                    active_signature: Some(0),
                    active_parameter: Some(sig.active),
                })
            },
        )
        .await
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        let result = self
            .at(
                &params.text_document.uri,
                params.position,
                |analysis, snapshot, path, offset| {
                    Some(match analysis.prepare_rename(path, offset) {
                        Ok((span, placeholder)) => {
                            Ok(PrepareRenameResponse::RangeWithPlaceholder {
                                range: range_in(analysis, snapshot, path, span)?,
                                placeholder,
                            })
                        }
                        Err(e) => Err(e.0),
                    })
                },
            )
            .await?;
        match result {
            None => Ok(None),
            Some(Ok(response)) => Ok(Some(response)),
            Some(Err(message)) => Err(jsonrpc::Error::invalid_params(message)),
        }
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let p = params.text_document_position;
        let new_name = params.new_name;
        let result = self
            .at(
                &p.text_document.uri,
                p.position,
                move |analysis, snapshot, path, offset| {
                    Some(analysis.rename(path, offset, &new_name).map(|files| {
                        let mut changes = std::collections::HashMap::new();
                        for file in files {
                            let Some(uri) =
                                convert::path_to_uri(&file.path, snapshot.std_dir.as_deref())
                            else {
                                continue;
                            };
                            let edits = file
                                .edits
                                .iter()
                                .filter_map(|e| {
                                    Some(TextEdit::new(
                                        range_in(analysis, snapshot, &file.path, e.span)?,
                                        e.new_text.clone(),
                                    ))
                                })
                                .collect();
                            changes.insert(uri, edits);
                        }
                        WorkspaceEdit::new(changes)
                    }))
                },
            )
            .await?;
        match result {
            None => Ok(None),
            Some(Ok(edit)) => Ok(Some(edit)),
            Some(Err(e)) => Err(jsonrpc::Error::invalid_params(e.0)),
        }
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        let uri = params.text_document.uri;
        let data = self.encoded_tokens(&uri, None).await?;
        let result_id = self.remember_tokens(&uri, data.clone());
        Ok(Some(SemanticTokensResult::Tokens(SemanticTokens {
            result_id: Some(result_id),
            data,
        })))
    }

    async fn semantic_tokens_full_delta(
        &self,
        params: SemanticTokensDeltaParams,
    ) -> Result<Option<SemanticTokensFullDeltaResult>> {
        let uri = params.text_document.uri;
        let data = self.encoded_tokens(&uri, None).await?;
        let previous = {
            let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            tokens
                .get(&self.doc_path(&uri))
                .filter(|(id, _)| *id == params.previous_result_id)
                .map(|(_, old)| tokens_edit(old, &data))
        };
        let result_id = self.remember_tokens(&uri, data.clone());
        // An unknown previous id (an older result, or one from before a
        // restart): all the tokens.
        Ok(Some(match previous {
            Some(edits) => SemanticTokensFullDeltaResult::TokensDelta(SemanticTokensDelta {
                result_id: Some(result_id),
                edits,
            }),
            None => SemanticTokensFullDeltaResult::Tokens(SemanticTokens {
                result_id: Some(result_id),
                data,
            }),
        }))
    }

    async fn semantic_tokens_range(
        &self,
        params: SemanticTokensRangeParams,
    ) -> Result<Option<SemanticTokensRangeResult>> {
        let data = self
            .encoded_tokens(&params.text_document.uri, Some(params.range))
            .await?;
        Ok(Some(SemanticTokensRangeResult::Tokens(SemanticTokens {
            result_id: None,
            data,
        })))
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let path = self.doc_path(&params.text_document.uri);
        self.query(move |analysis, snapshot| {
            let symbols = analysis
                .document_symbols(&path)
                .iter()
                .filter_map(|s| document_symbol(analysis, snapshot, s))
                .collect();
            Some(DocumentSymbolResponse::Nested(symbols))
        })
        .await
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        let query = params.query;
        self.query(move |analysis, snapshot| {
            let symbols = analysis
                .workspace_symbols(&query)
                .iter()
                .filter_map(|s| {
                    Some(WorkspaceSymbol {
                        name: s.name.clone(),
                        kind: symbol_kind(s.kind),
                        tags: None,
                        container_name: s.container.clone(),
                        location: OneOf::Left(location(analysis, snapshot, &s.path, s.selection)?),
                        data: None,
                    })
                })
                .collect();
            Some(WorkspaceSymbolResponse::Nested(symbols))
        })
        .await
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        let path = self.doc_path(&params.text_document.uri);
        self.query(move |analysis, snapshot| {
            let text = analysis.text(&path)?;
            let index = LineIndex::new(text, snapshot.encoding);
            Some(
                analysis
                    .folding_ranges(&path)
                    .iter()
                    .map(|fold| {
                        let range = index.range(fold.span);
                        FoldingRange {
                            start_line: range.start.line,
                            end_line: range.end.line,
                            kind: Some(match fold.kind {
                                pol_ide::FoldKind::Region => FoldingRangeKind::Region,
                                pol_ide::FoldKind::Comment => FoldingRangeKind::Comment,
                                pol_ide::FoldKind::Imports => FoldingRangeKind::Imports,
                            }),
                            ..FoldingRange::default()
                        }
                    })
                    .collect(),
            )
        })
        .await
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        let path = self.doc_path(&params.text_document.uri);
        let result = self
            .query(move |analysis, snapshot| {
                let text = analysis.text(&path)?;
                let index = LineIndex::new(text, snapshot.encoding);
                Some(
                    pol_fmt::format_edit(text, &pol_fmt::FormatConfig::default())
                        .map(|edit| {
                            edit.map(|e| vec![TextEdit::new(index.range(e.span), e.text)])
                                .unwrap_or_default()
                        })
                        .map_err(|e| e.to_string()),
                )
            })
            .await?;
        match result {
            None => Ok(None),
            Some(Ok(edits)) => Ok(Some(edits)),
            Some(Err(why)) => {
                self.client
                    .show_message(MessageType::WARNING, format!("cannot format: {why}"))
                    .await;
                Ok(None)
            }
        }
    }

    async fn range_formatting(
        &self,
        params: DocumentRangeFormattingParams,
    ) -> Result<Option<Vec<TextEdit>>> {
        let path = self.doc_path(&params.text_document.uri);
        let range = params.range;
        let result = self
            .query(move |analysis, snapshot| {
                let text = analysis.text(&path)?;
                let index = LineIndex::new(text, snapshot.encoding);
                let span = pol_syntax::Span {
                    start: index.offset(range.start),
                    end: index.offset(range.end),
                };
                Some(
                    pol_fmt::format_range_edit(text, span, &pol_fmt::FormatConfig::default())
                        .map(|edit| {
                            edit.map(|e| vec![TextEdit::new(index.range(e.span), e.text)])
                                .unwrap_or_default()
                        })
                        .map_err(|e| e.to_string()),
                )
            })
            .await?;
        match result {
            None => Ok(None),
            Some(Ok(edits)) => Ok(Some(edits)),
            Some(Err(why)) => {
                self.client
                    .show_message(MessageType::WARNING, format!("cannot format: {why}"))
                    .await;
                Ok(None)
            }
        }
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let uri = params.text_document.uri;
        let path = self.doc_path(&uri);
        self.query(move |analysis, snapshot| {
            if !snapshot.settings.lens_enable {
                return Some(Vec::new());
            }
            let mut lenses = Vec::new();
            for lens in analysis.lenses(&path) {
                let Some(range) = range_in(analysis, snapshot, &path, lens.span) else {
                    continue;
                };
                let lens_of = |title: String, argument: serde_json::Value| CodeLens {
                    range,
                    command: Some(Command {
                        title,
                        command: RUN_LENS.into(),
                        arguments: Some(vec![argument]),
                    }),
                    data: None,
                };
                match &lens.kind {
                    pol_ide::LensKind::Test { package, name } => lenses.push(lens_of(
                        "▶ run test".to_string(),
                        serde_json::json!({ "test": name, "package": package }),
                    )),
                    pol_ide::LensKind::Policy { qualified } => {
                        lenses.push(lens_of(
                            "▶ run the package's tests".to_string(),
                            serde_json::json!({ "policy": qualified }),
                        ));
                        let Some(files) = InputFiles::of_policy(
                            &path,
                            evaluate::policy_name(qualified),
                            &snapshot.settings,
                            &snapshot.folders,
                        ) else {
                            continue;
                        };
                        let title = match files.existing() {
                            Some(input) => format!("▶ evaluate ({})", evaluate::file_name(input)),
                            None => "▶ evaluate (no input file)".to_string(),
                        };
                        lenses.push(lens_of(
                            title,
                            serde_json::json!({ "evaluate": qualified, "uri": uri.as_str() }),
                        ));
                    }
                }
            }
            Some(lenses)
        })
        .await
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        if params.command != RUN_LENS {
            return Err(jsonrpc::Error::invalid_params(format!(
                "unknown command `{}`",
                params.command
            )));
        }
        let argument = params.arguments.first().cloned().unwrap_or_default();
        let text = |key: &str| {
            argument
                .get(key)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        if let (Some(qualified), Some(uri)) = (text("evaluate"), text("uri")) {
            let uri = uri
                .parse::<Uri>()
                .map_err(|_| jsonrpc::Error::invalid_params(format!("`{uri}` is not a URI")))?;
            return self.evaluate(qualified, &uri).await.map(Some);
        }
        let kind = match (text("test"), text("package"), text("policy")) {
            (Some(name), Some(package), _) => pol_ide::LensKind::Test { package, name },
            (_, _, Some(qualified)) => pol_ide::LensKind::Policy { qualified },
            _ => {
                return Err(jsonrpc::Error::invalid_params(
                    "expected `{ test, package }`, `{ policy }` or `{ evaluate, uri }`",
                ));
            }
        };
        let label = match &kind {
            pol_ide::LensKind::Test { name, .. } => format!("test {name:?}"),
            pol_ide::LensKind::Policy { qualified } => format!("tests of `{qualified}`"),
        };
        // Lowered on a snapshot, run without one: an edit that arrives
        // meanwhile does not wait for the tests.
        let prepared = self
            .query(move |analysis, _| analysis.prepare_lens(kind))
            .await?;
        let result = match prepared {
            Ok(prepared) => tokio::task::spawn_blocking(move || prepared.run())
                .await
                .map_err(|_| jsonrpc::Error::internal_error())?,
            Err(result) => result,
        };
        let level = if result.passed {
            MessageType::INFO
        } else {
            MessageType::ERROR
        };
        self.client
            .show_message(level, format!("{label}: {}", result.summary))
            .await;
        Ok(Some(serde_json::json!({
            "passed": result.passed,
            "summary": result.summary,
        })))
    }
}

impl Backend {
    /// The evaluate lens: evaluates the policy `qualified` of the document
    /// `uri` on its input file, or, when it has none, writes a skeleton
    /// input where the lens looks first. Shows the outcome as a message
    /// and returns it as JSON.
    async fn evaluate(&self, qualified: String, uri: &Uri) -> Result<LSPAny> {
        let path = self.doc_path(uri);
        // Lowered on a snapshot; the files are read and the policy
        // evaluated without one.
        let (prepared, files) = self
            .query(move |analysis, snapshot| {
                let name = evaluate::policy_name(&qualified);
                let files =
                    InputFiles::of_policy(&path, name, &snapshot.settings, &snapshot.folders);
                (analysis.prepare_evaluation(&qualified), files)
            })
            .await?;
        let outcome = tokio::task::spawn_blocking(move || evaluate::on_input(prepared, files))
            .await
            .map_err(|_| jsonrpc::Error::internal_error())?;
        self.client
            .show_message(outcome.level, outcome.message)
            .await;
        if outcome.created {
            self.refresh_lenses().await;
        }
        Ok(outcome.json)
    }
}
