//! Decides which figures a suite gets from the data it has: a figure whose data is absent (joint
//! training has no teacher traces) is left out or shows only the series that exist.

use std::collections::BTreeMap;

use super::{BarFigure, FigureKind, FigureSpec, LegendEntry, LineFigure, Panel, Series};
use crate::aggregate::{Aggregates, Curve, MetricKey, TraceKey};
use crate::layout::{Layout, Variant};
use crate::metric::{MetricInfo, primary_metric};

/// Everything the figures are drawn from.
pub struct FigureData<'a> {
    /// Suite name, for titles.
    pub suite: &'a str,
    /// Row and column order.
    pub layout: &'a Layout,
    /// Final metrics over seeds.
    pub aggregates: &'a Aggregates,
    /// Mean per-epoch metrics.
    pub epochs: &'a BTreeMap<MetricKey, Curve>,
    /// Mean per-epoch traces.
    pub traces: &'a BTreeMap<TraceKey, Curve>,
}

/// A figure drawn from one trace name of docs/results-store.md.
struct TraceFigure {
    name: &'static str,
    title: &'static str,
    caption: &'static str,
    y_label: &'static str,
    y_range: Option<(f64, f64)>,
}

/// The trace figures of the paper.
const TRACE_FIGURES: [TraceFigure; 4] = [
    TraceFigure {
        name: "teacher-confidence",
        title: "teacher confidence (Fig. 3)",
        caption: "mean teacher probability of the true class per modality (G2D Eq. 5, paper Fig. 3)",
        y_label: "teacher confidence",
        y_range: None,
    },
    TraceFigure {
        name: "smp-priority",
        title: "SMP timeline",
        caption: "fraction of batches in which each modality was prioritized by SMP (1 for all in the joint window)",
        y_label: "fraction prioritized",
        y_range: Some((-0.05, 1.05)),
    },
    TraceFigure {
        name: "confidence-ratio",
        title: "confidence ratio (Fig. 6)",
        caption: "student head confidence divided by teacher confidence per modality (paper Fig. 6); \
                  methods without a teacher record no ratio",
        y_label: "student / teacher confidence",
        y_range: None,
    },
    TraceFigure {
        name: "feature-cosine",
        title: "feature alignment (Fig. 5)",
        caption: "mean cosine similarity of student and teacher features per modality (paper Fig. 5)",
        y_label: "cosine similarity",
        y_range: None,
    },
];

/// Every figure of the suite, dataset by dataset.
pub fn plan(data: &FigureData) -> Vec<FigureSpec> {
    let mut figures = Vec::new();
    for dataset in &data.layout.datasets {
        figures.extend(curves(data, dataset));
        for trace in &TRACE_FIGURES {
            figures.extend(trace_figure(data, dataset, trace));
        }
        figures.extend(bars(data, dataset));
    }
    figures
}

/// A file-name-safe version of a label.
pub fn slug(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect()
}

/// Validation curves per head plus train/val loss of the fused head, one line per method variant.
fn curves(data: &FigureData, dataset: &str) -> Option<FigureSpec> {
    let metric = data.layout.metrics.get(dataset).and_then(primary_metric).unwrap_or("accuracy");
    let info = MetricInfo::of(metric);
    let variants = &data.layout.variants;
    let panel = |title: String, split: &str, head: &str, metric: &str, y_label: &str, scale: f64| Panel {
        title,
        x_label: "epoch".into(),
        y_label: y_label.into(),
        y_range: None,
        steps: false,
        series: variants
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let key = MetricKey::new(dataset, &v.method, &v.variant, split, head, metric);
                data.epochs.get(&key).map(|c| Series { legend: i, points: scaled(c, scale) })
            })
            .collect(),
    };
    let mut panels: Vec<Panel> = data
        .layout
        .heads_of(dataset)
        .iter()
        .map(|head| panel(format!("val {}, {head} head", info.short), "val", head, metric, info.label, info.scale))
        .collect();
    panels.push(panel("train loss, fused".into(), "train", "fused", "loss", "loss", 1.0));
    panels.push(panel("val loss, fused".into(), "val", "fused", "loss", "loss", 1.0));
    panels.retain(|p| !p.series.is_empty());
    // Legend only the variants drawn, but keep each variant's colour (its suite position).
    let drawn: Vec<usize> =
        (0..variants.len()).filter(|i| panels.iter().any(|p| p.series.iter().any(|s| s.legend == *i))).collect();
    for series in panels.iter_mut().flat_map(|p| p.series.iter_mut()) {
        series.legend = drawn.iter().position(|i| *i == series.legend).expect("drawn series are legended");
    }
    let legend = drawn.iter().map(|&i| LegendEntry { label: variants[i].label(), color: i }).collect();
    (!panels.is_empty()).then(|| FigureSpec {
        stem: format!("curves-{}", slug(dataset)),
        caption: format!("{dataset}: training and validation curves per head, mean over seeds."),
        kind: FigureKind::Line(LineFigure {
            title: format!("{} · {dataset}: training and validation curves", data.suite),
            panels,
            legend,
        }),
    })
}

/// One trace over epochs: a line per method variant and key (modality) that recorded it.
fn trace_figure(data: &FigureData, dataset: &str, trace: &TraceFigure) -> Option<FigureSpec> {
    let name = trace.name;
    let found: Vec<(&TraceKey, &Curve)> = data
        .layout
        .variants
        .iter()
        .flat_map(|v| {
            data.traces.iter().filter(move |(k, _)| {
                k.dataset == dataset && k.name == name && k.method == v.method && k.variant == v.variant
            })
        })
        .collect();
    if found.is_empty() {
        return None;
    }
    let several_methods =
        found.iter().any(|(k, _)| (&k.method, &k.variant) != (&found[0].0.method, &found[0].0.variant));
    let mut legend = Vec::new();
    let mut series = Vec::new();
    for (key, curve) in found {
        let variant = Variant { method: key.method.clone(), variant: key.variant.clone() };
        let label = if several_methods { format!("{} · {}", variant.label(), key.key) } else { key.key.clone() };
        legend.push(LegendEntry { label, color: legend.len() });
        series.push(Series { legend: legend.len() - 1, points: scaled(curve, 1.0) });
    }
    let only = (!several_methods).then(|| format!(" ({})", legend_owner(data, dataset, name)));
    Some(FigureSpec {
        stem: format!("{name}-{}", slug(dataset)),
        caption: format!("{dataset}{}: {}; mean over seeds.", only.unwrap_or_default(), trace.caption),
        kind: FigureKind::Line(LineFigure {
            title: format!("{} · {dataset}: {}", data.suite, trace.title),
            panels: vec![Panel {
                title: String::new(),
                x_label: "epoch".into(),
                y_label: trace.y_label.into(),
                y_range: trace.y_range,
                steps: name == "smp-priority",
                series,
            }],
            legend,
        }),
    })
}

/// The one method variant that recorded a trace (used in the caption).
fn legend_owner(data: &FigureData, dataset: &str, name: &str) -> String {
    data.traces
        .keys()
        .find(|k| k.dataset == dataset && k.name == name)
        .map(|k| Variant { method: k.method.clone(), variant: k.variant.clone() }.label())
        .unwrap_or_default()
}

/// Test metric per head and method variant with std over seeds as error bars.
fn bars(data: &FigureData, dataset: &str) -> Option<FigureSpec> {
    let metric = data.layout.metrics.get(dataset).and_then(primary_metric)?;
    let info = MetricInfo::of(metric);
    let heads = data.layout.heads_of(dataset).to_vec();
    let mut groups = Vec::new();
    let mut values = Vec::new();
    for v in &data.layout.variants {
        let row: Vec<Option<(f64, f64)>> = heads
            .iter()
            .map(|head| {
                let key = MetricKey::new(dataset, &v.method, &v.variant, "test", head, metric);
                data.aggregates.stats.get(&key).map(|s| (s.mean * info.scale, s.std.unwrap_or(0.0) * info.scale))
            })
            .collect();
        if row.iter().any(Option::is_some) {
            groups.push(v.label());
            values.push(row);
        }
    }
    (!groups.is_empty()).then(|| FigureSpec {
        stem: format!("test-{metric}-{}", slug(dataset)),
        caption: format!("{dataset}: test {} per head and method; error bars are ±1 std over seeds.", info.label),
        kind: FigureKind::Bar(BarFigure {
            title: format!("{} · {dataset}: test {} per head", data.suite, info.label),
            y_label: format!("test {}", info.label),
            groups,
            bars: heads,
            values,
        }),
    })
}

fn scaled(curve: &Curve, scale: f64) -> Vec<(f64, f64)> {
    curve.iter().map(|(epoch, value)| (*epoch as f64, value * scale)).collect()
}
