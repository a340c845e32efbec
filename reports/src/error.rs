//! The one error type of the crate: every variant names the file (and, for parse errors, the line)
//! that failed, so a broken results store can be fixed by hand.

use std::path::PathBuf;

/// Why a report could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A JSON file (suite.json, result.json, config.json) is malformed.
    #[error("{path}:{line}:{column}: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error (0 when unknown).
        line: usize,
        /// 1-based column of the error (0 when unknown).
        column: usize,
        /// What serde_json reported.
        message: String,
    },
    /// A CSV file of the store (results.csv, epochs.csv, traces.csv) is malformed.
    #[error("{path}:{line}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line of the offending record (0 when it could not be located).
        line: usize,
        /// What was expected and what was found.
        message: String,
    },
    /// A dataframe operation failed (a bug in this crate rather than in the store).
    #[error("aggregating {context}: {source}")]
    Polars {
        /// What was being computed.
        context: String,
        /// The polars error.
        source: polars::error::PolarsError,
    },
    /// A figure could not be drawn or written.
    #[error("drawing {path}: {message}")]
    Figure {
        /// The figure file.
        path: PathBuf,
        /// What plotters reported.
        message: String,
    },
}

impl ReportError {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }

    /// Wraps a polars error with what was being computed.
    pub(crate) fn polars(context: impl Into<String>, source: polars::error::PolarsError) -> Self {
        Self::Polars { context: context.into(), source }
    }

    /// Wraps a serde_json error with the file it came from.
    pub(crate) fn json(path: impl Into<PathBuf>, error: &serde_json::Error) -> Self {
        // serde_json appends " at line L column C"; the variant carries those separately.
        let mut message = error.to_string();
        if let Some(at) = message.rfind(" at line ") {
            message.truncate(at);
        }
        Self::Json { path: path.into(), line: error.line(), column: error.column(), message }
    }
}
