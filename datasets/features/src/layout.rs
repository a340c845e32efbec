//! Where a dataset lives on disk, and the error a researcher sees when it is not all there.
//!
//! Every loader resolves its root the same way ([`resolve_root`]) and checks its files in a
//! fixed order before reading anything ([`Layout::check`]), so a missing or incomplete copy
//! fails with one message that gives the expected layout, the first missing file and where the
//! dataset comes from. There is never a fallback to synthetic data.

use std::path::{Path, PathBuf};

use harness_core::data::DatasetContext;
use harness_core::{Error, Result};

/// The on-disk layout of one dataset.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// Registered dataset name, also the default directory name under `--data-root`.
    pub dataset: &'static str,
    /// The expected tree, one path per line, relative to the root (shown in errors).
    pub tree: &'static str,
    /// Where the files come from and how to produce this layout (shown in errors).
    pub source: &'static str,
}

impl Layout {
    /// Checks that every path of `required` (relative to `root`, in order) exists; the first
    /// missing one gives an [`Error::Data`] naming it, the expected layout and the source.
    pub fn check(&self, root: &Path, required: &[&str]) -> Result<()> {
        for rel in required {
            let path = root.join(rel);
            if !path.exists() {
                return Err(self.missing(&path, root));
            }
        }
        Ok(())
    }

    /// The error for a missing `path` under `root`.
    pub fn missing(&self, path: &Path, root: &Path) -> Error {
        Error::data(
            path,
            format!(
                "dataset `{}` is missing or incomplete: this path does not exist.\nExpected layout under {}:\n{}\n\
                 Where it comes from: {}",
                self.dataset,
                root.display(),
                indent(self.tree),
                self.source
            ),
        )
    }
}

/// Indents every line of `text` by four spaces.
fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}

/// The dataset root: the `root` option if given, else `<--data-root>/<dataset>`; an error when
/// neither is set or the directory does not exist.
pub fn resolve_root(ctx: &DatasetContext, root: Option<&Path>, layout: &Layout) -> Result<PathBuf> {
    let root = match (root, &ctx.data_root) {
        (Some(r), _) => r.to_path_buf(),
        (None, Some(data_root)) => data_root.join(layout.dataset),
        (None, None) => {
            return Err(Error::config(
                format!("options of dataset `{}`", layout.dataset),
                format!(
                    "no data location: set `root = \"/path/to/{}\"` or pass --data-root (the dataset is then read \
                     from <data-root>/{}). Expected layout:\n{}\nWhere it comes from: {}",
                    layout.dataset,
                    layout.dataset,
                    indent(layout.tree),
                    layout.source
                ),
            ));
        }
    };
    if !root.is_dir() {
        return Err(layout.missing(&root, &root));
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: Layout = Layout { dataset: "demo", tree: "a.npy\nb/c.npy", source: "the demo release" };

    #[test]
    fn first_missing_file_is_named_with_layout_and_source() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.npy"), b"x").unwrap();
        let err = DEMO.check(dir.path(), &["a.npy", "b/c.npy", "d.npy"]).unwrap_err().to_string();
        assert!(err.contains("b/c.npy") && !err.contains("d.npy"), "{err}");
        assert!(err.contains("    a.npy") && err.contains("the demo release"), "{err}");
    }

    #[test]
    fn root_defaults_to_data_root_slash_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("demo")).unwrap();
        let ctx =
            DatasetContext { options: Default::default(), data_root: Some(dir.path().to_path_buf()), cache_dir: None };
        assert_eq!(resolve_root(&ctx, None, &DEMO).unwrap(), dir.path().join("demo"));
        let none = DatasetContext { data_root: None, ..ctx };
        let err = resolve_root(&none, None, &DEMO).unwrap_err().to_string();
        assert!(err.contains("--data-root"), "{err}");
    }
}
