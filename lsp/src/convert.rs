//! Between the front end's byte offsets and LSP positions, and between
//! workspace paths and URIs.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use pol_syntax::Span;
use tower_lsp_server::ls_types::{Position, Range, Uri};

/// How LSP positions count characters in a line, as negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// UTF-16 code units: the protocol's default.
    Utf16,
    /// Bytes, when the client offers `utf-8`.
    Utf8,
}

/// Line starts of one text, for conversions in both directions.
#[derive(Debug)]
pub(crate) struct LineIndex<'t> {
    text: &'t str,
    starts: Vec<u32>,
    encoding: Encoding,
}

impl<'t> LineIndex<'t> {
    /// Indexes `text`.
    pub(crate) fn new(text: &'t str, encoding: Encoding) -> LineIndex<'t> {
        let starts = std::iter::once(0)
            .chain(
                text.match_indices('\n')
                    .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX)),
            )
            .collect();
        LineIndex {
            text,
            starts,
            encoding,
        }
    }

    /// The position of byte `offset` (clamped into the text).
    pub(crate) fn position(&self, offset: u32) -> Position {
        let offset = (offset as usize).min(self.text.len());
        let line = self
            .starts
            .partition_point(|s| *s as usize <= offset)
            .saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0) as usize;
        let mut end = offset;
        while end > start && !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let prefix = self.text.get(start..end).unwrap_or("");
        let character = match self.encoding {
            Encoding::Utf8 => prefix.len(),
            Encoding::Utf16 => prefix.encode_utf16().count(),
        };
        Position::new(line as u32, character as u32)
    }

    /// The range of a byte span.
    pub(crate) fn range(&self, span: Span) -> Range {
        Range::new(self.position(span.start), self.position(span.end))
    }

    /// The byte offset of a position: past the end of a line means its
    /// end, past the last line means the end of the text, inside a
    /// character means its start.
    pub(crate) fn offset(&self, position: Position) -> u32 {
        let Some(start) = self.starts.get(position.line as usize).copied() else {
            return self.text.len() as u32;
        };
        let start = start as usize;
        let end = self
            .starts
            .get(position.line as usize + 1)
            .map_or(self.text.len(), |s| (*s as usize).saturating_sub(1));
        let line = self.text.get(start..end).unwrap_or("");
        let line = line.strip_suffix('\r').unwrap_or(line);
        let wanted = position.character as usize;
        let mut units = 0;
        for (i, c) in line.char_indices() {
            if units >= wanted {
                return (start + i) as u32;
            }
            units += match self.encoding {
                Encoding::Utf8 => c.len_utf8(),
                Encoding::Utf16 => c.len_utf16(),
            };
            if units > wanted {
                // Inside a character: its start.
                return (start + i) as u32;
            }
        }
        (start + line.len()) as u32
    }
}

/// Applies one LSP content change to `text`.
pub(crate) fn apply_change(
    text: &mut String,
    range: Option<Range>,
    new_text: &str,
    encoding: Encoding,
) {
    match range {
        None => {
            text.clear();
            text.push_str(new_text);
        }
        Some(range) => {
            let index = LineIndex::new(text, encoding);
            let start = index.offset(range.start) as usize;
            let end = (index.offset(range.end) as usize).max(start);
            text.replace_range(start..end, new_text);
        }
    }
}

/// The workspace path of a document: its file path, or the URI itself for
/// documents that are not files (an unsaved buffer).
pub(crate) fn uri_to_path(uri: &Uri) -> String {
    if uri.scheme().as_str() == "file"
        && let Some(path) = uri.to_file_path()
    {
        return path.to_string_lossy().into_owned();
    }
    uri.as_str().to_string()
}

/// The URI of a workspace path (see [`uri_to_path`]); embedded library
/// files (`<std>/...`) map into `std_dir`, where the server writes them.
pub(crate) fn path_to_uri(path: &str, std_dir: Option<&Path>) -> Option<Uri> {
    if let Some(rest) = path.strip_prefix("<std>/") {
        let dir = std_dir?;
        return Uri::from_file_path(dir.join(rest));
    }
    if Path::new(path).is_absolute() {
        return Uri::from_file_path(PathBuf::from(path));
    }
    Uri::from_str(path).ok()
}

/// The embedded-library path (`<std>/...`) of a file under `std_dir`.
pub(crate) fn std_path(path: &str, std_dir: Option<&Path>) -> Option<String> {
    let dir = std_dir?.to_string_lossy().into_owned();
    let rest = path.strip_prefix(&dir)?.trim_start_matches('/');
    Some(format!("<std>/{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_positions_round_trip() {
        let text = "ab\n\u{e9}\u{1F600}x\r\nlast";
        let index = LineIndex::new(text, Encoding::Utf16);
        let x = text.find('x').unwrap() as u32;
        assert_eq!(index.position(x), Position::new(1, 3));
        assert_eq!(index.offset(Position::new(1, 3)), x);
        // Inside the surrogate pair: the character's start.
        assert_eq!(index.offset(Position::new(1, 2)), x - 4);
        // Past the end of a line, and past the last line.
        assert_eq!(index.offset(Position::new(1, 99)), x + 1);
        assert_eq!(index.offset(Position::new(9, 0)), text.len() as u32);
        let index = LineIndex::new(text, Encoding::Utf8);
        assert_eq!(index.position(x), Position::new(1, 6));
    }

    #[test]
    fn changes_apply_in_place() {
        let mut text = "let a = 1\nlet b = 2\n".to_string();
        let range = Range::new(Position::new(1, 4), Position::new(1, 5));
        apply_change(&mut text, Some(range), "bee", Encoding::Utf16);
        assert_eq!(text, "let a = 1\nlet bee = 2\n");
    }
}
