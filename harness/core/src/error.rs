//! The error type shared by the API crate and every plugin.

use std::path::PathBuf;

/// Everything that can go wrong while configuring, loading data or training.
///
/// Each variant says what was expected and where, so a researcher can fix the input without
/// reading the code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A name that is not registered, with the names that are.
    #[error("unknown {kind} `{name}`; valid {kind}s: {valid}")]
    Unknown {
        /// What kind of thing was looked up (method, dataset, encoder, fusion, key, ...).
        kind: &'static str,
        /// The name that was asked for.
        name: String,
        /// The valid names, comma-separated.
        valid: String,
    },
    /// An option or config value that does not parse or is out of range.
    #[error("invalid {context}: {message}")]
    Config {
        /// Where the value came from, for example `options of method \`g2d\``.
        context: String,
        /// What was wrong and what was expected.
        message: String,
    },
    /// A combination of method, dataset, fusion and encoders that cannot work, and why.
    #[error("incompatible configuration: {0}")]
    Incompatible(String),
    /// A data file that is missing, truncated or malformed.
    #[error("data error in {path}: {message}")]
    Data {
        /// The offending file or directory.
        path: PathBuf,
        /// What was expected there.
        message: String,
    },
    /// An I/O failure on a named path.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The path being read or written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A libtorch failure (shape mismatch, out of memory, ...).
    #[error("torch error: {0}")]
    Torch(#[from] tch::TchError),
    /// Training diverged (a NaN or infinite loss).
    #[error("training diverged: {0}")]
    Diverged(String),
}

/// Result alias used across the harness.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Builds an [`Error::Unknown`] from a name and the valid choices.
    pub fn unknown<S: AsRef<str>>(kind: &'static str, name: &str, valid: impl IntoIterator<Item = S>) -> Self {
        let mut valid: Vec<String> = valid.into_iter().map(|s| s.as_ref().to_string()).collect();
        valid.sort();
        Error::Unknown { kind, name: name.to_string(), valid: valid.join(", ") }
    }

    /// Builds an [`Error::Config`].
    pub fn config(context: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config { context: context.into(), message: message.into() }
    }

    /// Builds an [`Error::Io`] that names the path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// Builds an [`Error::Data`] that names the file.
    pub fn data(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Data { path: path.into(), message: message.into() }
    }
}
