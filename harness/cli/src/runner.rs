//! Runs a suite: expands the matrix, skips completed cells, loads each dataset once, checks
//! every cell's method/dataset/fusion combination before training anything, trains the pending
//! cells (in parallel with `--jobs`), writes the results store and prints the summary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use harness_core::data::{Dataset, DatasetContext, EncoderChoice};
use harness_core::method::{self, Method};
use harness_core::model::ModelPlan;
use harness_core::trainer::{self, EpochRecord, Observer};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tch::Device;

use crate::config::BenchmarksFile;
use crate::matrix::{Cell, expand};
use crate::store::{self, CellRef, CellResult, SuiteManifest};
use crate::summary;
use crate::teachers::{TeacherStats, TeacherStore};

/// Options of a suite run (the CLI flags).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Path of `benchmarks.toml`.
    pub config: PathBuf,
    /// Suite name.
    pub suite: String,
    /// Output directory (`runs/`).
    pub out: PathBuf,
    /// Cells run in parallel.
    pub jobs: usize,
    /// Device name.
    pub device: String,
    /// Print the cells and stop.
    pub dry_run: bool,
    /// Retrain the teachers even if stored.
    pub retrain_teachers: bool,
    /// Root directory of real datasets.
    pub data_root: Option<PathBuf>,
    /// Preprocessing cache directory.
    pub cache_dir: Option<PathBuf>,
    /// Show progress bars.
    pub progress: bool,
}

/// What a run did.
#[derive(Debug)]
pub struct RunOutcome {
    /// Every cell of the matrix.
    pub cells: Vec<Cell>,
    /// Cells trained in this run.
    pub trained: usize,
    /// Cells skipped because they were complete.
    pub skipped: usize,
    /// Teacher store counters.
    pub teachers: TeacherStats,
    /// The markdown summary.
    pub summary: String,
    /// The suite directory.
    pub suite_dir: PathBuf,
}

/// A pending cell, ready to train.
struct Prepared {
    cell: Cell,
    method: Box<dyn Method>,
    plan: ModelPlan,
    teacher_plan: Option<ModelPlan>,
}

/// Builds the model plan of a cell: the method's modalities, their encoders and the fusion.
fn plan_for(cell: &Cell, dataset: &dyn Dataset, method: &dyn Method) -> Result<ModelPlan> {
    let spec = dataset.spec();
    let modalities = method.modalities(spec)?;
    for name in cell.train.encoders.keys() {
        spec.modality_index(name).map_err(|e| anyhow!("encoder settings for dataset `{}`: {e}", cell.dataset))?;
    }
    let encoders: Vec<EncoderChoice> = modalities
        .iter()
        .map(|&m| {
            let ms = &spec.modalities[m];
            cell.train.encoders.get(&ms.name).cloned().unwrap_or_else(|| ms.default_encoder.clone())
        })
        .collect();
    Ok(ModelPlan {
        modalities,
        encoders,
        fusion: cell.train.fusion.clone().unwrap_or_else(|| "late".into()),
        fusion_options: cell.train.fusion_options.clone().unwrap_or_default(),
    })
}

fn load_dataset(cell: &Cell, opts: &RunOptions) -> Result<Box<dyn Dataset>> {
    let entry = harness_core::data::lookup(&cell.dataset_name)?;
    let mut options = cell.dataset_options.clone();
    if let Some(path) = &cell.dataset_path {
        let path = match (&opts.data_root, path.is_absolute()) {
            (Some(root), false) => root.join(path),
            _ => path.clone(),
        };
        options.insert("root".into(), toml::Value::String(path.display().to_string()));
    }
    let ctx = DatasetContext { options, data_root: opts.data_root.clone(), cache_dir: opts.cache_dir.clone() };
    let mut dataset = (entry.build)(&ctx).with_context(|| format!("loading dataset `{}`", cell.dataset))?;
    if let Some(names) = &cell.modalities {
        dataset = Box::new(
            harness_core::subset::ModalitySubset::new(dataset, names)
                .with_context(|| format!("modalities of dataset `{}`", cell.dataset))?,
        );
    }
    Ok(match &cell.missing {
        Some(options) => Box::new(
            harness_core::missing::MissingModalities::from_options(dataset, options)
                .with_context(|| format!("missing-modality settings of dataset `{}`", cell.dataset))?,
        ),
        None => dataset,
    })
}

/// Console progress: an overall bar over cells and one bar per running cell.
struct Progress {
    multi: MultiProgress,
    overall: ProgressBar,
}

impl Progress {
    fn new(total: usize, enabled: bool) -> Self {
        let multi = MultiProgress::with_draw_target(if enabled {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30.cyan/blue}] {pos}/{len} cells {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        Progress { multi, overall }
    }

    fn cell_bar(&self, label: String, epochs: usize) -> ProgressBar {
        let bar = self.multi.insert_before(&self.overall, ProgressBar::new(epochs as u64));
        bar.set_style(
            ProgressStyle::with_template("  {prefix:50!} [{bar:20}] epoch {pos}/{len} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(label);
        bar
    }

    fn line(&self, text: &str) {
        if self.multi.is_hidden() {
            eprintln!("{text}");
        } else {
            let _ = self.multi.println(text);
        }
    }
}

/// Observer that drives a cell's progress bar.
struct BarObserver<'a> {
    bar: &'a ProgressBar,
}

impl Observer for BarObserver<'_> {
    fn step(&mut self, _epoch: usize, step: usize, steps: usize, loss: f64) {
        if step.is_multiple_of(16) {
            self.bar.set_message(format!("step {step}/{steps} loss {loss:.3}"));
        }
    }

    fn epoch(&mut self, record: &EpochRecord, _epochs: usize) {
        self.bar.inc(1);
        let acc = record.val.get("fused", "accuracy").map(|a| format!("val acc {:.3}", a));
        let rmse = record.val.get("fused", "rmse").map(|r| format!("val rmse {:.4}", r));
        self.bar.set_message(acc.or(rmse).unwrap_or_default());
    }
}

/// Runs one prepared cell and writes it to the store.
fn run_cell(
    p: &mut Prepared,
    dataset: &dyn Dataset,
    teachers: &TeacherStore,
    opts: &RunOptions,
    device: Device,
    progress: &Progress,
) -> Result<CellResult> {
    let cell = &p.cell;
    let started = Instant::now();
    let teacher_set = match &p.teacher_plan {
        Some(plan) => {
            let bar = progress.cell_bar(format!("{} teachers", cell.dataset), cell.teacher_train.epochs.unwrap_or(1));
            let set = teachers.teachers(
                dataset,
                &serde_json::to_value(&cell.dataset_options)?,
                plan,
                &cell.teacher_train,
                cell.seed,
                device,
                &mut BarObserver { bar: &bar },
            );
            bar.finish_and_clear();
            Some(set.with_context(|| format!("cell {}", cell.id))?)
        }
        None => None,
    };
    let config = cell.train_config();
    let bar = progress.cell_bar(cell.id.clone(), config.epochs);
    let outcome = trainer::train(
        p.method.as_mut(),
        dataset,
        &p.plan,
        &config,
        device,
        teacher_set.as_ref(),
        &mut BarObserver { bar: &bar },
    )
    .with_context(|| format!("cell {}", cell.id));
    bar.finish_and_clear();
    let outcome = outcome?;
    let resolved = serde_json::json!({
        "cell": cell,
        "method_options": p.method.options(),
        "model": p.plan,
        "train": config,
        "device": format!("{device:?}"),
        "harness_version": env!("CARGO_PKG_VERSION"),
    });
    let result = store::write_cell(
        &opts.out,
        cell,
        &resolved,
        &outcome.epochs,
        outcome.selected_epoch,
        outcome.peak_memory_bytes,
    )?;
    let acc = result.r#final.get("test").and_then(|h| h.get("fused")).and_then(|m| m.get("accuracy").or(m.get("r2")));
    progress.line(&format!(
        "done {} in {:.1}s (selected epoch {}, test fused {})",
        cell.id,
        started.elapsed().as_secs_f64(),
        outcome.selected_epoch,
        acc.map_or("n/a".into(), |a| format!("{a:.4}"))
    ));
    Ok(result)
}

/// Loads the config and expands the suite.
pub fn plan_suite(opts: &RunOptions) -> Result<(BenchmarksFile, Vec<Cell>)> {
    let file = BenchmarksFile::load(&opts.config)?;
    let cells = expand(&file, &opts.suite, &opts.config)?;
    Ok((file, cells))
}

/// Runs the suite of `opts`.
pub fn run(opts: &RunOptions) -> Result<RunOutcome> {
    let (file, cells) = plan_suite(opts)?;
    let suite = file.suite(&opts.suite, &opts.config)?.clone();
    let suite_dir = store::suite_dir(&opts.out, &opts.suite);
    if opts.dry_run {
        for c in &cells {
            println!("{}", c.id);
        }
        return Ok(RunOutcome {
            cells,
            trained: 0,
            skipped: 0,
            teachers: TeacherStats::default(),
            summary: String::new(),
            suite_dir,
        });
    }
    let device = crate::device::parse_device(&opts.device)?;
    store::write_manifest(
        &opts.out,
        &SuiteManifest {
            name: opts.suite.clone(),
            description: suite.description.clone(),
            report: suite.report.clone(),
            cells: cells
                .iter()
                .map(|c| CellRef {
                    id: c.id.clone(),
                    dataset: c.dataset.clone(),
                    method: c.method.clone(),
                    variant: c.variant.clone(),
                    seed: c.seed,
                })
                .collect(),
            harness_version: env!("CARGO_PKG_VERSION").to_string(),
        },
    )?;

    let pending: Vec<&Cell> = cells.iter().filter(|c| store::completed(&opts.out, c).is_none()).collect();
    let skipped = cells.len() - pending.len();

    // Load each dataset once, then check every pending cell before training anything.
    let mut datasets: BTreeMap<String, Box<dyn Dataset>> = BTreeMap::new();
    for c in &pending {
        if !datasets.contains_key(&c.dataset) {
            datasets.insert(c.dataset.clone(), load_dataset(c, opts)?);
        }
    }
    let mut prepared = Vec::new();
    for c in &pending {
        let dataset = datasets[&c.dataset].as_ref();
        let entry = method::lookup(&c.method)?;
        let m = (entry.build)(&c.method_options).with_context(|| format!("cell {}", c.id))?;
        let plan = plan_for(c, dataset, m.as_ref()).with_context(|| format!("cell {}", c.id))?;
        let req = m.requirements();
        method::check_requirements(&c.method, &req, dataset.spec(), plan.modalities.len(), &plan.fusion)
            .with_context(|| format!("cell {}", c.id))?;
        let teacher_plan = req.teachers.then(|| ModelPlan {
            modalities: (0..dataset.spec().modalities.len()).collect(),
            encoders: dataset
                .spec()
                .modalities
                .iter()
                .map(|ms| c.teacher_train.encoders.get(&ms.name).cloned().unwrap_or_else(|| ms.default_encoder.clone()))
                .collect(),
            fusion: "late".into(),
            fusion_options: Default::default(),
        });
        prepared.push(Prepared { cell: (*c).clone(), method: m, plan, teacher_plan });
    }

    let teachers = TeacherStore::new(opts.out.join("teachers"), opts.retrain_teachers);
    let progress = Progress::new(cells.len(), opts.progress);
    progress.overall.set_position(skipped as u64);
    if skipped > 0 {
        progress.line(&format!("{skipped} of {} cells already complete; skipping them", cells.len()));
    }
    let jobs = opts.jobs.max(1).min(prepared.len().max(1));
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    tch::set_num_threads((cores / jobs).max(1) as i32);

    let queue = Mutex::new(prepared.into_iter().collect::<Vec<_>>());
    let failures = Mutex::new(Vec::<String>::new());
    let trained = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let next = {
                        let mut q = queue.lock().expect("queue poisoned");
                        if q.is_empty() { None } else { Some(q.remove(0)) }
                    };
                    let Some(mut p) = next else { break };
                    let dataset = datasets[&p.cell.dataset].as_ref();
                    match run_cell(&mut p, dataset, &teachers, opts, device, &progress) {
                        Ok(_) => {
                            trained.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            let msg = format!("{e:#}");
                            progress.line(&format!("FAILED {}: {msg}", p.cell.id));
                            failures.lock().expect("poisoned").push(msg);
                        }
                    }
                    progress.overall.inc(1);
                }
            });
        }
    });
    progress.overall.finish_and_clear();

    let results: Vec<CellResult> = cells.iter().filter_map(|c| store::completed(&opts.out, c)).collect();
    store::write_results_csv(&opts.out, &opts.suite, &results)?;
    let summary = summary::markdown(&results);
    store::write_atomic(&suite_dir.join("summary.md"), summary.as_bytes())?;
    let stats = teachers.stats();
    store::write_atomic(&suite_dir.join("teachers.json"), serde_json::to_string_pretty(&stats)?.as_bytes())?;
    let failures = failures.into_inner().expect("poisoned");
    if !failures.is_empty() {
        bail!(
            "{} cell(s) failed; completed cells are saved and a re-run resumes:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
    Ok(RunOutcome { cells, trained: trained.into_inner(), skipped, teachers: stats, summary, suite_dir })
}

/// The default `benchmarks.toml`: the one at the workspace root.
pub fn default_config_path() -> PathBuf {
    let here = Path::new("benchmarks.toml");
    if here.exists() {
        return here.to_path_buf();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benchmarks.toml")
}
