//! `harness`: run benchmark suites, list plugins, build reports.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use harness::config::BenchmarksFile;
use harness::runner::{self, RunOptions};

/// Benchmark harness for multimodal learning under modality imbalance (G2D and baselines).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List every registered method, dataset, encoder, fusion and suite.
    List {
        /// Path of benchmarks.toml (default: the workspace's).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Regenerate a suite's report (tables, figures, index.html) from the results store.
    Report {
        /// The suite.
        #[arg(long)]
        suite: String,
        /// Output directory of the results store.
        #[arg(long, default_value = "runs")]
        out: PathBuf,
        /// Reference method of the paired comparison (default: the suite's, else g2d).
        #[arg(long)]
        reference: Option<String>,
    },
    /// Convert a reference pickle (UR-Funny `humor.pkl`, IEMOCAP) into the `.npz` the loaders
    /// read. Needs python3 with numpy (set HARNESS_PYTHON to choose the interpreter).
    Convert {
        /// `ur-funny` or `iemocap`.
        kind: String,
        /// The input pickle.
        input: PathBuf,
        /// The output `.npz`.
        output: PathBuf,
    },
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Suite to run (default: the config's `default-suite`, else `quick`).
    #[arg(long)]
    suite: Option<String>,
    /// Output directory of the results store.
    #[arg(long, default_value = "runs")]
    out: PathBuf,
    /// Cells to run in parallel (CPU threads are split between them).
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Device: cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Print the cells of the matrix and exit.
    #[arg(long)]
    dry_run: bool,
    /// Path of benchmarks.toml (default: the workspace's).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Retrain the unimodal teachers even if the store has them.
    #[arg(long)]
    retrain_teachers: bool,
    /// Root directory of the real datasets.
    #[arg(long)]
    data_root: Option<PathBuf>,
    /// Where preprocessed data is cached (default: under each dataset's root).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Hide progress bars.
    #[arg(long)]
    quiet: bool,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::List { config }) => {
            let path = config.unwrap_or_else(runner::default_config_path);
            let file = BenchmarksFile::load(&path);
            if let Err(e) = &file {
                eprintln!("note: suites not listed: {e}");
            }
            print!("{}", harness::list::render(file.as_ref().ok()));
            Ok(())
        }
        Some(Command::Report { suite, out, reference }) => {
            let summary = harness::report::generate(&out.join(&suite), reference)?;
            println!("{}", summary.markdown);
            eprintln!("report: {}", summary.index_html.display());
            Ok(())
        }
        Some(Command::Convert { kind, input, output }) => {
            datasets_features::convert_pickle(&kind, &input, &output)?;
            eprintln!("wrote {}", output.display());
            Ok(())
        }
        None => run(cli.run),
    }
}

fn run(args: RunArgs) -> Result<()> {
    let config = args.config.unwrap_or_else(runner::default_config_path);
    let suite = match args.suite {
        Some(s) => s,
        None => BenchmarksFile::load(&config)?.default_suite.unwrap_or_else(|| "quick".into()),
    };
    let opts = RunOptions {
        config,
        suite,
        out: args.out,
        jobs: args.jobs,
        device: args.device,
        dry_run: args.dry_run,
        retrain_teachers: args.retrain_teachers,
        data_root: args.data_root,
        cache_dir: args.cache_dir,
        progress: !args.quiet,
    };
    let outcome = runner::run(&opts)?;
    if !opts.dry_run {
        println!("{}", outcome.summary);
        match harness::report::generate(&outcome.suite_dir, None) {
            Ok(report) => eprintln!("report: {}", report.index_html.display()),
            Err(e) => eprintln!("warning: the report could not be generated: {e:#}"),
        }
        eprintln!(
            "{} cells trained, {} skipped; teachers trained {}, reused {}; results in {}",
            outcome.trained,
            outcome.skipped,
            outcome.teachers.trained,
            outcome.teachers.reused,
            outcome.suite_dir.display()
        );
    }
    Ok(())
}
