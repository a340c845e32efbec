//! A small reader and writer for NumPy's `.npy` format (versions 1, 2 and 3).
//!
//! Layout of a file: the magic `\x93NUMPY`, a major and minor version byte, the header length
//! (u16 little-endian for version 1, u32 for versions 2 and 3), then an ASCII (UTF-8 for
//! version 3) Python dict literal such as `{'descr': '<f4', 'fortran_order': False, 'shape':
//! (60000, 784), }` padded with spaces to a multiple of 64 bytes and ended by a newline, then
//! the raw little-endian data in C order.
//!
//! Supported dtypes are the ones the reference datasets use: `<f4`, `<f8`, `|u1`, `<i8`, `<i4`
//! (plus `|b1` booleans, read as 0/1). Fortran-ordered arrays, big-endian data and object arrays
//! are refused with an error naming the file. Every error names the file (for an array inside an
//! `.npz`, the archive and the member).
//!
//! [`NpyFile`] reads selected rows straight from disk in blocks, so a 3 GB spectrogram array is
//! converted to `f32` without first holding its raw bytes in memory; [`NpyArray`] holds a whole
//! (small) array in memory, which is what the `.npz` reader returns.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use harness_core::{Error, Result};
use rayon::prelude::*;

/// The `.npy` magic string.
const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Rows read per block by [`NpyFile::read_rows_f32`]: large enough to amortise the reads, small
/// enough that the raw bytes of one block stay well under a gigabyte.
const BLOCK_BYTES: usize = 64 << 20;

/// Element type of an array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    /// `<f4`, little-endian `f32`.
    F32,
    /// `<f8`, little-endian `f64`.
    F64,
    /// `|u1`, `u8`.
    U8,
    /// `|b1`, booleans stored as one byte.
    Bool,
    /// `<i4`, little-endian `i32`.
    I32,
    /// `<i8`, little-endian `i64`.
    I64,
}

impl DType {
    /// Parses a NumPy `descr` string. `=` and `<` both mean little-endian here (NumPy writes `<`
    /// on little-endian machines); single-byte types may use `|`.
    fn parse(descr: &str) -> Option<DType> {
        let (order, code) = descr.split_at(descr.len().min(1));
        match (order, code) {
            ("<" | "=", "f4") => Some(DType::F32),
            ("<" | "=", "f8") => Some(DType::F64),
            ("|" | "<" | "=", "u1") => Some(DType::U8),
            ("|" | "<" | "=", "b1") => Some(DType::Bool),
            ("<" | "=", "i4") => Some(DType::I32),
            ("<" | "=", "i8") => Some(DType::I64),
            _ => None,
        }
    }

    /// The canonical `descr` string NumPy writes for this type.
    pub fn descr(self) -> &'static str {
        match self {
            DType::F32 => "<f4",
            DType::F64 => "<f8",
            DType::U8 => "|u1",
            DType::Bool => "|b1",
            DType::I32 => "<i4",
            DType::I64 => "<i8",
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::U8 | DType::Bool => 1,
            DType::F32 | DType::I32 => 4,
            DType::F64 | DType::I64 => 8,
        }
    }

    /// Whether this is a floating-point type.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }
}

/// How raw values become `f32`.
///
/// `Div255` reproduces NumPy's `x / 255.0` followed by `.float()` bit for bit: a `float32` array
/// is divided in `f32`, every other dtype in `f64` and then rounded to `f32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// The value itself, rounded to `f32`.
    Identity,
    /// The value divided by 255 (pixel and spectrogram intensities in `0..=255`).
    Div255,
}

/// The parsed header of an `.npy` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    /// Element type.
    pub dtype: DType,
    /// Array shape; empty for a scalar.
    pub shape: Vec<usize>,
    /// Byte offset of the data from the start of the file.
    pub data_offset: usize,
}

impl NpyHeader {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the array has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of rows (the first dimension; 1 for a scalar).
    pub fn rows(&self) -> usize {
        self.shape.first().copied().unwrap_or(1)
    }

    /// Elements per row (the product of every dimension but the first).
    pub fn row_len(&self) -> usize {
        self.shape.iter().skip(1).product()
    }

    /// Bytes of data the header promises.
    pub fn data_bytes(&self) -> usize {
        self.len() * self.dtype.size()
    }
}

/// Parses the header at the start of `bytes`. `path` names the file (or `archive.npz:member`)
/// in errors.
pub fn parse_header(bytes: &[u8], path: &Path) -> Result<NpyHeader> {
    let bad = |msg: String| Error::data(path, format!("not a valid .npy file: {msg}"));
    if bytes.len() < 10 {
        return Err(bad(format!("truncated: {} bytes, shorter than the 10-byte preamble", bytes.len())));
    }
    if &bytes[..6] != MAGIC {
        return Err(bad("missing the \\x93NUMPY magic at the start".into()));
    }
    let major = bytes[6];
    let (header_len, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(bad("truncated inside the version 2/3 preamble".into()));
            }
            (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
        }
        v => return Err(bad(format!("unsupported format version {v}.{} (expected 1, 2 or 3)", bytes[7]))),
    };
    let end = start + header_len;
    if bytes.len() < end {
        return Err(bad(format!("truncated header: {} of {end} header bytes present", bytes.len())));
    }
    let text = std::str::from_utf8(&bytes[start..end]).map_err(|_| bad("header is not UTF-8".into()))?;
    let dict = parse_dict(text).map_err(|m| bad(format!("malformed header {:?}: {m}", text.trim_end())))?;
    let descr = dict.descr.ok_or_else(|| bad("header has no 'descr'".into()))?;
    let dtype = DType::parse(&descr).ok_or_else(|| {
        bad(format!("unsupported dtype '{descr}' (supported: <f4, <f8, |u1, |b1, <i4, <i8, little-endian only)"))
    })?;
    if dict.fortran_order.ok_or_else(|| bad("header has no 'fortran_order'".into()))? {
        return Err(bad(
            "fortran_order is True; re-save the array in C order (np.save(path, np.ascontiguousarray(a)))".into(),
        ));
    }
    let shape = dict.shape.ok_or_else(|| bad("header has no 'shape'".into()))?;
    Ok(NpyHeader { dtype, shape, data_offset: end })
}

/// The three keys of an `.npy` header dict.
#[derive(Default)]
struct HeaderDict {
    descr: Option<String>,
    fortran_order: Option<bool>,
    shape: Option<Vec<usize>>,
}

/// Parses the Python dict literal of a header: string keys mapping to a string, a boolean or a
/// tuple of integers.
fn parse_dict(text: &str) -> std::result::Result<HeaderDict, String> {
    let mut p = Cursor { s: text.as_bytes(), i: 0 };
    let mut dict = HeaderDict::default();
    p.expect(b'{')?;
    loop {
        p.skip_ws();
        if p.eat(b'}') {
            break;
        }
        let key = p.string()?;
        p.expect(b':')?;
        p.skip_ws();
        match key.as_str() {
            "descr" => dict.descr = Some(p.string()?),
            "fortran_order" => dict.fortran_order = Some(p.boolean()?),
            "shape" => dict.shape = Some(p.tuple()?),
            other => return Err(format!("unexpected key '{other}'")),
        }
        p.skip_ws();
        if !p.eat(b',') {
            p.expect(b'}')?;
            break;
        }
    }
    Ok(dict)
}

/// A byte cursor over a header dict.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> std::result::Result<(), String> {
        if self.eat(c) { Ok(()) } else { Err(format!("expected '{}' at byte {}", c as char, self.i)) }
    }

    fn string(&mut self) -> std::result::Result<String, String> {
        self.skip_ws();
        let quote = match self.s.get(self.i) {
            Some(&q @ (b'\'' | b'"')) => q,
            _ => return Err(format!("expected a quoted string at byte {}", self.i)),
        };
        let start = self.i + 1;
        let len = self.s[start..].iter().position(|&c| c == quote).ok_or("unterminated string")?;
        self.i = start + len + 1;
        Ok(String::from_utf8_lossy(&self.s[start..start + len]).into_owned())
    }

    fn boolean(&mut self) -> std::result::Result<bool, String> {
        let rest = &self.s[self.i..];
        if rest.starts_with(b"True") {
            self.i += 4;
            Ok(true)
        } else if rest.starts_with(b"False") {
            self.i += 5;
            Ok(false)
        } else {
            Err(format!("expected True or False at byte {}", self.i))
        }
    }

    fn tuple(&mut self) -> std::result::Result<Vec<usize>, String> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        loop {
            if self.eat(b')') {
                return Ok(dims);
            }
            self.skip_ws();
            let start = self.i;
            while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                self.i += 1;
            }
            // NumPy writes Python ints, possibly with an `L` suffix in files from Python 2.
            let digits = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default();
            dims.push(digits.parse().map_err(|_| format!("expected a dimension at byte {start}"))?);
            if self.s.get(self.i) == Some(&b'L') {
                self.i += 1;
            }
            if !self.eat(b',') {
                self.expect(b')')?;
                return Ok(dims);
            }
        }
    }
}

/// Converts little-endian raw elements of `dtype` to `f32` under `scale`, in parallel.
fn convert_f32(raw: &[u8], dtype: DType, scale: Scale, out: &mut [f32]) {
    let size = dtype.size();
    debug_assert_eq!(raw.len(), out.len() * size);
    const CHUNK: usize = 1 << 14;
    out.par_chunks_mut(CHUNK).zip(raw.par_chunks(CHUNK * size)).for_each(|(o, r)| {
        for (v, b) in o.iter_mut().zip(r.chunks_exact(size)) {
            *v = element_f32(b, dtype, scale);
        }
    });
}

/// One element as `f32` (see [`Scale`] for the exact rounding).
fn element_f32(b: &[u8], dtype: DType, scale: Scale) -> f32 {
    match (dtype, scale) {
        (DType::F32, Scale::Identity) => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        (DType::F32, Scale::Div255) => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) / 255.0,
        (_, Scale::Identity) => element_f64(b, dtype) as f32,
        (_, Scale::Div255) => (element_f64(b, dtype) / 255.0) as f32,
    }
}

/// One element as `f64`.
fn element_f64(b: &[u8], dtype: DType) -> f64 {
    match dtype {
        DType::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
        DType::F64 => f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        DType::U8 | DType::Bool => b[0] as f64,
        DType::I32 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
        DType::I64 => i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f64,
    }
}

/// An `.npy` file opened for reading rows on demand.
#[derive(Debug)]
pub struct NpyFile {
    path: PathBuf,
    file: File,
    header: NpyHeader,
}

impl NpyFile {
    /// Opens `path`, parses its header and checks that the file holds all the data the header
    /// promises (a truncated download fails here, naming the file).
    pub fn open(path: &Path) -> Result<NpyFile> {
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len() as usize;
        let mut head = vec![0u8; file_len.min(1 << 16)];
        file.read_exact(&mut head).map_err(|e| Error::io(path, e))?;
        let header = parse_header(&head, path)?;
        let needed = header.data_offset + header.data_bytes();
        if file_len < needed {
            return Err(Error::data(
                path,
                format!(
                    "truncated .npy file: the header promises shape {:?} of {} ({needed} bytes in all) but the \
                     file has {file_len} bytes",
                    header.shape,
                    header.dtype.descr()
                ),
            ));
        }
        Ok(NpyFile { path: path.to_path_buf(), file, header })
    }

    /// The parsed header.
    pub fn header(&self) -> &NpyHeader {
        &self.header
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the rows `rows` (in that order) as `f32`, `row_len` values each, converted under
    /// `scale`. Runs of consecutive rows are read with one read per block; the conversion is
    /// parallel.
    pub fn read_rows_f32(&mut self, rows: &[usize], scale: Scale) -> Result<Vec<f32>> {
        let row_len = self.header.row_len();
        let row_bytes = row_len * self.header.dtype.size();
        let n_rows = self.header.rows();
        if let Some(&bad) = rows.iter().find(|&&r| r >= n_rows) {
            return Err(Error::data(&self.path, format!("row {bad} requested but the array has {n_rows} rows")));
        }
        let mut out = vec![0f32; rows.len() * row_len];
        let block_rows = (BLOCK_BYTES / row_bytes.max(1)).max(1);
        let mut raw = Vec::new();
        for (block, out_block) in rows.chunks(block_rows).zip(out.chunks_mut(block_rows * row_len.max(1))) {
            raw.clear();
            raw.resize(block.len() * row_bytes, 0);
            let mut k = 0;
            while k < block.len() {
                // Extend a run of consecutive rows and read it in one go.
                let mut run = 1;
                while k + run < block.len() && block[k + run] == block[k] + run {
                    run += 1;
                }
                let offset = self.header.data_offset + block[k] * row_bytes;
                self.file.seek(SeekFrom::Start(offset as u64)).map_err(|e| Error::io(&self.path, e))?;
                self.file
                    .read_exact(&mut raw[k * row_bytes..(k + run) * row_bytes])
                    .map_err(|e| Error::data(&self.path, format!("truncated .npy data: {e}")))?;
                k += run;
            }
            convert_f32(&raw, self.header.dtype, scale, out_block);
        }
        Ok(out)
    }

    /// Reads the whole array into memory.
    pub fn read_all(&mut self) -> Result<NpyArray> {
        let mut data = vec![0u8; self.header.data_bytes()];
        self.file.seek(SeekFrom::Start(self.header.data_offset as u64)).map_err(|e| Error::io(&self.path, e))?;
        self.file.read_exact(&mut data).map_err(|e| Error::data(&self.path, format!("truncated .npy data: {e}")))?;
        Ok(NpyArray { dtype: self.header.dtype, shape: self.header.shape.clone(), data })
    }
}

/// A whole array in memory: dtype, shape and raw little-endian bytes in C order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// Element type.
    pub dtype: DType,
    /// Shape; empty for a scalar.
    pub shape: Vec<usize>,
    /// Raw little-endian bytes, `len() * dtype.size()` of them.
    pub data: Vec<u8>,
}

impl NpyArray {
    /// Parses a complete `.npy` image (for example an `.npz` member). `path` names it in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<NpyArray> {
        let header = parse_header(bytes, path)?;
        let data = &bytes[header.data_offset..];
        if data.len() < header.data_bytes() {
            return Err(Error::data(
                path,
                format!(
                    "truncated .npy data: shape {:?} of {} needs {} bytes, found {}",
                    header.shape,
                    header.dtype.descr(),
                    header.data_bytes(),
                    data.len()
                ),
            ));
        }
        Ok(NpyArray { dtype: header.dtype, shape: header.shape.clone(), data: data[..header.data_bytes()].to_vec() })
    }

    /// Builds an `f32` array.
    pub fn from_f32(shape: Vec<usize>, values: &[f32]) -> NpyArray {
        assert_eq!(shape.iter().product::<usize>(), values.len(), "shape does not match the values");
        NpyArray { dtype: DType::F32, shape, data: values.iter().flat_map(|v| v.to_le_bytes()).collect() }
    }

    /// Builds an `f64` array.
    pub fn from_f64(shape: Vec<usize>, values: &[f64]) -> NpyArray {
        assert_eq!(shape.iter().product::<usize>(), values.len(), "shape does not match the values");
        NpyArray { dtype: DType::F64, shape, data: values.iter().flat_map(|v| v.to_le_bytes()).collect() }
    }

    /// Builds a `u8` array.
    pub fn from_u8(shape: Vec<usize>, values: &[u8]) -> NpyArray {
        assert_eq!(shape.iter().product::<usize>(), values.len(), "shape does not match the values");
        NpyArray { dtype: DType::U8, shape, data: values.to_vec() }
    }

    /// Builds an `i64` array.
    pub fn from_i64(shape: Vec<usize>, values: &[i64]) -> NpyArray {
        assert_eq!(shape.iter().product::<usize>(), values.len(), "shape does not match the values");
        NpyArray { dtype: DType::I64, shape, data: values.iter().flat_map(|v| v.to_le_bytes()).collect() }
    }

    /// Builds an `i32` array.
    pub fn from_i32(shape: Vec<usize>, values: &[i32]) -> NpyArray {
        assert_eq!(shape.iter().product::<usize>(), values.len(), "shape does not match the values");
        NpyArray { dtype: DType::I32, shape, data: values.iter().flat_map(|v| v.to_le_bytes()).collect() }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the array has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every element as `f32` under `scale`.
    pub fn to_f32(&self, scale: Scale) -> Vec<f32> {
        let mut out = vec![0f32; self.len()];
        convert_f32(&self.data, self.dtype, scale, &mut out);
        out
    }

    /// Every element as `f64`.
    pub fn to_f64(&self) -> Vec<f64> {
        self.data.chunks_exact(self.dtype.size()).map(|b| element_f64(b, self.dtype)).collect()
    }

    /// The complete `.npy` image (format version 1.0, header padded to 64 bytes, as NumPy
    /// writes it).
    pub fn to_npy_bytes(&self) -> Vec<u8> {
        let shape = match self.shape.len() {
            0 => "()".to_string(),
            1 => format!("({},)", self.shape[0]),
            _ => format!("({})", self.shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
        };
        let mut header = format!("{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}", self.dtype.descr());
        // magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
        let total = 10 + header.len() + 1;
        header.push_str(&" ".repeat(total.next_multiple_of(64) - total));
        header.push('\n');
        let mut out = Vec::with_capacity(10 + header.len() + self.data.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&self.data);
        out
    }

    /// Writes the array to `path` as an `.npy` file.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut f = File::create(path).map_err(|e| Error::io(path, e))?;
        f.write_all(&self.to_npy_bytes()).map_err(|e| Error::io(path, e))
    }
}

/// Reads a whole `.npy` file into memory.
pub fn read_npy(path: &Path) -> Result<NpyArray> {
    NpyFile::open(path)?.read_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_through_the_writer() {
        let a = NpyArray::from_f32(vec![2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let bytes = a.to_npy_bytes();
        let h = parse_header(&bytes, Path::new("x.npy")).unwrap();
        assert_eq!(h.data_offset % 64, 0);
        assert_eq!(h.shape, vec![2, 3]);
        assert_eq!(NpyArray::from_bytes(&bytes, Path::new("x.npy")).unwrap(), a);
    }

    #[test]
    fn parses_numpy_style_headers_in_any_key_order() {
        let d = parse_dict("{'shape': (10,), 'fortran_order': False, 'descr': '|u1'}").unwrap();
        assert_eq!(d.shape, Some(vec![10]));
        assert_eq!(d.descr.as_deref(), Some("|u1"));
        let d = parse_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (), }").unwrap();
        assert_eq!(d.shape, Some(vec![]));
        let d = parse_dict("{'descr': '<i8', 'fortran_order': False, 'shape': (3L, 4L), }").unwrap();
        assert_eq!(d.shape, Some(vec![3, 4]));
    }

    #[test]
    fn version_2_header_is_read() {
        let a = NpyArray::from_i64(vec![3], &[7, -1, 2]);
        let v1 = a.to_npy_bytes();
        let len = u16::from_le_bytes([v1[8], v1[9]]) as u32;
        let mut v2 = MAGIC.to_vec();
        v2.extend_from_slice(&[2, 0]);
        v2.extend_from_slice(&len.to_le_bytes());
        v2.extend_from_slice(&v1[10..]);
        let b = NpyArray::from_bytes(&v2, Path::new("v2.npy")).unwrap();
        assert_eq!(b.to_f64(), vec![7.0, -1.0, 2.0]);
    }

    #[test]
    fn div255_matches_numpy_rounding_per_dtype() {
        let f64s = NpyArray::from_f64(vec![2], &[255.0, 7.0]);
        assert_eq!(f64s.to_f32(Scale::Div255), vec![1.0, (7.0f64 / 255.0) as f32]);
        let f32s = NpyArray::from_f32(vec![1], &[7.0]);
        assert_eq!(f32s.to_f32(Scale::Div255), vec![7.0f32 / 255.0]);
        let u8s = NpyArray::from_u8(vec![2], &[0, 128]);
        assert_eq!(u8s.to_f32(Scale::Div255), vec![0.0, (128.0f64 / 255.0) as f32]);
    }

    #[test]
    fn unsupported_dtype_and_fortran_order_are_named() {
        let mut a = NpyArray::from_f32(vec![1], &[1.0]).to_npy_bytes();
        let pos = a.windows(3).position(|w| w == b"<f4").unwrap();
        a[pos] = b'>';
        let err = NpyArray::from_bytes(&a, Path::new("big.npy")).unwrap_err().to_string();
        assert!(err.contains("big.npy") && err.contains(">f4"), "{err}");
        let mut b = NpyArray::from_f32(vec![1], &[1.0]).to_npy_bytes();
        let pos = b.windows(5).position(|w| w == b"False").unwrap();
        b[pos..pos + 5].copy_from_slice(b"True ");
        let err = NpyArray::from_bytes(&b, Path::new("f.npy")).unwrap_err().to_string();
        assert!(err.contains("fortran_order"), "{err}");
    }

    #[test]
    fn truncated_data_is_reported() {
        let a = NpyArray::from_f32(vec![4], &[1.0, 2.0, 3.0, 4.0]).to_npy_bytes();
        let err = NpyArray::from_bytes(&a[..a.len() - 3], Path::new("t.npy")).unwrap_err().to_string();
        assert!(err.contains("t.npy") && err.contains("truncated"), "{err}");
        let err = NpyArray::from_bytes(&a[..20], Path::new("t.npy")).unwrap_err().to_string();
        assert!(err.contains("truncated header"), "{err}");
    }
}
