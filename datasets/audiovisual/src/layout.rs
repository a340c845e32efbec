//! The on-disk layouts the loaders expect, and the error for a dataset that is missing or
//! incomplete: it names the first missing file, the expected layout, and where the data comes
//! from.

use std::path::Path;

use harness_core::Error;

/// A dataset's expected layout and origin, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Human name, e.g. `CREMA-D`.
    pub dataset: &'static str,
    /// The expected tree under the dataset root, one entry per line.
    pub tree: &'static str,
    /// Where the data and its preprocessing come from.
    pub source: &'static str,
}

/// CREMA-D as G2D / OGM-GE lay it out.
pub const CREMA_D: Layout = Layout {
    dataset: "CREMA-D",
    tree: "  train.csv, test.csv            rows `<clip>,<EMO>` (no header; EMO in NEU HAP SAD FEA DIS ANG)\n  \
           AudioWAV/<clip>.wav             one wav per clip (any rate; resampled to 22,050 Hz)\n  \
           Image-01-FPS/<clip>/<idx:05d>.jpg   1-fps frames of VideoFlash/<clip>.flv",
    source: "the clips from github.com/CheyneyComputerScience/CREMA-D (AudioWAV/, VideoFlash/); train.csv and \
             test.csv, and the frames made by data/CREMAD/video_preprocessing.py, from the G2D or OGM-GE \
             repository (github.com/rAIson-Lab/G2D, github.com/GeWu-Lab/OGM-GE_CVPR2022)",
};

/// VGGSound as G2D / OGM-GE lay it out.
pub const VGGSOUND: Layout = Layout {
    dataset: "VGGSound",
    tree: "  vggsound.csv                    rows `youtube_id,time,label,split` (header optional; split train|test)\n  \
           audio/<split>/<id>_<time:06d>.wav   16 kHz mono wav per clip (mp4_to_wav.py)\n  \
           video/frames/<split>/Image-01-FPS/<id>_<time:06d>/<idx:05d>.jpg   1-fps frames (video_preprocessing.py)",
    source: "the VGGSound project page (www.robots.ox.ac.uk/~vgg/data/vggsound/) for vggsound.csv and the \
             YouTube clips; mp4_to_wav.py and video_preprocessing.py from the G2D repository \
             (github.com/rAIson-Lab/G2D, data/VGGSound/)",
};

impl Layout {
    /// The error for a missing or unusable `path` (the first one found), under `root`.
    pub fn missing(&self, root: &Path, path: &Path, what: &str) -> Error {
        Error::data(
            path,
            format!(
                "{what}. {} is missing or incomplete under {}; expected layout:\n{}\nGet it from {}.",
                self.dataset,
                root.display(),
                self.tree,
                self.source
            ),
        )
    }

    /// Checks that `path` is a file, else [`Layout::missing`].
    pub fn require_file(&self, root: &Path, path: &Path) -> Result<(), Error> {
        if path.is_file() { Ok(()) } else { Err(self.missing(root, path, "file not found")) }
    }

    /// Checks that `path` is a directory, else [`Layout::missing`].
    pub fn require_dir(&self, root: &Path, path: &Path) -> Result<(), Error> {
        if path.is_dir() { Ok(()) } else { Err(self.missing(root, path, "directory not found")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_error_names_file_layout_and_source() {
        let root = Path::new("/nowhere/crema-d");
        let err = CREMA_D.require_file(root, &root.join("train.csv")).unwrap_err().to_string();
        assert!(err.contains("/nowhere/crema-d/train.csv"), "{err}");
        assert!(err.contains("AudioWAV/<clip>.wav") && err.contains("CheyneyComputerScience/CREMA-D"), "{err}");
        assert!(err.contains("video_preprocessing.py"), "{err}");
        let err = VGGSOUND.require_dir(root, root).unwrap_err().to_string();
        assert!(err.contains("vggsound") && err.contains("directory not found"), "{err}");
    }
}
