//! Diagnostics as plain data. They are rendered only at the edges: with
//! miette in `polc`, as LSP diagnostics in `pol-lsp`.

use serde::Serialize;

use crate::Span;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Does not stop the program from being used.
    Warning,
    /// The program is rejected.
    Error,
}

/// A labelled span. The first label of a diagnostic is its primary location.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What to say there (may be empty).
    pub message: String,
    /// The file this label points into, when it is not the diagnostic's own
    /// file (for example the first definition of a duplicated name).
    pub file: Option<String>,
}

/// One problem found in Pol source.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable code such as `pol::type::mismatch`.
    pub code: &'static str,
    /// Lowercase, no final period, user names in backticks.
    pub message: String,
    /// The primary label first, then related locations.
    pub labels: Vec<Label>,
    /// A second thought: how to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A new error with no labels yet.
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            labels: Vec::new(),
            help: None,
        }
    }

    /// A new warning with no labels yet.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Adds a label in the diagnostic's own file.
    #[must_use]
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
            file: None,
        });
        self
    }

    /// Adds a label pointing into another file.
    #[must_use]
    pub fn with_label_in(
        mut self,
        file: impl Into<String>,
        span: Span,
        message: impl Into<String>,
    ) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
            file: Some(file.into()),
        });
        self
    }

    /// Sets the help text.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// The primary span (the first label's), if any.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }

    /// The diagnostic with every same-file label moved right by `offset`:
    /// item-relative spans become file-absolute.
    #[must_use]
    pub fn shifted(&self, offset: u32) -> Diagnostic {
        let mut out = self.clone();
        for label in out.labels.iter_mut().filter(|l| l.file.is_none()) {
            label.span = label.span.shifted(offset);
        }
        out
    }

    /// Whether this is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}
