//! The syntax of Pol: the logos lexer, the pest grammar and the AST.
//!
//! **Invariant:** parsing never fails. [`parse_file`] returns the items that
//! parsed and one diagnostic per broken item; names of broken items are kept
//! in [`ParsedFile::broken_names`] so later phases do not cascade.
//!
//! Spans inside an item are relative to the item's first byte, so an edit
//! above an item leaves its AST unchanged (and salsa reuses everything
//! computed from it). [`ParsedFile`] records each item's offset.

pub mod ast;
mod diagnostic;
pub mod lexer;
mod parser;
mod split;

pub use diagnostic::{Diagnostic, Label, Severity};
pub use parser::{ParsedItem, parse_item};
pub use split::{ItemSlice, SplitFile, split_items};

use serde::Serialize;

/// A byte range in source text, `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord, Serialize)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from byte offsets. Offsets beyond `u32::MAX` saturate (files
    /// that large are refused before they get here).
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: saturate(start),
            end: saturate(end),
        }
    }

    /// The span as a `Range<usize>` for slicing.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// This span moved right by `offset` bytes.
    #[must_use]
    pub fn shifted(self, offset: u32) -> Span {
        Span {
            start: self.start.saturating_add(offset),
            end: self.end.saturating_add(offset),
        }
    }

    /// The smallest span covering both.
    #[must_use]
    pub fn cover(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// Whether `offset` lies within the span (end inclusive, for cursors).
    pub fn contains(self, offset: u32) -> bool {
        self.start <= offset && offset <= self.end
    }

    /// Length in bytes.
    pub fn len(self) -> u32 {
        self.end.saturating_sub(self.start)
    }

    /// Whether the span is empty.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A whole file after lexing, splitting and parsing each item.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedFile {
    /// The items that parsed, with their offsets in the file.
    pub items: Vec<(u32, std::sync::Arc<ast::Item>)>,
    /// Names (and kinds) defined by items that failed to parse.
    pub broken_names: Vec<String>,
    /// Every diagnostic, with spans absolute in the file.
    pub diagnostics: Vec<Diagnostic>,
}

/// Lexes, splits and parses a whole file. Convenience for tools and tests
/// that do not go through the salsa database (which caches per item).
pub fn parse_file(text: &str) -> ParsedFile {
    let split = split_items(text);
    let mut diagnostics = split.diagnostics.clone();
    let mut items = Vec::new();
    let mut broken_names = Vec::new();
    for slice in &split.items {
        let parsed = parse_item(&text[slice.span.range()]);
        diagnostics.extend(
            parsed
                .diagnostics
                .iter()
                .map(|d| d.shifted(slice.span.start)),
        );
        match parsed.item {
            Some(item) => items.push((slice.span.start, item)),
            None => broken_names.extend(parsed.broken_name),
        }
    }
    ParsedFile {
        items,
        broken_names,
        diagnostics,
    }
}
