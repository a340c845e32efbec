//! A preprocessing cache for dataset loaders: one file of fixed-size records per preprocessed
//! array (for example one split's spectrograms, or a dataset's resized images).
//!
//! A record file is a small header (magic `HAVREC01`, element type, record shape, record count
//! and the 32-byte key of the preprocessing that produced it) followed by the records, little
//! endian. The key ([`cache_key`]) is a SHA-256 of everything the records depend on (recipe
//! parameters and version, the dataset root and the ordered list of source items); put it in
//! the file name too ([`short_hex`]), so a change of options writes a new file instead of
//! reusing a stale one. Files are written to a temporary name in the same folder and renamed
//! into place once complete, so an interrupted run never leaves a half-written cache behind; a
//! file whose header or size does not match is rebuilt. Records are read back by index with
//! seeks ([`RecordFile::read`]), so the cache of a large dataset never has to fit in memory.
//! Building ([`build_or_open`]) decodes in parallel with rayon (plain `Vec`s, no torch), in
//! chunks so memory stays bounded, and shows an `indicatif` progress bar on a terminal.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

const MAGIC: &[u8; 8] = b"HAVREC01";
/// Items decoded per parallel chunk before they are written out.
const CHUNK: usize = 256;

/// An element type a record file can hold.
pub trait Element: Copy + Default + Send + Sync + 'static {
    /// Tag stored in the header.
    const TAG: u8;
    /// Size in bytes.
    const SIZE: usize;
    /// Appends the little-endian bytes of `values` to `out`.
    fn extend_bytes(values: &[Self], out: &mut Vec<u8>);
    /// Decodes little-endian bytes into `out` (same length / SIZE).
    fn from_bytes(bytes: &[u8], out: &mut [Self]);
}

impl Element for f32 {
    const TAG: u8 = 1;
    const SIZE: usize = 4;
    fn extend_bytes(values: &[Self], out: &mut Vec<u8>) {
        for v in values {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    fn from_bytes(bytes: &[u8], out: &mut [Self]) {
        for (o, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
            *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
    }
}

impl Element for u8 {
    const TAG: u8 = 2;
    const SIZE: usize = 1;
    fn extend_bytes(values: &[Self], out: &mut Vec<u8>) {
        out.extend_from_slice(values);
    }
    fn from_bytes(bytes: &[u8], out: &mut [Self]) {
        out.copy_from_slice(bytes);
    }
}

/// SHA-256 over length-prefixed parts: the cache key of a preprocessing run.
pub fn cache_key<S: AsRef<[u8]>>(parts: impl IntoIterator<Item = S>) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        let p = p.as_ref();
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

/// Lower-case hex of the first 8 bytes of a key, for file names.
pub fn short_hex(key: &[u8; 32]) -> String {
    key[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// What a record file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSpec {
    /// Shape of one record.
    pub shape: Vec<usize>,
    /// Number of records.
    pub count: usize,
    /// Key of the preprocessing that produced the records.
    pub key: [u8; 32],
}

impl RecordSpec {
    fn record_len(&self) -> usize {
        self.shape.iter().product()
    }

    fn header<E: Element>(&self) -> Vec<u8> {
        let mut h = Vec::new();
        h.extend_from_slice(MAGIC);
        h.push(E::TAG);
        h.extend_from_slice(&[0; 7]);
        h.extend_from_slice(&(self.shape.len() as u64).to_le_bytes());
        for d in &self.shape {
            h.extend_from_slice(&(*d as u64).to_le_bytes());
        }
        h.extend_from_slice(&(self.count as u64).to_le_bytes());
        h.extend_from_slice(&self.key);
        h
    }
}

/// A complete record file on disk, read by record index.
#[derive(Debug, Clone)]
pub struct RecordFile<E: Element> {
    path: PathBuf,
    spec: RecordSpec,
    offset: u64,
    _element: std::marker::PhantomData<E>,
}

impl<E: Element> RecordFile<E> {
    /// Opens `path` if it exists and its header and size match `spec`; `None` otherwise.
    pub fn open_valid(path: &Path, spec: &RecordSpec) -> Option<Self> {
        let mut f = File::open(path).ok()?;
        let expected = spec.header::<E>();
        let mut got = vec![0u8; expected.len()];
        f.read_exact(&mut got).ok()?;
        let size = f.metadata().ok()?.len();
        let want = expected.len() as u64 + (spec.count * spec.record_len() * E::SIZE) as u64;
        (got == expected && size == want).then(|| RecordFile {
            path: path.to_path_buf(),
            spec: spec.clone(),
            offset: expected.len() as u64,
            _element: std::marker::PhantomData,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of elements in one record.
    pub fn record_len(&self) -> usize {
        self.spec.record_len()
    }

    /// Reads the records `indices`, concatenated in that order.
    pub fn read(&self, indices: &[usize]) -> Result<Vec<E>> {
        let n = self.record_len();
        let mut out = vec![E::default(); n * indices.len()];
        let mut f = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        let mut bytes = vec![0u8; n * E::SIZE];
        for (k, &i) in indices.iter().enumerate() {
            if i >= self.spec.count {
                return Err(Error::data(&self.path, format!("record {i} out of range ({} records)", self.spec.count)));
            }
            f.seek(SeekFrom::Start(self.offset + (i * n * E::SIZE) as u64))
                .and_then(|_| f.read_exact(&mut bytes))
                .map_err(|e| Error::io(&self.path, e))?;
            E::from_bytes(&bytes, &mut out[k * n..(k + 1) * n]);
        }
        Ok(out)
    }
}

/// Returns the record file at `path` for `spec`, building it first if it is missing or stale:
/// `make(item)` produces the record of each item (in parallel), and the file is written under a
/// temporary name and renamed into place.
pub fn build_or_open<E, T, F>(
    path: &Path,
    spec: &RecordSpec,
    items: &[T],
    label: &str,
    make: F,
) -> Result<RecordFile<E>>
where
    E: Element,
    T: Sync,
    F: Fn(&T) -> Result<Vec<E>> + Sync,
{
    if let Some(file) = RecordFile::open_valid(path, spec) {
        return Ok(file);
    }
    assert_eq!(items.len(), spec.count, "one item per record");
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let tmp = path.with_extension(format!("tmp-{}-{nanos}", std::process::id()));
    let result = write_records(&tmp, spec, items, label, &make);
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    RecordFile::open_valid(path, spec).ok_or_else(|| Error::data(path, "cache file does not match after writing it"))
}

fn write_records<E, T, F>(tmp: &Path, spec: &RecordSpec, items: &[T], label: &str, make: &F) -> Result<()>
where
    E: Element,
    T: Sync,
    F: Fn(&T) -> Result<Vec<E>> + Sync,
{
    let file = File::create(tmp).map_err(|e| Error::io(tmp, e))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    w.write_all(&spec.header::<E>()).map_err(|e| Error::io(tmp, e))?;
    let bar = ProgressBar::with_draw_target(Some(items.len() as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})") {
        bar.set_style(style);
    }
    bar.set_message(label.to_string());
    let n = spec.record_len();
    let mut bytes = Vec::new();
    for chunk in items.chunks(CHUNK) {
        let records: Vec<Vec<E>> = chunk.par_iter().map(make).collect::<Result<_>>()?;
        bytes.clear();
        for r in &records {
            if r.len() != n {
                return Err(Error::data(tmp, format!("{label}: record of {} values, expected {n}", r.len())));
            }
            E::extend_bytes(r, &mut bytes);
        }
        w.write_all(&bytes).map_err(|e| Error::io(tmp, e))?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    let file = w.into_inner().map_err(|e| Error::io(tmp, e.into_error()))?;
    file.sync_all().map_err(|e| Error::io(tmp, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_are_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.rec");
        let spec = RecordSpec { shape: vec![2, 3], count: 4, key: cache_key(["x"]) };
        let items: Vec<usize> = (0..4).collect();
        let make = |i: &usize| Ok((0..6).map(|k| (*i * 10 + k) as f32).collect());
        let f: RecordFile<f32> = build_or_open(&path, &spec, &items, "test", make).unwrap();
        assert_eq!(f.read(&[2, 0]).unwrap()[..7], [20., 21., 22., 23., 24., 25., 0.]);
        // A second build with the same spec reads the file instead of calling `make`.
        let f2: RecordFile<f32> =
            build_or_open(&path, &spec, &items, "test", |_: &usize| -> Result<Vec<f32>> { panic!("rebuilt") }).unwrap();
        assert_eq!(f2.read(&[3]).unwrap()[5], 35.0);
        // A different key, a truncated file or another element type is not reused.
        let other = RecordSpec { key: cache_key(["y"]), ..spec.clone() };
        assert!(RecordFile::<f32>::open_valid(&path, &other).is_none());
        assert!(RecordFile::<u8>::open_valid(&path, &spec).is_none());
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(RecordFile::<f32>::open_valid(&path, &spec).is_none());
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failing_item_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.rec");
        let spec = RecordSpec { shape: vec![1], count: 2, key: cache_key(["z"]) };
        let err = build_or_open::<u8, usize, _>(&path, &spec, &[0, 1], "t", |i| {
            if *i == 1 { Err(Error::data("bad.wav", "corrupt")) } else { Ok(vec![1]) }
        })
        .unwrap_err();
        assert!(err.to_string().contains("bad.wav"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
