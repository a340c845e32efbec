//! `harness convert`: the one-time conversion of the reference pickles (UR-FUNNY's `humor.pkl`,
//! IEMOCAP's `iemocap_data.pkl`) into the `.npz` archives the loaders read.
//!
//! The pickles hold NumPy arrays whose dtype a Rust unpickler cannot recover reliably (spec
//! `datasets.md` §1.7), so the conversion runs `scripts/pickle_to_npz.py` (NumPy only) once.
//! The script is compiled into the crate and written to a temporary file, so this works from
//! any working directory. The interpreter is `$HARNESS_PYTHON` if set, else `python3`.

use std::path::Path;
use std::process::Command;

use harness_core::{Error, Result};

/// The conversion script, embedded at compile time.
pub const SCRIPT: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pickle_to_npz.py"));

/// The kinds of pickle the script converts.
pub const KINDS: [&str; 2] = ["ur-funny", "iemocap"];

/// The Python interpreter used: `$HARNESS_PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("HARNESS_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Converts the pickle `input` of `kind` (`ur-funny` or `iemocap`) into the `.npz` `output`.
/// Errors name the input and carry the script's message (for example a missing NumPy).
pub fn convert_pickle(kind: &str, input: &Path, output: &Path) -> Result<()> {
    if !KINDS.contains(&kind) {
        return Err(Error::unknown("pickle kind", kind, KINDS));
    }
    if !input.is_file() {
        return Err(Error::data(input, "the pickle to convert does not exist"));
    }
    let script = std::env::temp_dir().join(format!(
        "harness_pickle_to_npz_{}_{}.py",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
    ));
    std::fs::write(&script, SCRIPT).map_err(|e| Error::io(&script, e))?;
    let python = python();
    let result = Command::new(&python).arg(&script).arg(kind).arg(input).arg(output).output();
    let _ = std::fs::remove_file(&script);
    let out = result.map_err(|e| Error::data(input, format!("cannot run `{python}` to convert the pickle: {e}")))?;
    if !out.status.success() {
        return Err(Error::data(
            input,
            format!(
                "`{python} pickle_to_npz.py {kind}` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    Ok(())
}
