//! A label table read from a `.csv` file (header row, comma-separated, a UTF-8 BOM tolerated) or
//! an `.xlsx` workbook (first worksheet, first row is the header), as strings; an empty cell is
//! a missing value.

use std::path::{Path, PathBuf};

use harness_core::{Error, Result};

/// A table: column names and rows of cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The file it was read from (named in errors).
    pub path: PathBuf,
    /// Column names from the header row.
    pub header: Vec<String>,
    /// Data rows, each as long as the header (short rows are padded with empty cells).
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Reads `path`, choosing the format by extension (`.xlsx`, else CSV).
    pub fn read(path: &Path) -> Result<Table> {
        let is_xlsx = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
        let (header, mut rows) = if is_xlsx { read_xlsx(path)? } else { read_csv(path)? };
        for row in &mut rows {
            row.resize(header.len(), String::new());
        }
        Ok(Table { path: path.to_path_buf(), header, rows })
    }

    /// Index of the column `name`, or an error listing the columns.
    pub fn column(&self, name: &str) -> Result<usize> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            Error::data(&self.path, format!("no column `{name}`; the header has: {}", self.header.join(", ")))
        })
    }

    /// The numeric value of `row`'s cell in column `col`: `None` when empty or `nan` (pandas'
    /// NaN), an error naming the row and column when it is not a number.
    pub fn number(&self, row: usize, col: usize) -> Result<Option<f64>> {
        let cell = self.rows[row][col].trim();
        if cell.is_empty() || cell.eq_ignore_ascii_case("nan") {
            return Ok(None);
        }
        cell.parse::<f64>().map(Some).map_err(|_| {
            Error::data(
                &self.path,
                format!("data row {}, column `{}`: `{cell}` is not a number", row + 1, self.header[col]),
            )
        })
    }
}

/// Reads a CSV file with a header row.
fn read_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let bad = |e: csv::Error| Error::data(path, format!("malformed CSV: {e}"));
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| Error::data(path, format!("cannot read: {e}")))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(bad)?
        .iter()
        .enumerate()
        .map(|(i, h)| if i == 0 { h.trim_start_matches('\u{feff}') } else { h }.trim().to_string())
        .collect();
    let rows = reader
        .records()
        .map(|r| r.map(|r| r.iter().map(str::to_string).collect()).map_err(bad))
        .collect::<Result<Vec<Vec<String>>>>()?;
    Ok((header, rows))
}

/// Reads the first worksheet of an `.xlsx` workbook.
fn read_xlsx(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    use calamine::{Data, Reader, Xlsx, open_workbook};
    let mut workbook: Xlsx<_> =
        open_workbook(path).map_err(|e| Error::data(path, format!("not a readable .xlsx workbook: {e}")))?;
    let sheet = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| Error::data(path, "the workbook has no worksheet"))?
        .map_err(|e| Error::data(path, format!("cannot read the first worksheet: {e}")))?;
    let cell = |d: &Data| match d {
        Data::Empty => String::new(),
        Data::Float(f) => f.to_string(),
        other => other.to_string(),
    };
    let mut rows = sheet.rows();
    let header =
        rows.next().ok_or_else(|| Error::data(path, "the first worksheet is empty"))?.iter().map(cell).collect();
    Ok((header, rows.map(|r| r.iter().map(cell).collect()).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_bom_and_missing_cells() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, "\u{feff}image,vwc,x\na.jpg,0.25,\nb.jpg,0.5,nan\nc.jpg,x,1\n").unwrap();
        let t = Table::read(&path).unwrap();
        assert_eq!(t.header, vec!["image", "vwc", "x"]);
        assert_eq!(t.number(0, 1).unwrap(), Some(0.25));
        assert_eq!(t.number(0, 2).unwrap(), None);
        assert_eq!(t.number(1, 2).unwrap(), None);
        let err = t.number(2, 1).unwrap_err().to_string();
        assert!(err.contains("t.csv") && err.contains("row 3") && err.contains("vwc"), "{err}");
        assert!(t.column("wind").unwrap_err().to_string().contains("image, vwc, x"));
    }
}
