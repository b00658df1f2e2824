//! The last lines a stdio server wrote on stderr, kept for the error that says why it could not
//! be reached, and summed up so that the line that matters survives: Node prints
//! `Error: Cannot find module …` above a stack trace and a version banner, so the last few lines
//! alone are frames and braces.

use std::collections::VecDeque;

/// How many of the child's last stderr lines are kept.
const KEPT_LINES: usize = 64;
/// How many lines the summary shows (plus the first error line, when it is older).
const SHOWN_LINES: usize = 6;
/// The longest line kept, in characters.
const LINE_CHARS: usize = 300;

/// The last lines of a child's stderr.
#[derive(Debug, Default)]
pub(crate) struct StderrTail {
    lines: VecDeque<String>,
}

impl StderrTail {
    /// Keeps `line` (cut to [`LINE_CHARS`]), forgetting the oldest beyond [`KEPT_LINES`].
    pub(crate) fn push(&mut self, line: &str) {
        if self.lines.len() == KEPT_LINES {
            self.lines.pop_front();
        }
        let line = match line.char_indices().nth(LINE_CHARS) {
            Some((cut, _)) => format!("{}…", &line[..cut]),
            None => line.to_string(),
        };
        self.lines.push_back(line);
    }

    /// One line for an error message: the last lines that say something (no blank lines,
    /// stack frames, caret markers or lone braces), joined with ` | `, preceded by the first
    /// line that looks like an error when it is older than those. Empty when nothing was
    /// written.
    pub(crate) fn summary(&self) -> String {
        let telling: Vec<&str> =
            self.lines.iter().map(|line| line.trim()).filter(|line| !is_noise(line)).collect();
        let start = telling.len().saturating_sub(SHOWN_LINES);
        let mut shown: Vec<&str> = Vec::new();
        if let Some(first_error) = telling.iter().position(|line| looks_like_error(line)) {
            if first_error < start {
                shown.push(telling[first_error]);
                shown.push("…");
            }
        }
        shown.extend(&telling[start..]);
        shown.join(" | ")
    }
}

/// A line that tells nothing on its own: blank, a stack frame (`at f (file:1:2)`, Python's
/// `File "x.py", line 3`), a caret marker under source code, a lone brace.
fn is_noise(line: &str) -> bool {
    line.is_empty()
        || line.starts_with("at ")
        || line.starts_with("File \"")
        || line.chars().all(|c| matches!(c, '^' | '~' | ' '))
        || matches!(line, "{" | "}" | "}," | "[" | "]")
}

/// `Error: …`, `TypeError: …`, `ModuleNotFoundError: …`, `error: …`, `thread 'main' panicked`,
/// `Exception …`, `fatal: …`.
fn looks_like_error(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    let head = lower.split(':').next().unwrap_or("");
    (line.contains(':') && (head.ends_with("error") || head.ends_with("exception") || head == "fatal"))
        || lower.contains("panicked at")
        || lower.starts_with("traceback")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tail(text: &str) -> StderrTail {
        let mut tail = StderrTail::default();
        text.lines().for_each(|line| tail.push(line));
        tail
    }

    #[test]
    fn node_keeps_its_cannot_find_module_line() {
        let node = "node:internal/modules/cjs/loader:1228\n  throw err;\n  ^\n\nError: Cannot find module '/srv/x.js'\n    at Module._resolveFilename (node:internal/modules/cjs/loader:1225:15)\n    at Module._load (node:internal/modules/cjs/loader:1051:27)\n    at node:internal/main/run_main_module:28:49 {\n  code: 'MODULE_NOT_FOUND',\n  requireStack: []\n}\n\nNode.js v20.11.1\n";
        let summary = tail(node).summary();
        assert!(summary.contains("Error: Cannot find module '/srv/x.js'"), "{summary}");
        assert!(summary.ends_with("Node.js v20.11.1"), "{summary}");
        assert!(!summary.contains(" at Module"), "{summary}");
    }

    #[test]
    fn an_older_error_line_is_put_first() {
        let mut text = String::from("TypeError: x is not a function\n");
        for i in 0..20 {
            text.push_str(&format!("detail {i}\n"));
        }
        let summary = tail(&text).summary();
        assert!(summary.starts_with("TypeError: x is not a function | … | detail 14"), "{summary}");
        assert!(summary.ends_with("detail 19"), "{summary}");
    }

    #[test]
    fn python_tracebacks_end_with_their_error() {
        let python = "Traceback (most recent call last):\n  File \"server.py\", line 1, in <module>\n    import nope\nModuleNotFoundError: No module named 'nope'\n";
        assert_eq!(
            tail(python).summary(),
            "Traceback (most recent call last): | import nope | ModuleNotFoundError: No module named 'nope'"
        );
        assert_eq!(StderrTail::default().summary(), "");
    }

    #[test]
    fn long_lines_and_long_outputs_are_bounded() {
        let mut tail = StderrTail::default();
        for _ in 0..1000 {
            tail.push(&"x".repeat(10_000));
        }
        assert_eq!(tail.lines.len(), KEPT_LINES);
        assert!(tail.summary().chars().count() < (LINE_CHARS + 4) * SHOWN_LINES + 20);
    }
}
