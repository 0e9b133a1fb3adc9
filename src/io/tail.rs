//! The most recent bytes of a stream, so that an error can show the offending line.
//!
//! Importers stream: a 100 MB file is never held in memory.  But a syntax error should
//! print the line it is on, and by the time the parser reports it, that line has been
//! read.  [`TailReader`] passes bytes through and keeps the last [`WINDOW`]–2×[`WINDOW`]
//! of them; the parser's error offset almost always falls inside.

use std::cell::RefCell;
use std::io::{self, Read};
use std::rc::Rc;

/// How much recent input is kept at least.
pub(crate) const WINDOW: usize = 1 << 18;

#[derive(Debug, Default)]
struct Window {
    /// Stream offset of `bytes[0]`.
    start: u64,
    /// Line breaks before `bytes[0]`.
    lines_before: u64,
    bytes: Vec<u8>,
}

/// A reader that remembers its recent input; [`TailReader::handle`] gives access to it
/// after the reader has been moved into a parser.
pub(crate) struct TailReader<R> {
    inner: R,
    window: Rc<RefCell<Window>>,
}

/// Looks up lines in a [`TailReader`]'s window.
#[derive(Clone)]
pub(crate) struct TailHandle {
    window: Rc<RefCell<Window>>,
}

impl<R: Read> TailReader<R> {
    pub(crate) fn new(inner: R) -> TailReader<R> {
        TailReader {
            inner,
            window: Rc::default(),
        }
    }

    pub(crate) fn handle(&self) -> TailHandle {
        TailHandle {
            window: Rc::clone(&self.window),
        }
    }
}

impl<R: Read> Read for TailReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut w = self.window.borrow_mut();
        w.bytes.extend_from_slice(&buf[..n]);
        if w.bytes.len() > 2 * WINDOW {
            let cut = w.bytes.len() - WINDOW;
            w.lines_before += memchr::memchr_iter(b'\n', &w.bytes[..cut]).count() as u64;
            w.bytes.drain(..cut);
            w.start += cut as u64;
        }
        Ok(n)
    }
}

impl TailHandle {
    /// Where `needle` last occurs in the recent input: its 1-based line and column and the
    /// line's text (for an error about a value the parser returned without a place).  When
    /// it is not there, the line being read and no text.
    pub(crate) fn locate_last(&self, needle: &str) -> (usize, usize, String) {
        let w = self.window.borrow();
        let at = (!needle.is_empty())
            .then(|| memchr::memmem::rfind(&w.bytes, needle.as_bytes()))
            .flatten();
        let Some(at) = at else {
            let line = w.lines_before + memchr::memchr_iter(b'\n', &w.bytes).count() as u64;
            return (line as usize + 1, 1, String::new());
        };
        let line = w.lines_before + memchr::memchr_iter(b'\n', &w.bytes[..at]).count() as u64;
        let start = w.bytes[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&w.bytes[start..at]).chars().count() + 1;
        drop(w);
        (
            line as usize + 1,
            column,
            self.line_at(self.start_of_window() + at as u64),
        )
    }

    fn start_of_window(&self) -> u64 {
        self.window.borrow().start
    }

    /// The text of the line containing byte `offset`, without its line break; empty if
    /// that part of the input is no longer (or not yet) in the window.
    pub(crate) fn line_at(&self, offset: u64) -> String {
        let w = self.window.borrow();
        let Some(pos) = offset.checked_sub(w.start).map(|p| p as usize) else {
            return String::new();
        };
        let pos = pos.min(w.bytes.len());
        let start = w.bytes[..pos]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let end = w.bytes[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(w.bytes.len(), |i| pos + i);
        String::from_utf8_lossy(&w.bytes[start..end])
            .trim_end_matches('\r')
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lines_in_recent_input() {
        let text = "first line\nsecond line\r\nthird";
        let mut r = TailReader::new(text.as_bytes());
        let h = r.handle();
        let mut sink = Vec::new();
        r.read_to_end(&mut sink).unwrap();
        assert_eq!(h.line_at(0), "first line");
        assert_eq!(h.line_at(15), "second line");
        assert_eq!(h.line_at(text.len() as u64), "third");
    }

    #[test]
    fn locates_the_last_occurrence() {
        let text = "a \"1\" .\nb \"NaN\" .\nc \"2\" .\n";
        let mut r = TailReader::new(text.as_bytes());
        let h = r.handle();
        r.read_to_end(&mut Vec::new()).unwrap();
        assert_eq!(h.locate_last("NaN"), (2, 4, "b \"NaN\" .".to_string()));
        assert_eq!(h.locate_last("INF"), (4, 1, String::new()));
    }

    #[test]
    fn forgets_old_input() {
        let mut text = "old\n".repeat(WINDOW);
        text.push_str("new line");
        let mut r = TailReader::new(text.as_bytes());
        let h = r.handle();
        let mut buf = [0u8; 4096];
        while r.read(&mut buf).unwrap() > 0 {}
        assert_eq!(h.line_at(0), "");
        assert_eq!(h.line_at(text.len() as u64 - 1), "new line");
    }
}
