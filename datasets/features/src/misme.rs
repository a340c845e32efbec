//! `mis-me`: MIS-ME soil moisture estimation (Rakib et al. 2024), a soil-patch photo plus eight
//! meteorological readings, regression of volumetric water content (spec `datasets.md` §1.6).
//!
//! Files under the root (the `config.py` layout of OSU-Complex-Systems/MIS-ME, release `v1`):
//!
//! ```text
//! images/<image>                       RGB photos named by the tables' `image` column
//! combined_only_train_set.xlsx         (or .csv) columns: image, vwc, air_temperature,
//! combined_only_val_set.xlsx             relative_humidity, precipitation, solar_flux_density,
//! combined_only_test_set.xlsx            wind_speed, barometric_pressure, tilt_north_south,
//!                                        tilt_west_east (other columns are ignored)
//! ```
//!
//! For each split the `.xlsx` table is read when present, else the `.csv`; the image folder can
//! be renamed with `image-dir`.
//!
//! Processing, as the reference `VWC_Dataset`:
//! - image: RGB, resized to `image-size` x `image-size` (224) with a bilinear (triangle) filter
//!   that widens on downscaling like PIL's antialiased `Resize`, `ToTensor` (/255), normalised
//!   with the dataset statistics mean (0.507, 0.468, 0.307), std (0.194, 0.201, 0.170);
//! - table: missing values filled with the *train* column means, then standardised with the
//!   train mean and population standard deviation (sklearn's `StandardScaler`; a constant column
//!   is only centred);
//! - target: `vwc`, min-max scaled with the *train* minimum and maximum to `[0, 1]` because the
//!   harness's regression head predicts through a sigmoid. Validation and test values outside
//!   the train range fall slightly outside `[0, 1]`; they are not clipped. Report metrics in
//!   volumetric water content with [`MisMeDataset::unscale`] (`y * (max - min) + min`), the
//!   range being [`MisMeDataset::target_scale`]. MAPE is not invariant to the shift, so compute
//!   it on unscaled values.
//!
//! Modalities: `image` `[3, S, S]` (default encoder `mobilenetv2`) and `tabular` `[8]`
//! (`tabular-mlp`). Splits: the release's train, val and test tables (2,701 / 900 / 900).
//!
//! Cache: the first load decodes and resizes every listed image once (in parallel, with a
//! progress bar) into one record file of `u8` `[3, S, S]` pixels, `images-<key>.rec` under
//! `<cache-dir>/mis-me/` when the harness is given `--cache-dir`, else under
//! `<root>/.harness-cache/` ([`harness_core::cache`]). The key is a hash of [`CACHE_VERSION`],
//! the image size, the normalisation statistics, the root and the ordered image list of the
//! three splits, so changing any of them (`image-size`, `image-dir`, `max-samples-per-split`, the
//! tables) writes a new file. Later loads read the pixels back and only normalise them; the
//! image files are still required to exist but are not decoded again, so delete the cache
//! folder after replacing images under the same names. The tables are small and always re-read.

use std::path::{Path, PathBuf};

use harness_core::cache::{RecordFile, RecordSpec, build_or_open, cache_key, short_hex};
use harness_core::data::{
    Batch, Dataset, DatasetContext, DatasetSpec, EncoderChoice, InMemoryDataset, ModalityKind, ModalitySpec, Split,
    Task,
};
use harness_core::options::parse_options;
use harness_core::{Error, Result};
use image::imageops::FilterType;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::layout::{Layout, resolve_root};
use crate::table::Table;
use crate::tensors::regression_split;

/// Registered name.
pub const NAME: &str = "mis-me";

/// The meteorological columns, in modality order.
pub const FEATURES: [&str; 8] = [
    "air_temperature",
    "relative_humidity",
    "precipitation",
    "solar_flux_density",
    "wind_speed",
    "barometric_pressure",
    "tilt_north_south",
    "tilt_west_east",
];

/// Per-channel image mean of the MIS-ME photos (reference `config.IMG_MEAN`).
pub const IMAGE_MEAN: [f32; 3] = [0.507, 0.468, 0.307];
/// Per-channel image standard deviation (reference `config.IMG_STD`).
pub const IMAGE_STD: [f32; 3] = [0.194, 0.201, 0.170];

/// Version of the image recipe and its cache records; bump it to invalidate every MIS-ME cache.
pub const CACHE_VERSION: &str = "mis-me-images-v1";

/// The expected files and where they come from.
pub const LAYOUT: Layout = Layout {
    dataset: NAME,
    tree: "images/<image>                  soil photos named in the `image` column\n\
           combined_only_train_set.xlsx    (or .csv) columns image, vwc and the 8 meteorological features\n\
           combined_only_val_set.xlsx\n\
           combined_only_test_set.xlsx",
    source: "the GitHub release `v1` of OSU-Complex-Systems/MIS-ME (images plus the label spreadsheets of \
             usda_dataset/labels); it cannot be downloaded by the harness",
};

/// Options of `mis-me`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct MisMeConfig {
    /// Dataset directory; default `<data-root>/mis-me`.
    pub root: Option<PathBuf>,
    /// Image folder, relative to the root.
    pub image_dir: PathBuf,
    /// Side of the resized square image (224; the reference uses 299 for InceptionV3).
    pub image_size: u32,
    /// Keep only the first N rows of each table (smoke runs).
    pub max_samples_per_split: Option<usize>,
}

impl Default for MisMeConfig {
    fn default() -> Self {
        MisMeConfig { root: None, image_dir: "images".into(), image_size: 224, max_samples_per_split: None }
    }
}

/// MIS-ME in memory, with the target scaling needed to report in original units.
#[derive(Debug)]
pub struct MisMeDataset {
    inner: InMemoryDataset,
    target_min: f64,
    target_max: f64,
}

impl MisMeDataset {
    /// `(min, max)` of the training `vwc`: targets are `(vwc - min) / (max - min)`.
    pub fn target_scale(&self) -> (f64, f64) {
        (self.target_min, self.target_max)
    }

    /// A scaled target or prediction back in volumetric water content.
    pub fn unscale(&self, y: f64) -> f64 {
        y * (self.target_max - self.target_min) + self.target_min
    }
}

impl Dataset for MisMeDataset {
    fn target_range(&self) -> Option<(f64, f64)> {
        Some(self.target_scale())
    }

    fn spec(&self) -> &DatasetSpec {
        self.inner.spec()
    }

    fn len(&self, split: Split) -> usize {
        self.inner.len(split)
    }

    fn targets(&self, split: Split) -> Result<Tensor> {
        self.inner.targets(split)
    }

    fn batch(&self, split: Split, indices: &[usize], augment_seed: Option<u64>) -> Result<Batch> {
        self.inner.batch(split, indices, augment_seed)
    }
}

/// One split's table, resolved to rows.
struct Rows {
    images: Vec<PathBuf>,
    features: Vec<[Option<f64>; 8]>,
    vwc: Vec<f64>,
}

/// Loads MIS-ME with the options of `ctx`.
pub fn load(ctx: &DatasetContext) -> Result<MisMeDataset> {
    let config: MisMeConfig = parse_options(&format!("options of dataset `{NAME}`"), &ctx.options)?;
    if config.image_size == 0 {
        return Err(Error::config(format!("options of dataset `{NAME}`"), "`image-size` must be positive"));
    }
    let root = resolve_root(ctx, config.root.as_deref(), &LAYOUT)?;
    let image_dir = root.join(&config.image_dir);
    let mut tables = Vec::new();
    for split in ["train", "val", "test"] {
        let xlsx = root.join(format!("combined_only_{split}_set.xlsx"));
        let csv = xlsx.with_extension("csv");
        tables.push(if xlsx.is_file() {
            xlsx
        } else if csv.is_file() {
            csv
        } else {
            return Err(LAYOUT.missing(&xlsx, &root));
        });
    }
    if !image_dir.is_dir() {
        return Err(LAYOUT.missing(&image_dir, &root));
    }
    let rows =
        tables.iter().map(|t| read_rows(t, &image_dir, config.max_samples_per_split)).collect::<Result<Vec<_>>>()?;
    // Every image must exist before any is decoded: the first missing one is the error.
    for r in &rows {
        if let Some(missing) = r.images.iter().find(|p| !p.is_file()) {
            return Err(LAYOUT.missing(missing, &root));
        }
    }

    // Fill with train means, then standardise with train statistics (after filling, as
    // StandardScaler is fitted on the filled column).
    let train = &rows[0];
    let mut fill = [0f64; 8];
    let mut mean = [0f64; 8];
    let mut scale = [1f64; 8];
    for c in 0..8 {
        let present: Vec<f64> = train.features.iter().filter_map(|f| f[c]).collect();
        fill[c] = if present.is_empty() { 0.0 } else { present.iter().sum::<f64>() / present.len() as f64 };
        let filled: Vec<f64> = train.features.iter().map(|f| f[c].unwrap_or(fill[c])).collect();
        let n = filled.len().max(1) as f64;
        let m = filled.iter().sum::<f64>() / n;
        let sd = (filled.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n).sqrt();
        mean[c] = m;
        scale[c] = if sd > 0.0 { sd } else { 1.0 };
    }
    if train.vwc.is_empty() {
        return Err(Error::data(&tables[0], "the training table has no rows"));
    }
    let (lo, hi) = train.vwc.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let range = if hi > lo { hi - lo } else { 1.0 };

    let cache_dir = ctx.cache_dir.as_ref().map_or_else(|| root.join(".harness-cache"), |c| c.join(NAME));
    let all_images: Vec<&Path> = rows.iter().flat_map(|r| r.images.iter().map(PathBuf::as_path)).collect();
    let pixels = cached_images(&cache_dir, &root, &all_images, config.image_size)?;

    let spec = spec(config.image_size);
    let mut splits = Vec::new();
    let mut first = 0;
    for r in &rows {
        let indices: Vec<usize> = (first..first + r.images.len()).collect();
        first += r.images.len();
        let image = normalize(&pixels.read(&indices)?, config.image_size);
        let tabular: Vec<f32> = r
            .features
            .iter()
            .flat_map(|f| (0..8).map(move |c| ((f[c].unwrap_or(fill[c]) - mean[c]) / scale[c]) as f32))
            .collect();
        let targets: Vec<f32> = r.vwc.iter().map(|v| ((v - lo) / range) as f32).collect();
        splits.push(regression_split(&[image, tabular], &spec.modalities, &targets));
    }
    let [train, val, test]: [_; 3] = splits.try_into().map_err(|_| Error::data(&root, "3 splits"))?;
    Ok(MisMeDataset { inner: InMemoryDataset::new(spec, train, val, test)?, target_min: lo, target_max: hi })
}

/// The dataset's spec for images of side `size`.
pub fn spec(size: u32) -> DatasetSpec {
    DatasetSpec {
        name: NAME.to_string(),
        task: Task::Regression,
        modalities: vec![
            ModalitySpec {
                name: "image".into(),
                kind: ModalityKind::Image,
                shape: vec![3, size as i64, size as i64],
                default_encoder: EncoderChoice::named("mobilenetv2"),
            },
            ModalitySpec {
                name: "tabular".into(),
                kind: ModalityKind::Tabular,
                shape: vec![FEATURES.len() as i64],
                default_encoder: EncoderChoice::named("tabular-mlp"),
            },
        ],
    }
}

/// Reads a label table: image paths, the 8 features (missing as `None`) and `vwc` (required).
fn read_rows(path: &Path, image_dir: &Path, max: Option<usize>) -> Result<Rows> {
    let table = Table::read(path)?;
    let image_col = table.column("image")?;
    let vwc_col = table.column("vwc")?;
    let cols = FEATURES.iter().map(|f| table.column(f)).collect::<Result<Vec<_>>>()?;
    let n = table.rows.len().min(max.unwrap_or(usize::MAX));
    let mut rows = Rows { images: Vec::with_capacity(n), features: Vec::with_capacity(n), vwc: Vec::with_capacity(n) };
    for i in 0..n {
        let name = table.rows[i][image_col].trim();
        if name.is_empty() {
            return Err(Error::data(path, format!("data row {}: empty `image` cell", i + 1)));
        }
        rows.images.push(image_dir.join(name));
        let mut f = [None; 8];
        for (slot, &c) in f.iter_mut().zip(&cols) {
            *slot = table.number(i, c)?;
        }
        rows.features.push(f);
        rows.vwc.push(
            table.number(i, vwc_col)?.ok_or_else(|| Error::data(path, format!("data row {}: missing `vwc`", i + 1)))?,
        );
    }
    Ok(rows)
}

/// The resized `u8` pixels (`[3, S, S]` per image, in `images` order) from the cache under
/// `cache_dir`, decoding the images first (in parallel, with a progress bar) if the cache is
/// missing or stale.
fn cached_images(cache_dir: &Path, root: &Path, images: &[&Path], size: u32) -> Result<RecordFile<u8>> {
    let mut parts = vec![
        CACHE_VERSION.to_string(),
        NAME.to_string(),
        format!("size={size} filter=triangle"),
        format!("mean={IMAGE_MEAN:?} std={IMAGE_STD:?}"),
        root.display().to_string(),
    ];
    parts.extend(images.iter().map(|p| p.display().to_string()));
    let key = cache_key(&parts);
    let s = size as usize;
    let spec = RecordSpec { shape: vec![3, s, s], count: images.len(), key };
    let path = cache_dir.join(format!("images-{}.rec", short_hex(&key)));
    build_or_open(&path, &spec, images, &format!("{NAME} images"), |path: &&Path| decode_image(path, size))
}

/// Decodes one image to RGB and resizes it to `size` x `size`, as `u8` `[3, S, S]`.
fn decode_image(path: &Path, size: u32) -> Result<Vec<u8>> {
    let img = image::open(path).map_err(|e| Error::data(path, format!("cannot decode the image: {e}")))?;
    let rgb = image::imageops::resize(&img.to_rgb8(), size, size, FilterType::Triangle);
    let plane = (size * size) as usize;
    let mut chw = vec![0u8; 3 * plane];
    for (k, px) in rgb.pixels().enumerate() {
        for c in 0..3 {
            chw[c * plane + k] = px[c];
        }
    }
    Ok(chw)
}

/// `ToTensor` and the MIS-ME normalisation of `[N, 3, S, S]` pixels, in parallel.
fn normalize(pixels: &[u8], size: u32) -> Vec<f32> {
    let plane = (size * size) as usize;
    let mut out = vec![0f32; pixels.len()];
    out.par_chunks_mut(plane).zip(pixels.par_chunks(plane)).enumerate().for_each(|(i, (o, p))| {
        let c = i % 3;
        for (o, &v) in o.iter_mut().zip(p) {
            *o = (v as f32 / 255.0 - IMAGE_MEAN[c]) / IMAGE_STD[c];
        }
    });
    out
}

fn build(ctx: &DatasetContext) -> Result<Box<dyn Dataset>> {
    Ok(Box::new(load(ctx)?))
}

inventory::submit! {
    harness_core::data::DatasetEntry {
        name: NAME,
        description: "MIS-ME soil moisture regression (soil photo + 8 meteorological features) from the release tables",
        build,
    }
}
