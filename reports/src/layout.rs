//! The order and labels of datasets, method variants and heads, taken from `suite.json` so that
//! tables and figures follow the suite definition rather than alphabetical order.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::DataFrame;

use crate::aggregate::Aggregates;
use crate::store::Suite;

/// A method with one of its variants: one column of the main table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Variant {
    /// Method name.
    pub method: String,
    /// Variant name (`default` when the suite entry names none).
    pub variant: String,
}

impl Variant {
    /// `method` for the default variant, `method (variant)` otherwise.
    pub fn label(&self) -> String {
        if self.variant == "default" { self.method.clone() } else { format!("{} ({})", self.method, self.variant) }
    }

    /// Whether `name` designates this variant: `method`, `method/variant` or the label.
    pub fn matches(&self, name: &str) -> bool {
        (self.variant == "default" && name == self.method)
            || name == format!("{}/{}", self.method, self.variant)
            || name == self.label()
    }
}

/// Row and column order shared by all tables and figures.
#[derive(Debug, Default)]
pub struct Layout {
    /// Datasets in suite order.
    pub datasets: Vec<String>,
    /// Method variants in suite order.
    pub variants: Vec<Variant>,
    /// Per dataset: its heads, modalities in store order, then `fused`.
    pub heads: BTreeMap<String, Vec<String>>,
    /// Per dataset: the metrics reported on the test split.
    pub metrics: BTreeMap<String, BTreeSet<String>>,
    /// Seeds `suite.json` plans per dataset and variant.
    pub planned_seeds: BTreeMap<(String, Variant), usize>,
}

impl Layout {
    /// Orders what `suite.json` lists first, then anything only the results contain.
    pub fn new(suite: &Suite, results: &DataFrame, aggregates: &Aggregates) -> Self {
        let mut layout = Layout::default();
        for cell in &suite.cells {
            push_unique(&mut layout.datasets, &cell.dataset);
            let variant = Variant { method: cell.method.clone(), variant: cell.variant.clone() };
            *layout.planned_seeds.entry((cell.dataset.clone(), variant.clone())).or_default() += 1;
            push_unique(&mut layout.variants, &variant);
        }
        for key in aggregates.stats.keys() {
            push_unique(&mut layout.datasets, &key.dataset);
            push_unique(&mut layout.variants, &Variant { method: key.method.clone(), variant: key.variant.clone() });
            if key.split == "test" {
                layout.metrics.entry(key.dataset.clone()).or_default().insert(key.metric.clone());
            }
        }
        // Heads in the order the runner wrote them (the model's modality order), fused last.
        if let (Ok(datasets), Ok(heads)) =
            (results.column("dataset").and_then(|c| c.str()), results.column("head").and_then(|c| c.str()))
        {
            for i in 0..datasets.len() {
                if let (Some(dataset), Some(head)) = (datasets.get(i), heads.get(i)) {
                    push_unique(layout.heads.entry(dataset.to_owned()).or_default(), &head.to_owned());
                }
            }
        }
        for heads in layout.heads.values_mut() {
            if let Some(at) = heads.iter().position(|h| h == "fused") {
                let fused = heads.remove(at);
                heads.push(fused);
            }
        }
        layout
    }

    /// The heads of a dataset (empty when it has no results).
    pub fn heads_of(&self, dataset: &str) -> &[String] {
        self.heads.get(dataset).map(Vec::as_slice).unwrap_or_default()
    }

    /// The modality heads of a dataset (every head but `fused`).
    pub fn modalities_of(&self, dataset: &str) -> Vec<String> {
        self.heads_of(dataset).iter().filter(|h| *h != "fused").cloned().collect()
    }

    /// Seeds planned for a dataset and variant (0 when not in `suite.json`).
    pub fn planned(&self, dataset: &str, variant: &Variant) -> usize {
        self.planned_seeds.get(&(dataset.to_owned(), variant.clone())).copied().unwrap_or(0)
    }
}

fn push_unique<T: PartialEq + Clone>(items: &mut Vec<T>, item: &T) {
    if !items.contains(item) {
        items.push(item.clone());
    }
}
