//! Reading the store's CSV files into polars frames, with errors that name the offending line.
//!
//! Polars reports a parse failure without a line number, so on failure the file is scanned again
//! by hand to find the first record that does not fit the expected columns.

use std::path::Path;

use polars::prelude::*;
use polars_io::SerReader;
use polars_io::csv::read::CsvReadOptions;

use crate::error::ReportError;

/// The type of one CSV column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColType {
    /// Text.
    Str,
    /// A whole number.
    Int,
    /// A floating-point number (empty means missing).
    Float,
}

impl ColType {
    fn dtype(self) -> DataType {
        match self {
            ColType::Str => DataType::String,
            ColType::Int => DataType::Int64,
            ColType::Float => DataType::Float64,
        }
    }
}

/// Reads a CSV file whose header must be exactly `columns`, in that order.
pub(crate) fn read_csv(path: &Path, columns: &[(&str, ColType)]) -> Result<DataFrame, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
    check_header(path, &text, columns)?;
    let schema: Schema = columns.iter().map(|(name, ty)| Field::new((*name).into(), ty.dtype())).collect();
    let read = CsvReadOptions::default()
        .with_has_header(true)
        .with_schema(Some(Arc::new(schema)))
        .with_n_threads(Some(1))
        .into_reader_with_file_handle(std::io::Cursor::new(text.as_bytes()))
        .finish();
    read.map_err(|error| match locate_bad_record(&text, columns) {
        Some((line, message)) => ReportError::Csv { path: path.to_owned(), line, message },
        None => ReportError::Csv { path: path.to_owned(), line: 0, message: error.to_string() },
    })
}

/// An empty frame with the given columns, for a store that has no rows yet.
pub(crate) fn empty_frame(columns: &[(&str, ColType)]) -> DataFrame {
    let schema: Schema = columns.iter().map(|(name, ty)| Field::new((*name).into(), ty.dtype())).collect();
    DataFrame::empty_with_schema(&schema)
}

fn check_header(path: &Path, text: &str, columns: &[(&str, ColType)]) -> Result<(), ReportError> {
    let expected: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let first = text.lines().next().unwrap_or("").trim_start_matches('\u{feff}').trim_end_matches('\r');
    let found = split_record(first);
    if found != expected {
        return Err(ReportError::Csv {
            path: path.to_owned(),
            line: 1,
            message: format!("expected header `{}`, found `{first}`", expected.join(",")),
        });
    }
    Ok(())
}

/// Finds the first data record with the wrong number of fields or an unparsable number.
fn locate_bad_record(text: &str, columns: &[(&str, ColType)]) -> Option<(usize, String)> {
    for (index, line) in text.lines().enumerate().skip(1) {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let fields = split_record(line);
        if fields.len() != columns.len() {
            let message = format!("expected {} fields, found {}: `{line}`", columns.len(), fields.len());
            return Some((index + 1, message));
        }
        for (field, (name, ty)) in fields.iter().zip(columns) {
            let ok = match ty {
                ColType::Str => true,
                ColType::Int => field.is_empty() || field.parse::<i64>().is_ok(),
                ColType::Float => field.is_empty() || field.parse::<f64>().is_ok(),
            };
            if !ok {
                let kind = if *ty == ColType::Int { "an integer" } else { "a number" };
                return Some((index + 1, format!("column `{name}` should be {kind}, found `{field}`")));
            }
        }
    }
    None
}

/// Splits one CSV record, honouring double quotes (`""` inside quotes is a literal quote).
fn split_record(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[(&str, ColType)] = &[("epoch", ColType::Int), ("name", ColType::Str), ("value", ColType::Float)];

    fn write(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn reads_typed_columns() {
        let (_dir, path) = write("epoch,name,value\n0,a,0.5\n1,\"b,c\",\n");
        let frame = read_csv(&path, COLUMNS).unwrap();
        assert_eq!(frame.height(), 2);
        assert_eq!(frame.column("name").unwrap().str().unwrap().get(1), Some("b,c"));
        assert_eq!(frame.column("value").unwrap().f64().unwrap().get(1), None);
    }

    #[test]
    fn bad_number_error_names_file_and_line() {
        let (_dir, path) = write("epoch,name,value\n0,a,0.5\n1,b,0.6\n2,c,oops\n");
        let error = read_csv(&path, COLUMNS).unwrap_err();
        match &error {
            ReportError::Csv { line, message, .. } => {
                assert_eq!(*line, 4);
                assert!(message.contains("value"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(error.to_string().contains("t.csv:4:"), "{error}");
    }

    #[test]
    fn wrong_field_count_error_names_line() {
        let (_dir, path) = write("epoch,name,value\n0,a,0.5,9\n");
        let error = read_csv(&path, COLUMNS).unwrap_err();
        assert!(matches!(error, ReportError::Csv { line: 2, .. }), "{error}");
    }

    #[test]
    fn wrong_header_error_names_line_one() {
        let (_dir, path) = write("epoch,value\n0,0.5\n");
        let error = read_csv(&path, COLUMNS).unwrap_err();
        assert!(matches!(error, ReportError::Csv { line: 1, .. }), "{error}");
    }
}
