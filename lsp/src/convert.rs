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

/// Line starts of one text, for conversions in both directions. As the
/// protocol says, `\n`, `\r\n` and a lone `\r` all end a line.
#[derive(Debug)]
pub(crate) struct LineIndex<'t> {
    text: &'t str,
    /// Where each line starts; the first is 0.
    starts: Vec<u32>,
    encoding: Encoding,
}

impl<'t> LineIndex<'t> {
    /// Indexes `text`.
    pub(crate) fn new(text: &'t str, encoding: Encoding) -> LineIndex<'t> {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(i + 1),
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    starts.push(i + 2);
                    i += 1;
                }
                b'\r' => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        LineIndex {
            text,
            starts: starts
                .into_iter()
                .map(|s| u32::try_from(s).unwrap_or(u32::MAX))
                .collect(),
            encoding,
        }
    }

    /// How many lines the text has (a text ending in a line break has an
    /// empty last line).
    pub(crate) fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The byte range of line `line` without its line break.
    fn line_bounds(&self, line: usize) -> Option<(usize, usize)> {
        let start = *self.starts.get(line)? as usize;
        let next = self
            .starts
            .get(line + 1)
            .map_or(self.text.len(), |s| *s as usize);
        let slice = self.text.get(start..next).unwrap_or("");
        let content = slice
            .strip_suffix("\r\n")
            .or_else(|| slice.strip_suffix('\n'))
            .or_else(|| slice.strip_suffix('\r'))
            .unwrap_or(slice);
        Some((start, start + content.len()))
    }

    /// The position of byte `offset` (clamped into the text; an offset
    /// inside a line break is the end of its line).
    pub(crate) fn position(&self, offset: u32) -> Position {
        let offset = (offset as usize).min(self.text.len());
        let line = self
            .starts
            .partition_point(|s| *s as usize <= offset)
            .saturating_sub(1);
        let (start, content_end) = self.line_bounds(line).unwrap_or((0, 0));
        let mut end = offset.min(content_end);
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
        self.checked_offset(position)
            .unwrap_or(self.text.len() as u32)
    }

    /// Like [`LineIndex::offset`], but `None` for a line past the last:
    /// that position is outside the text. (A character past the end of a
    /// line is its end, as the protocol says.)
    pub(crate) fn checked_offset(&self, position: Position) -> Option<u32> {
        let (start, end) = self.line_bounds(position.line as usize)?;
        let line = self.text.get(start..end).unwrap_or("");
        let wanted = position.character as usize;
        let mut units = 0;
        for (i, c) in line.char_indices() {
            if units >= wanted {
                return Some((start + i) as u32);
            }
            units += match self.encoding {
                Encoding::Utf8 => c.len_utf8(),
                Encoding::Utf16 => c.len_utf16(),
            };
            if units > wanted {
                // Inside a character: its start.
                return Some((start + i) as u32);
            }
        }
        Some((start + line.len()) as u32)
    }
}

/// Why a content change could not be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OutOfBounds(pub(crate) String);

impl std::fmt::Display for OutOfBounds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Applies one LSP content change to `text`. A range that starts or ends
/// on a line past the last, or ends before it starts, is refused and
/// `text` is left as it was.
pub(crate) fn apply_change(
    text: &mut String,
    range: Option<Range>,
    new_text: &str,
    encoding: Encoding,
) -> Result<(), OutOfBounds> {
    let Some(range) = range else {
        text.clear();
        text.push_str(new_text);
        return Ok(());
    };
    let index = LineIndex::new(text, encoding);
    let show = |p: Position| format!("{}:{}", p.line, p.character);
    let outside = || {
        OutOfBounds(format!(
            "the range {}-{} is outside the document ({} lines)",
            show(range.start),
            show(range.end),
            index.line_count()
        ))
    };
    let start = index.checked_offset(range.start).ok_or_else(outside)? as usize;
    let end = index.checked_offset(range.end).ok_or_else(outside)? as usize;
    if end < start {
        return Err(OutOfBounds(format!(
            "the range {}-{} ends before it starts",
            show(range.start),
            show(range.end)
        )));
    }
    text.replace_range(start..end, new_text);
    Ok(())
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
        apply_change(&mut text, Some(range), "bee", Encoding::Utf16).expect("applies");
        assert_eq!(text, "let a = 1\nlet bee = 2\n");
    }

    #[test]
    fn every_line_break_ends_a_line() {
        // `\n`, `\r\n` and a lone `\r`, as the protocol says.
        let text = "a\rbc\r\nd\ne\r";
        let index = LineIndex::new(text, Encoding::Utf16);
        assert_eq!(index.line_count(), 5);
        for (offset, line, character) in [(0, 0, 0), (2, 1, 0), (3, 1, 1), (6, 2, 0), (8, 3, 0)] {
            assert_eq!(index.position(offset), Position::new(line, character));
            assert_eq!(index.offset(Position::new(line, character)), offset);
        }
        // Inside `\r\n`: the end of its line. Past a line's end: its end.
        assert_eq!(index.position(5), Position::new(1, 2));
        assert_eq!(index.offset(Position::new(1, 9)), 4);
        assert_eq!(index.offset(Position::new(0, 9)), 1);
        // The empty line after the last break.
        assert_eq!(index.position(text.len() as u32), Position::new(4, 0));
        assert_eq!(index.checked_offset(Position::new(4, 0)), Some(10));
        assert_eq!(index.checked_offset(Position::new(5, 0)), None);
    }

    #[test]
    fn out_of_bounds_changes_are_refused() {
        let mut text = "let a = 1\rlet b = 2".to_string();
        let past = Range::new(Position::new(2, 0), Position::new(2, 1));
        let refused = apply_change(&mut text, Some(past), "x", Encoding::Utf16);
        assert_eq!(
            refused,
            Err(OutOfBounds(
                "the range 2:0-2:1 is outside the document (2 lines)".into()
            ))
        );
        let reversed = Range::new(Position::new(1, 4), Position::new(0, 4));
        assert!(apply_change(&mut text, Some(reversed), "x", Encoding::Utf16).is_err());
        assert_eq!(text, "let a = 1\rlet b = 2", "unchanged");
        // A lone `\r` ends line 0: line 1 is `let b = 2`.
        let b = Range::new(Position::new(1, 4), Position::new(1, 5));
        apply_change(&mut text, Some(b), "bee", Encoding::Utf16).expect("applies");
        assert_eq!(text, "let a = 1\rlet bee = 2");
    }
}
