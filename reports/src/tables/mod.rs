//! Tables in the paper's shapes: a format-neutral model ([`Table`]) built from the aggregates
//! ([`build`]), rendered to Markdown, LaTeX, CSV and HTML with the same printed numbers.

pub mod build;
pub mod csv;
pub mod html;
pub mod latex;
pub mod markdown;

/// A table ready to render: every number is already formatted, so all formats agree.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// File stem and anchor: `main`, `regression`, `ablation`, `comparison`.
    pub id: String,
    /// Caption.
    pub title: String,
    /// Headers of the label columns on the left (for example `Dataset`, `Head`).
    pub label_headers: Vec<String>,
    /// The value columns.
    pub columns: Vec<TableColumn>,
    /// The rows, grouped by their first label.
    pub rows: Vec<Row>,
    /// Lines printed under the table (legend of marks, metric, reference).
    pub notes: Vec<String>,
}

/// A value column.
#[derive(Debug, Clone, PartialEq)]
pub struct TableColumn {
    /// Header text.
    pub name: String,
    /// What the cells of this column hold.
    pub kind: ColumnKind,
}

/// What the cells of a column hold; decides the CSV columns (a statistic spans mean, std, n).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Mean ± std over seeds.
    Stat,
    /// One plain number.
    Number,
}

/// One table row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// One label per label header.
    pub labels: Vec<String>,
    /// One cell per column.
    pub cells: Vec<Cell>,
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No completed run: printed as an em dash (`—`), empty in CSV.
    Missing,
    /// Mean ± std over seeds.
    Stat(StatCell),
    /// A formatted number.
    Number(String),
}

/// A formatted mean ± std with its rank mark.
#[derive(Debug, Clone, PartialEq)]
pub struct StatCell {
    /// Formatted mean.
    pub mean: String,
    /// Formatted sample std; `None` for a single seed.
    pub std: Option<String>,
    /// Seeds aggregated.
    pub n: usize,
    /// Fewer seeds than `suite.json` planned (printed with a dagger).
    pub partial: bool,
    /// Best / second best within its row or column.
    pub mark: Mark,
}

/// Rank mark of a cell: best in bold, second best underlined (the paper's convention).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Not marked.
    None,
    /// Best value: bold.
    Best,
    /// Second best value: underlined.
    Second,
}

/// The text printed for a missing cell in Markdown and HTML.
pub const MISSING: &str = "—";

/// Marks the best and second-best values (ties share the mark); needs at least two values.
pub fn rank_marks(values: &[Option<f64>], higher_is_better: bool) -> Vec<Mark> {
    let mut distinct: Vec<f64> = values.iter().flatten().copied().filter(|v| v.is_finite()).collect();
    if distinct.len() < 2 {
        return vec![Mark::None; values.len()];
    }
    distinct.sort_by(|a, b| if higher_is_better { b.total_cmp(a) } else { a.total_cmp(b) });
    distinct.dedup();
    values
        .iter()
        .map(|v| match v {
            Some(v) if *v == distinct[0] => Mark::Best,
            Some(v) if distinct.len() > 1 && *v == distinct[1] => Mark::Second,
            _ => Mark::None,
        })
        .collect()
}

impl Table {
    /// Labels to print per row: a label equal to the one above (with equal labels to its left)
    /// is left blank, as in the paper's grouped rows.
    pub fn display_labels(&self) -> Vec<Vec<String>> {
        let mut previous: Option<&Vec<String>> = None;
        let mut out = Vec::with_capacity(self.rows.len());
        for row in &self.rows {
            let mut same_prefix = true;
            let labels = row
                .labels
                .iter()
                .enumerate()
                .map(|(i, label)| {
                    let repeated =
                        i + 1 < row.labels.len() && same_prefix && previous.is_some_and(|p| p.get(i) == Some(label));
                    same_prefix &= repeated;
                    if repeated { String::new() } else { label.clone() }
                })
                .collect();
            out.push(labels);
            previous = Some(&row.labels);
        }
        out
    }

    /// Whether row `index` starts a new group (its first label differs from the row above).
    pub fn starts_group(&self, index: usize) -> bool {
        index > 0 && self.rows[index].labels.first() != self.rows[index - 1].labels.first()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_and_second_follow_metric_direction() {
        let values = [Some(80.0), Some(82.0), None, Some(81.0)];
        assert_eq!(rank_marks(&values, true), vec![Mark::None, Mark::Best, Mark::None, Mark::Second]);
        assert_eq!(rank_marks(&values, false), vec![Mark::Best, Mark::None, Mark::None, Mark::Second]);
    }

    #[test]
    fn ties_share_the_mark_and_single_values_are_unmarked() {
        assert_eq!(rank_marks(&[Some(1.0), Some(1.0), Some(0.5)], true), vec![Mark::Best, Mark::Best, Mark::Second]);
        assert_eq!(rank_marks(&[Some(1.0), None], true), vec![Mark::None, Mark::None]);
    }
}
