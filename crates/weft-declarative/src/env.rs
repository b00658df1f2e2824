//! `=Env.NAME` references (MAF's PowerFx form, the only expression Weft evaluates).

use std::path::Path;

use crate::error::Problem;
use crate::spec::Text;

/// Collects problems while a file is checked, each at its place.
pub(crate) struct Checker<'a> {
    pub(crate) file: &'a Path,
    pub(crate) problems: Vec<Problem>,
    /// The file's text, when known (to place problems inside a value).
    pub(crate) source: &'a str,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(file: &'a Path) -> Self {
        Self { file, problems: Vec::new(), source: "" }
    }

    /// A checker that can place problems inside single-line values of `source`.
    #[cfg_attr(not(feature = "workflow"), allow(dead_code))]
    pub(crate) fn with_source(file: &'a Path, source: &'a str) -> Self {
        Self { file, problems: Vec::new(), source }
    }

    /// Records a problem at character `offset` of `text`'s value: the exact column when the
    /// value is written on one line as it is (plain or quoted), else the value's start.
    #[cfg_attr(not(feature = "workflow"), allow(dead_code))]
    pub(crate) fn inside(&mut self, text: &Text, offset: usize, message: impl Into<String>) {
        let (line, column) = (text.referenced.line(), text.referenced.column());
        let written = self
            .source
            .lines()
            .nth((line as usize).saturating_sub(1))
            .and_then(|l| l.chars().skip((column as usize).saturating_sub(1)).collect::<String>().into())
            .unwrap_or_default();
        let shift = if written.starts_with(text.value.as_str()) {
            Some(0)
        } else if (written.starts_with('\'') || written.starts_with('"'))
            && written[1..].starts_with(text.value.as_str())
        {
            Some(1)
        } else {
            None
        };
        let column = match shift {
            Some(shift) if !text.value.contains('\n') => column + (shift + offset) as u64,
            _ => column,
        };
        self.problems.push(Problem { file: self.file.to_path_buf(), line, column, message: message.into() });
    }

    /// Records a problem at `text`'s place.
    pub(crate) fn at(&mut self, text: &Text, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.to_path_buf(),
            line: text.referenced.line(),
            column: text.referenced.column(),
            message: message.into(),
        });
    }

    /// The value of `text`: itself, or the environment variable an `=Env.NAME` names. A missing
    /// variable is a problem naming it (never its value, which may be a secret).
    pub(crate) fn resolve(&mut self, text: &Text) -> Option<String> {
        let value = text.value.trim();
        let Some(expression) = value.strip_prefix('=') else { return Some(text.value.clone()) };
        match expression.trim().strip_prefix("Env.") {
            Some(name) if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                match std::env::var(name) {
                    Ok(value) if !value.is_empty() => Some(value),
                    _ => {
                        self.at(text, format!("the environment variable {name} is not set"));
                        None
                    }
                }
            }
            _ => {
                self.at(
                    text,
                    format!(
                        "unsupported expression `{value}`: Weft evaluates only `=Env.NAME` (an environment variable)"
                    ),
                );
                None
            }
        }
    }

    /// [`resolve`](Self::resolve) for an optional field.
    pub(crate) fn resolve_opt(&mut self, text: Option<&Text>) -> Option<String> {
        text.and_then(|text| self.resolve(text))
    }
}
