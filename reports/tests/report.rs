//! End-to-end tests on the fixture store: numbers, marks, formats, figures, HTML and missing cells.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reports::{ReportError, ReportOptions, ReportSummary, generate};

struct Generated {
    _dir: tempfile::TempDir,
    out: PathBuf,
    summary: ReportSummary,
    took: Duration,
}

/// The fixture report, generated once and shared by the tests of this file.
fn report() -> &'static Generated {
    static REPORT: OnceLock<Generated> = OnceLock::new();
    REPORT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let suite_dir = dir.path().join("runs").join("fixture");
        common::write_store(&suite_dir);
        let out = suite_dir.join("report");
        let options = ReportOptions { harness_version: "0.1.0-test".into(), reference: None };
        let start = Instant::now();
        let summary = generate(&suite_dir, &out, &options).unwrap();
        Generated { _dir: dir, out, summary, took: start.elapsed() }
    })
}

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", path.as_ref().display()))
}

fn table_file(name: &str) -> String {
    read(report().out.join("tables").join(name))
}

/// The CSV line whose leading fields are `prefix`.
fn csv_line(csv: &str, prefix: &str) -> String {
    csv.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no line `{prefix}` in\n{csv}")).to_owned()
}

#[test]
fn main_table_aggregates_mean_std_and_n_over_seeds() {
    let csv = table_file("main.csv");
    let header = csv.lines().next().unwrap();
    assert_eq!(
        header,
        "Dataset,Head,g2d mean,g2d std,g2d n,joint mean,joint std,joint n,ogm-ge mean,ogm-ge std,ogm-ge n,umt mean,umt std,umt n"
    );
    // g2d fused: 0.80, 0.82, 0.84 -> 82.00 ± 2.00; ogm-ge has 2 of 3 seeds -> std sqrt(2) -> 1.41.
    assert_eq!(csv_line(&csv, "avmnist,fused,"), "avmnist,fused,82.00,2.00,3,71.00,1.00,3,75.00,1.41,2,,,0");
    // joint audio: 0.50, 0.50, 0.53 -> mean 51.00, std sqrt(0.0003) = 1.73.
    assert_eq!(csv_line(&csv, "avmnist,audio,"), "avmnist,audio,62.00,2.00,3,51.00,1.73,3,66.00,1.41,2,,,0");
    assert_eq!(csv_line(&csv, "avmnist,visual,"), "avmnist,visual,56.00,1.00,3,42.00,2.00,3,51.00,1.41,2,,,0");
    // Heads follow the store order with fused last; the regression dataset has no accuracy row.
    let heads: Vec<&str> = csv.lines().skip(1).map(|l| l.split(',').nth(1).unwrap()).collect();
    assert_eq!(heads, ["audio", "visual", "fused"]);
}

#[test]
fn best_is_bold_and_second_best_underlined_in_every_format() {
    let md = table_file("main.md");
    let fused = md.lines().find(|l| l.contains("| fused |")).unwrap();
    assert_eq!(fused, "|  | fused | **82.00 ± 2.00** | 71.00 ± 1.00 | <u>75.00 ± 1.41</u>† | — |");
    // ogm-ge wins the audio row; g2d is second there.
    let audio = md.lines().find(|l| l.contains("| audio |")).unwrap();
    assert_eq!(audio, "| avmnist | audio | <u>62.00 ± 2.00</u> | 51.00 ± 1.73 | **66.00 ± 1.41**† | — |");

    let tex = table_file("main.tex");
    assert!(tex.contains(
        " & fused & \\textbf{82.00 $\\pm$ 2.00} & 71.00 $\\pm$ 1.00 & \\underline{75.00 $\\pm$ 1.41}$^\\dagger$ & --- \\\\"
    ));
    assert_eq!(tex.matches("\\textbf{").count(), 3, "one best per row:\n{tex}");
    assert_eq!(tex.matches("\\underline{").count(), 3, "one second best per row:\n{tex}");

    let html = read(&report().summary.index_html);
    assert!(html.contains("<strong>82.00 ± 2.00</strong>"));
    assert!(html.contains("<u>75.00 ± 1.41</u><sup>†</sup>"));
}

#[test]
fn regression_table_ranks_lower_mape_and_higher_r2_first() {
    let csv = table_file("regression.csv");
    // soil joint seed 2 is missing from results.csv: its values come from result.json (n = 3).
    assert_eq!(csv_line(&csv, "soil,MAPE (%),"), "soil,MAPE (%),7.20,0.20,3,14.50,0.50,3,8.10,0.10,3,,,0");
    assert_eq!(csv_line(&csv, "soil,R2,"), "soil,R2,0.820,0.020,3,0.420,0.020,3,0.790,0.010,3,,,0");
    let md = table_file("regression.md");
    assert!(md.contains("| soil | MAPE (%) | **7.20 ± 0.20** | 14.50 ± 0.50 | <u>8.10 ± 0.10</u> | — |"), "{md}");
    assert!(md.contains("|  | R2 | **0.820 ± 0.020** | 0.420 ± 0.020 | <u>0.790 ± 0.010</u> | — |"), "{md}");
}

#[test]
fn ablation_table_has_a_row_per_variant_ranked_within_each_dataset() {
    let md = table_file("ablation.md");
    assert!(md.contains("| Method | Variant | avmnist | soil |"), "{md}");
    assert!(md.contains("| g2d | default | **82.00 ± 2.00** | **7.20 ± 0.20** |"), "{md}");
    assert!(md.contains("| ogm-ge | default | <u>75.00 ± 1.41</u>† | <u>8.10 ± 0.10</u> |"), "{md}");
    assert!(md.contains("| umt | default | — | — |"), "{md}");
    assert!(md.contains("soil: MAPE (%) (fused head)."), "{md}");
}

#[test]
fn comparison_uses_only_seeds_present_for_both() {
    let csv = table_file("comparison.csv");
    assert_eq!(csv.lines().next().unwrap(), "Dataset,Method,Seeds,Mean diff.,t,p (two-sided)");
    // joint - g2d on avmnist fused: diffs -0.10, -0.11, -0.12: mean -11.00 points, sd 0.01,
    // t = -0.11 / (0.01 / sqrt 3) = -19.05; with df = 2, p = 1 - |t| / sqrt(2 + t^2).
    let t: f64 = -0.11 / (0.01 / 3f64.sqrt());
    let p = 1.0 - t.abs() / (2.0 + t * t).sqrt();
    assert_eq!(csv_line(&csv, "avmnist,joint,"), format!("avmnist,joint,3,-11.00,{t:.2},{p:.3}"));
    // ogm-ge has seeds 0 and 1 only: diffs -0.06, -0.06 -> zero spread, p = 0.
    assert_eq!(csv_line(&csv, "avmnist,ogm-ge,"), "avmnist,ogm-ge,2,-6.00,-inf,<0.001");
    assert_eq!(csv_line(&csv, "avmnist,umt,"), "avmnist,umt,0,,,");
    // Regression datasets compare on MAPE: joint is 7.30 points worse on average.
    assert!(csv_line(&csv, "soil,joint,").starts_with("soil,joint,3,+7.30,"));
}

/// Checks that braces and environments balance and every row has one `&` per column gap.
fn check_latex(tex: &str, columns: usize) {
    let mut depth = 0i64;
    let mut previous = ' ';
    for c in tex.chars() {
        if previous != '\\' {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            assert!(depth >= 0, "closing brace before opening:\n{tex}");
        }
        previous = if previous == '\\' && c == '\\' { ' ' } else { c };
    }
    assert_eq!(depth, 0, "unbalanced braces:\n{tex}");
    for env in ["table", "tabular"] {
        assert_eq!(tex.matches(&format!("\\begin{{{env}}}")).count(), 1, "{env}:\n{tex}");
        assert_eq!(tex.matches(&format!("\\end{{{env}}}")).count(), 1, "{env}:\n{tex}");
    }
    let body = tex.split("\\toprule").nth(1).unwrap().split("\\bottomrule").next().unwrap();
    let rows: Vec<&str> = body.lines().filter(|l| l.ends_with("\\\\")).collect();
    assert!(rows.len() > 1, "no rows:\n{tex}");
    for row in rows {
        let separators = row.matches('&').count() - row.matches("\\&").count();
        assert_eq!(separators, columns - 1, "row `{row}`");
    }
}

#[test]
fn latex_tables_are_balanced_and_rows_have_every_column() {
    check_latex(&table_file("main.tex"), 2 + 4);
    check_latex(&table_file("regression.tex"), 2 + 4);
    check_latex(&table_file("ablation.tex"), 2 + 2);
    check_latex(&table_file("comparison.tex"), 2 + 4);
    let tex = table_file("main.tex");
    assert!(tex.contains("\\toprule") && tex.contains("\\midrule") && tex.contains("\\bottomrule"));
    assert!(tex.contains("\\label{tab:fixture-main}"));
}

#[test]
fn markdown_and_csv_rows_have_every_column() {
    for id in ["main", "regression", "ablation", "comparison"] {
        let table = report().summary.tables.iter().find(|t| t.id == id).unwrap();
        let md = table_file(&format!("{id}.md"));
        let width = table.label_headers.len() + table.columns.len();
        for line in md.lines().filter(|l| l.starts_with("| ")) {
            assert_eq!(line.matches(" | ").count() + 1, width, "{id}: `{line}`");
        }
        let csv = table_file(&format!("{id}.csv"));
        let fields: Vec<usize> = csv.lines().map(|l| l.split(',').count()).collect();
        assert!(fields.iter().all(|n| *n == fields[0]), "{id}: {fields:?}");
        assert_eq!(csv.lines().count(), table.rows.len() + 1);
    }
}

const EXPECTED_FIGURES: [&str; 12] = [
    "curves-avmnist",
    "teacher-confidence-avmnist",
    "smp-priority-avmnist",
    "confidence-ratio-avmnist",
    "feature-cosine-avmnist",
    "test-accuracy-avmnist",
    "curves-soil",
    "teacher-confidence-soil",
    "smp-priority-soil",
    "confidence-ratio-soil",
    "feature-cosine-soil",
    "test-mape-soil",
];

#[test]
fn figures_are_valid_png_and_svg() {
    let figures = report().out.join("figures");
    for stem in EXPECTED_FIGURES {
        let png = std::fs::read(figures.join(format!("{stem}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{stem}.png signature");
        assert_eq!(&png[12..16], b"IHDR", "{stem}.png header");
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
        assert!(width >= 1000 && height >= 600, "{stem}.png is {width}x{height}");
        assert!(png.len() > 10_000, "{stem}.png has only {} bytes", png.len());

        let svg = read(figures.join(format!("{stem}.svg")));
        assert!(svg.trim_start().starts_with("<svg"), "{stem}.svg start");
        assert!(svg.trim_end().ends_with("</svg>"), "{stem}.svg end");
        assert!(svg.contains("<text") && svg.contains("epoch") || stem.starts_with("test-"), "{stem}.svg text");
        assert!(svg.contains("fixture · "), "{stem}.svg title names the suite");
    }
}

#[test]
fn confidence_ratio_figure_shows_only_methods_that_recorded_it() {
    let svg = read(report().out.join("figures").join("confidence-ratio-avmnist.svg"));
    // Only g2d recorded the trace, so the legend lists modalities without a method prefix.
    assert!(svg.contains("\naudio\n</text>") && svg.contains("\nvisual\n</text>"), "{svg}");
    assert!(!svg.contains("joint"));
}

#[test]
fn index_html_contains_every_table_figure_and_the_configuration() {
    let html = read(&report().summary.index_html);
    for id in ["main", "regression", "ablation", "comparison"] {
        assert!(html.contains(&format!("<table id=\"table-{id}\">")), "table {id}");
    }
    for stem in EXPECTED_FIGURES {
        assert!(
            html.contains(&format!("<figure id=\"figure-{stem}\"><img src=\"data:image/png;base64,iVBORw0KGgo")),
            "{stem}"
        );
    }
    assert!(html.contains("Harness version 0.1.0-test"));
    assert!(html.contains("Fixture suite for the reports tests."));
    assert!(html.contains("&quot;reference&quot;: &quot;g2d&quot;"), "suite.json is shown");
    assert!(html.contains("config.json of avmnist / g2d / default"));
    assert!(!html.contains("src=\"figures/"), "images are embedded, not linked");
}

#[test]
fn missing_cells_are_listed_and_marked() {
    let summary = &report().summary;
    assert_eq!(summary.missing_cells, [common::MISSING_OGM, common::MISSING_UMT]);
    let html = read(&summary.index_html);
    assert!(html.contains("Missing cells (2)"));
    assert!(html.contains(&format!("<li>{}</li>", common::MISSING_OGM)));
    assert!(html.contains("<td class=\"missing\">—</td>"));
    assert!(summary.markdown.contains("### Missing cells (2)"));
    assert!(summary.markdown.contains(&format!("- `{}`", common::MISSING_UMT)));
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
}

#[test]
fn summary_lists_every_written_file_and_prints_the_main_table() {
    let summary = &report().summary;
    assert!(summary.markdown.starts_with("### fixture: test accuracy (%) per head"));
    assert!(summary.files.iter().all(|f| f.is_file()), "{:?}", summary.files);
    assert_eq!(summary.files.last(), Some(&summary.index_html));
    // 4 tables x 3 formats + 12 figures x 2 formats + report.md + index.html.
    assert_eq!(summary.files.len(), 12 + 24 + 2);
}

#[test]
fn report_regenerates_in_seconds() {
    // Debug build on a shared 2-core machine; a release build is several times faster.
    assert!(report().took < Duration::from_secs(30), "took {:?}", report().took);
    eprintln!("fixture report generated in {:?}", report().took);
}

#[test]
fn malformed_csv_error_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    common::write_store(dir.path());
    let epochs = dir.path().join("cells").join("avmnist--g2d--default--seed1").join("epochs.csv");
    let mut text = read(&epochs);
    text = text.replacen("0,train,fused,lr,0.01", "0,train,fused,lr,zero.one", 1);
    std::fs::write(&epochs, text).unwrap();
    let error = generate(dir.path(), &dir.path().join("report"), &ReportOptions::default()).unwrap_err();
    match &error {
        ReportError::Csv { path, line, .. } => {
            assert_eq!(path, &epochs);
            assert_eq!(*line, 3);
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(error.to_string().contains("epochs.csv:3: column `value` should be a number"), "{error}");
}

#[test]
fn malformed_suite_json_error_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("suite.json"), "{\n  \"name\": \"x\",\n  \"cells\": [,]\n}").unwrap();
    let error = generate(dir.path(), &dir.path().join("report"), &ReportOptions::default()).unwrap_err();
    assert!(matches!(error, ReportError::Json { line: 3, .. }), "{error}");
}

#[test]
fn suite_without_any_result_still_reports() {
    let dir = tempfile::tempdir().unwrap();
    let suite = r#"{"name": "empty", "report": {"tables": ["main"]},
        "cells": [{"id": "d--g2d--default--seed0", "dataset": "d", "method": "g2d", "seed": 0}]}"#;
    std::fs::write(dir.path().join("suite.json"), suite).unwrap();
    let summary = generate(dir.path(), &dir.path().join("report"), &ReportOptions::default()).unwrap();
    assert_eq!(summary.missing_cells, ["d--g2d--default--seed0"]);
    assert!(summary.tables.is_empty());
    assert!(summary.warnings.iter().any(|w| w.contains("table `main`")), "{:?}", summary.warnings);
    assert!(read(&summary.index_html).contains("Missing cells (1)"));
}

#[test]
fn reference_option_overrides_suite_json() {
    let dir = tempfile::tempdir().unwrap();
    common::write_store(dir.path());
    let options = ReportOptions { harness_version: "x".into(), reference: Some("joint".into()) };
    let out = dir.path().join("report");
    let summary = generate(dir.path(), &out, &options).unwrap();
    let comparison = summary.tables.iter().find(|t| t.id == "comparison").unwrap();
    assert!(comparison.title.ends_with("paired comparison with joint over seeds"));
    assert!(read(out.join("tables").join("comparison.csv")).contains("avmnist,g2d,3,+11.00,"));
}
