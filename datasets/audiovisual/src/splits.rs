//! Split files and split bookkeeping: reading the reference CSVs, carving a validation split
//! out of train, and the optional per-split cap for smoke runs.
//!
//! CSVs are read like Python's `open(encoding='UTF-8-sig')` + `csv.reader`: a leading UTF-8 BOM
//! is dropped, CRLF and LF both end a row, quoted fields may hold commas, blank lines are
//! skipped. The validation split is stratified: within each class, a seeded shuffle puts
//! `round(fraction * n_class)` samples into validation (at most `n_class - 1`, so every class
//! keeps a training sample). The test split is never touched.

use std::path::Path;

use harness_core::{Error, Result};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// One CSV row: its 1-based line number (for error messages) and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line number in the file.
    pub line: u64,
    /// The fields, unquoted.
    pub fields: Vec<String>,
}

/// Reads every non-empty row of a CSV file without a header row, dropping a UTF-8 BOM.
pub fn read_csv(path: &Path) -> Result<Vec<Row>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(body);
    let mut rows = Vec::new();
    let mut rec = csv::StringRecord::new();
    loop {
        // Where this record starts: the reader's offset, past the line ends of blank lines.
        let mut start = (reader.position().byte() as usize).min(body.len());
        while start < body.len() && matches!(body[start], b'\r' | b'\n') {
            start += 1;
        }
        let more = reader.read_record(&mut rec).map_err(|e| Error::data(path, format!("malformed CSV: {e}")))?;
        if !more {
            break;
        }
        let line = 1 + body[..start].iter().filter(|&&b| b == b'\n').count() as u64;
        let fields: Vec<String> = rec.iter().map(|f| f.trim().to_string()).collect();
        if fields.iter().all(|f| f.is_empty()) {
            continue;
        }
        rows.push(Row { line, fields });
    }
    Ok(rows)
}

/// Splits the indices `0..labels.len()` into (train, validation), stratified by label and
/// seeded; both lists are sorted.
pub fn carve_validation(labels: &[usize], fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let classes = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, &c) in labels.iter().enumerate() {
        by_class[c].push(i);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for mut members in by_class {
        members.shuffle(&mut rng);
        let k = ((fraction * members.len() as f64).round() as usize).min(members.len().saturating_sub(1));
        val.extend_from_slice(&members[..k]);
        train.extend_from_slice(&members[k..]);
    }
    train.sort_unstable();
    val.sort_unstable();
    (train, val)
}

/// At most `max` of `0..n`, chosen by a seeded shuffle and returned in order (all of them when
/// `max` is `None` or at least `n`).
pub fn cap(n: usize, max: Option<usize>, seed: u64) -> Vec<usize> {
    let mut all: Vec<usize> = (0..n).collect();
    if let Some(max) = max.filter(|&m| m < n) {
        all.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        all.truncate(max);
        all.sort_unstable();
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_crlf_and_quotes_are_handled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        std::fs::write(&path, b"\xEF\xBB\xBF1088_IOM_NEU_XX,NEU\r\n\r\nb,\"dog, barking\",3\r\n").unwrap();
        let rows = read_csv(&path).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].fields, vec!["1088_IOM_NEU_XX", "NEU"]);
        assert_eq!(rows[1].fields, vec!["b", "dog, barking", "3"]);
        assert_eq!(rows[1].line, 3);
    }

    #[test]
    fn validation_is_stratified_seeded_and_disjoint() {
        let labels: Vec<usize> = (0..100).map(|i| i % 4).collect();
        let (train, val) = carve_validation(&labels, 0.1, 7);
        assert_eq!(val.len(), 4 * 3, "round(0.1 * 25) rounds half away from zero");
        assert_eq!(train.len() + val.len(), 100);
        assert!(val.iter().all(|v| !train.contains(v)));
        for c in 0..4 {
            assert_eq!(val.iter().filter(|&&i| labels[i] == c).count(), 3);
        }
        assert_eq!(carve_validation(&labels, 0.1, 7), (train.clone(), val.clone()));
        assert_ne!(carve_validation(&labels, 0.1, 8).1, val);
        // A class with a single sample keeps it in train.
        let (t, v) = carve_validation(&[0, 1, 1, 1], 0.5, 0);
        assert!(t.contains(&0) && v.len() == 2);
    }

    #[test]
    fn cap_is_seeded_and_ordered() {
        assert_eq!(cap(5, None, 0), vec![0, 1, 2, 3, 4]);
        assert_eq!(cap(5, Some(10), 0), vec![0, 1, 2, 3, 4]);
        let c = cap(100, Some(10), 3);
        assert_eq!(c.len(), 10);
        assert!(c.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(c, cap(100, Some(10), 3));
    }
}
