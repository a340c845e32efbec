//! Builds the paper's table shapes from the aggregates: Table 1/2 (`main`), Table 3
//! (`regression`), Tables 4/6/7/12 (`ablation`) and the paired comparison with the reference.

use crate::aggregate::{Aggregates, MetricKey};
use crate::layout::{Layout, Variant};
use crate::metric::{MetricInfo, primary_metric};
use crate::stats::paired_t_test;
use crate::tables::{Cell, ColumnKind, Row, StatCell, Table, TableColumn, rank_marks};

const MARKS_NOTE: &str = "Bold: best; underlined: second best. † fewer seeds than planned; — no completed cell.";

/// Table 1/2: rows dataset × head, columns method variants; test accuracy, best per row.
pub fn main_table(suite: &str, layout: &Layout, aggregates: &Aggregates) -> Option<Table> {
    let info = MetricInfo::of("accuracy");
    let mut rows = Vec::new();
    for dataset in datasets_with(layout, "accuracy") {
        for head in layout.heads_of(dataset) {
            let keys = layout.variants.iter().map(|v| key(dataset, v, head, "accuracy")).collect();
            let planned = layout.variants.iter().map(|v| layout.planned(dataset, v)).collect();
            let cells = ranked_cells(aggregates, keys, planned, info);
            rows.push(Row { labels: vec![dataset.clone(), head.clone()], cells });
        }
    }
    (!rows.is_empty()).then(|| Table {
        id: "main".into(),
        title: format!("{suite}: test accuracy (%) per head, mean ± std over seeds"),
        label_headers: vec!["Dataset".into(), "Head".into()],
        columns: stat_columns(layout.variants.iter().map(Variant::label)),
        rows,
        notes: vec![
            "Epoch selected on validation. Best and second best are ranked within each row.".into(),
            MARKS_NOTE.into(),
        ],
    })
}

/// Table 3: rows dataset × regression metric (MAPE, R2, RMSE), columns method variants; fused head.
pub fn regression_table(suite: &str, layout: &Layout, aggregates: &Aggregates) -> Option<Table> {
    let mut rows = Vec::new();
    for dataset in &layout.datasets {
        let metrics = layout.metrics.get(dataset);
        for metric in ["mape", "r2", "rmse"] {
            if !metrics.is_some_and(|m| m.contains(metric)) {
                continue;
            }
            let info = MetricInfo::of(metric);
            let keys = layout.variants.iter().map(|v| key(dataset, v, "fused", metric)).collect();
            let planned = layout.variants.iter().map(|v| layout.planned(dataset, v)).collect();
            let cells = ranked_cells(aggregates, keys, planned, info);
            rows.push(Row { labels: vec![dataset.clone(), info.label.to_owned()], cells });
        }
    }
    (!rows.is_empty()).then(|| Table {
        id: "regression".into(),
        title: format!("{suite}: regression metrics of the fused head, mean ± std over seeds"),
        label_headers: vec!["Dataset".into(), "Metric".into()],
        columns: stat_columns(layout.variants.iter().map(Variant::label)),
        rows,
        notes: vec![
            "Test split, epoch selected on validation. Lower is better for MAPE and RMSE, higher for R2.".into(),
            MARKS_NOTE.into(),
        ],
    })
}

/// Tables 4/6/7/12: rows method × variant, columns datasets; fused test accuracy (MAPE for
/// regression datasets), best per column.
pub fn ablation_table(suite: &str, layout: &Layout, aggregates: &Aggregates) -> Option<Table> {
    let datasets: Vec<(&String, &str)> =
        layout.datasets.iter().filter_map(|d| layout.metrics.get(d).and_then(primary_metric).map(|m| (d, m))).collect();
    if datasets.is_empty() || layout.variants.is_empty() {
        return None;
    }
    // Rank within each column, then transpose into rows.
    let columns: Vec<Vec<Cell>> = datasets
        .iter()
        .map(|(dataset, metric)| {
            let keys = layout.variants.iter().map(|v| key(dataset, v, "fused", metric)).collect();
            let planned = layout.variants.iter().map(|v| layout.planned(dataset, v)).collect();
            ranked_cells(aggregates, keys, planned, MetricInfo::of(metric))
        })
        .collect();
    let rows = layout
        .variants
        .iter()
        .enumerate()
        .map(|(i, v)| Row {
            labels: vec![v.method.clone(), v.variant.clone()],
            cells: columns.iter().map(|c| c[i].clone()).collect(),
        })
        .collect();
    let mut notes = vec!["Fused head, test split. Best and second best are ranked within each column.".into()];
    for (dataset, metric) in &datasets {
        if *metric != "accuracy" {
            notes.push(format!("{dataset}: {} (fused head).", MetricInfo::of(metric).label));
        }
    }
    notes.push(MARKS_NOTE.into());
    let mut metrics: Vec<&str> = Vec::new();
    for (_, metric) in &datasets {
        let label = MetricInfo::of(metric).label;
        if !metrics.contains(&label) {
            metrics.push(label);
        }
    }
    Some(Table {
        id: "ablation".into(),
        title: format!("{suite}: ablation, fused test {} per variant", metrics.join(" / ")),
        label_headers: vec!["Method".into(), "Variant".into()],
        columns: stat_columns(datasets.iter().map(|(d, _)| (*d).clone())),
        rows,
        notes,
    })
}

/// Paired comparison of every variant with the reference on the seeds both completed: mean
/// difference of the fused test metric (accuracy or MAPE) and a two-sided paired t-test.
pub fn comparison_table(suite: &str, layout: &Layout, aggregates: &Aggregates, reference: &Variant) -> Option<Table> {
    let mut rows = Vec::new();
    for dataset in &layout.datasets {
        let Some(metric) = layout.metrics.get(dataset).and_then(primary_metric) else { continue };
        let info = MetricInfo::of(metric);
        let Some(reference_seeds) = aggregates.per_seed.get(&key(dataset, reference, "fused", metric)) else {
            continue;
        };
        for variant in layout.variants.iter().filter(|v| *v != reference) {
            let seeds = aggregates.per_seed.get(&key(dataset, variant, "fused", metric));
            let pairs: Vec<(f64, f64)> = seeds
                .into_iter()
                .flatten()
                .filter_map(|(seed, value)| reference_seeds.get(seed).map(|r| (*value, *r)))
                .collect();
            let (a, b): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
            let test = paired_t_test(&a, &b);
            let cells = if test.n == 0 {
                vec![Cell::Number("0".into()), Cell::Missing, Cell::Missing, Cell::Missing]
            } else {
                vec![
                    Cell::Number(test.n.to_string()),
                    Cell::Number(format!("{:+.*}", info.decimals, test.mean_diff * info.scale)),
                    test.t.map_or(Cell::Missing, |t| Cell::Number(format_t(t))),
                    test.p.map_or(Cell::Missing, |p| Cell::Number(format_p(p))),
                ]
            };
            rows.push(Row { labels: vec![dataset.clone(), variant.label()], cells });
        }
    }
    let number = |name: &str| TableColumn { name: name.into(), kind: ColumnKind::Number };
    (!rows.is_empty()).then(|| Table {
        id: "comparison".into(),
        title: format!("{suite}: paired comparison with {} over seeds", reference.label()),
        label_headers: vec!["Dataset".into(), "Method".into()],
        columns: vec![number("Seeds"), number("Mean diff."), number("t"), number("p (two-sided)")],
        rows,
        notes: vec![
            format!(
                "Difference = method − {} on the fused test metric (accuracy in points, MAPE in percent), \
                 over the seeds both completed; paired Student t-test.",
                reference.label()
            ),
            "— fewer than two paired seeds.".into(),
        ],
    })
}

fn datasets_with<'a>(layout: &'a Layout, metric: &str) -> impl Iterator<Item = &'a String> {
    layout.datasets.iter().filter(move |d| layout.metrics.get(*d).is_some_and(|m| m.contains(metric)))
}

fn key(dataset: &str, variant: &Variant, head: &str, metric: &str) -> MetricKey {
    MetricKey::new(dataset, &variant.method, &variant.variant, "test", head, metric)
}

fn stat_columns(names: impl Iterator<Item = String>) -> Vec<TableColumn> {
    names.map(|name| TableColumn { name, kind: ColumnKind::Stat }).collect()
}

/// Formats the cells of one ranking group (a row or a column) and marks best and second best.
fn ranked_cells(aggregates: &Aggregates, keys: Vec<MetricKey>, planned: Vec<usize>, info: MetricInfo) -> Vec<Cell> {
    let stats: Vec<_> = keys.iter().map(|k| aggregates.stats.get(k).filter(|s| s.mean.is_finite())).collect();
    let rounded: Vec<Option<f64>> = stats.iter().map(|s| s.map(|s| info.rounded(s.mean))).collect();
    let marks = rank_marks(&rounded, info.higher_is_better);
    stats
        .iter()
        .zip(marks)
        .zip(planned)
        .map(|((stats, mark), planned)| match stats {
            None => Cell::Missing,
            Some(s) => Cell::Stat(StatCell {
                mean: info.format(s.mean),
                std: s.std.map(|std| info.format(std)),
                n: s.n,
                partial: s.n < planned,
                mark,
            }),
        })
        .collect()
}

fn format_t(t: f64) -> String {
    if t.is_infinite() { if t > 0.0 { "inf".into() } else { "-inf".into() } } else { format!("{t:.2}") }
}

fn format_p(p: f64) -> String {
    if p < 0.001 { "<0.001".into() } else { format!("{p:.3}") }
}
