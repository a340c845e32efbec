//! A reader and writer for NumPy's `.npz` archives: a zip file holding one `<name>.npy` member
//! per array, stored (`np.savez`) or deflate-compressed (`np.savez_compressed`).

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use harness_core::{Error, Result};
use zip::ZipArchive;
use zip::write::FileOptions;

use crate::npy::NpyArray;

/// An `.npz` archive opened for reading.
#[derive(Debug)]
pub struct Npz {
    path: PathBuf,
    archive: ZipArchive<BufReader<File>>,
}

impl Npz {
    /// Opens `path`. A file that is not a zip archive (or whose central directory was cut off by
    /// a truncated download) fails here, naming the file.
    pub fn open(path: &Path) -> Result<Npz> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let archive = ZipArchive::new(BufReader::new(file))
            .map_err(|e| Error::data(path, format!("not a readable .npz (zip) archive: {e}")))?;
        Ok(Npz { path: path.to_path_buf(), archive })
    }

    /// The archive's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Names of the arrays (member names without the `.npy` suffix), sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.archive.file_names().map(|n| n.strip_suffix(".npy").unwrap_or(n).to_string()).collect();
        names.sort();
        names
    }

    /// Whether the archive holds an array called `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.archive.file_names().any(|n| n == format!("{name}.npy"))
    }

    /// Reads the array `name`. Errors name the archive and the member, and list the arrays the
    /// archive does hold when `name` is missing.
    pub fn read(&mut self, name: &str) -> Result<NpyArray> {
        let member = format!("{name}.npy");
        let label = PathBuf::from(format!("{}:{member}", self.path.display()));
        if !self.contains(name) {
            return Err(Error::data(
                &self.path,
                format!("no array `{name}` in the archive; it holds: {}", self.names().join(", ")),
            ));
        }
        let mut entry = self
            .archive
            .by_name(&member)
            .map_err(|e| Error::data(&label, format!("cannot open the archive member: {e}")))?;
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| Error::data(&label, format!("truncated or corrupt archive member: {e}")))?;
        NpyArray::from_bytes(&bytes, &label)
    }
}

/// Writes `arrays` to `path` as an `.npz` archive, deflate-compressed like `np.savez_compressed`
/// when `compressed`, stored like `np.savez` otherwise.
pub fn write_npz(path: &Path, arrays: &[(&str, &NpyArray)], compressed: bool) -> Result<()> {
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    let mut zip = zip::ZipWriter::new(file);
    let method = if compressed { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
    let options = FileOptions::default().compression_method(method).large_file(false);
    let zip_err = |e: zip::result::ZipError| Error::data(path, format!("cannot write the archive: {e}"));
    for (name, array) in arrays {
        zip.start_file(format!("{name}.npy"), options).map_err(zip_err)?;
        zip.write_all(&array.to_npy_bytes()).map_err(|e| Error::io(path, e))?;
    }
    zip.finish().map_err(zip_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npy::Scale;

    #[test]
    fn compressed_and_stored_archives_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let a = NpyArray::from_f32(vec![2, 2], &[1.0, -2.5, f32::NEG_INFINITY, 0.0]);
        let b = NpyArray::from_i64(vec![2], &[0, 1]);
        for compressed in [true, false] {
            let path = dir.path().join(format!("x{compressed}.npz"));
            write_npz(&path, &[("train_audio", &a), ("train_labels", &b)], compressed).unwrap();
            let mut npz = Npz::open(&path).unwrap();
            assert_eq!(npz.names(), vec!["train_audio", "train_labels"]);
            assert_eq!(npz.read("train_audio").unwrap().to_f32(Scale::Identity)[2], f32::NEG_INFINITY);
            assert_eq!(npz.read("train_labels").unwrap(), b);
            let err = npz.read("valid_audio").unwrap_err().to_string();
            assert!(err.contains("valid_audio") && err.contains("train_labels"), "{err}");
        }
    }
}
