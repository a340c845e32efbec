//! MIS-ME from fixtures in the release format: RGB images plus label tables (CSV and a real
//! `.xlsx` workbook).

mod common;

use std::io::Write as _;
use std::path::Path;

use common::{all, ctx, sizes, values};
use datasets_features::misme::{self, FEATURES, IMAGE_MEAN, IMAGE_STD};
use harness_core::data::{Dataset, Split, Task};

/// Writes `n` solid-colour PNGs (and a JPEG for sample 0) and returns their names.
fn write_images(dir: &Path, prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let name = format!("{prefix}_{i}.{}", if i == 0 { "jpg" } else { "png" });
            let colour = image::Rgb([(40 * i % 256) as u8, 128, 255]);
            let img = image::RgbImage::from_pixel(30 + i as u32, 20, colour);
            img.save(dir.join(&name)).unwrap();
            name
        })
        .collect()
}

/// A table row: image, vwc, then the features (feature `c` of row `i` is `i * 10 + c`, except
/// the blank ones).
fn rows(names: &[String], vwc: &[f64], blank: Option<(usize, usize)>) -> Vec<Vec<String>> {
    names
        .iter()
        .zip(vwc)
        .enumerate()
        .map(|(i, (name, v))| {
            let mut row = vec!["extra".to_string(), name.clone(), v.to_string()];
            row.extend((0..8).map(|c| if blank == Some((i, c)) { String::new() } else { (i * 10 + c).to_string() }));
            row
        })
        .collect()
}

fn header() -> Vec<String> {
    let mut h = vec!["station".to_string(), "image".into(), "vwc".into()];
    h.extend(FEATURES.iter().map(|f| f.to_string()));
    h
}

fn write_csv(path: &Path, rows: &[Vec<String>]) {
    let mut s = header().join(",") + "\n";
    for r in rows {
        s += &(r.join(",") + "\n");
    }
    std::fs::write(path, s).unwrap();
}

/// A minimal but complete `.xlsx` workbook (inline strings, numeric cells).
fn write_xlsx(path: &Path, rows: &[Vec<String>]) {
    let col = |c: usize| ((b'A' + c as u8) as char).to_string();
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for (r, cells) in std::iter::once(header()).chain(rows.iter().cloned()).enumerate() {
        sheet += &format!(r#"<row r="{}">"#, r + 1);
        for (c, v) in cells.iter().enumerate() {
            let at = format!("{}{}", col(c), r + 1);
            if v.is_empty() {
                continue;
            } else if v.parse::<f64>().is_ok() {
                sheet += &format!(r#"<c r="{at}"><v>{v}</v></c>"#);
            } else {
                sheet += &format!(r#"<c r="{at}" t="inlineStr"><is><t>{v}</t></is></c>"#);
            }
        }
        sheet += "</row>";
    }
    sheet += "</sheetData></worksheet>";
    let files = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_string(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_string(),
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_string(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_string(),
        ),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, body) in files {
        zip.start_file(name, zip::write::FileOptions::default()).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
}

const TRAIN_VWC: [f64; 4] = [0.10, 0.30, 0.20, 0.50];

fn write_fixture(root: &Path, xlsx: bool) {
    let images = root.join("images");
    std::fs::create_dir_all(&images).unwrap();
    let train = rows(&write_images(&images, "tr", 4), &TRAIN_VWC, Some((1, 2)));
    let val = rows(&write_images(&images, "va", 2), &[0.05, 0.4], Some((0, 0)));
    let test = rows(&write_images(&images, "te", 3), &[0.3, 0.6, 0.1], None);
    for (split, r) in [("train", train), ("val", val), ("test", test)] {
        let path = root.join(format!("combined_only_{split}_set"));
        if xlsx {
            write_xlsx(&path.with_extension("xlsx"), &r);
        } else {
            write_csv(&path.with_extension("csv"), &r);
        }
    }
}

fn check(ds: &misme::MisMeDataset) {
    assert_eq!(sizes(ds), (4, 2, 3));
    assert_eq!(ds.spec().task, Task::Regression);
    assert_eq!(ds.spec().modalities[0].shape, vec![3, 16, 16]);
    assert_eq!(ds.spec().modalities[0].default_encoder.name, "mobilenetv2");
    assert_eq!(ds.spec().modalities[1].shape, vec![8]);
    assert_eq!(ds.spec().modalities[1].default_encoder.name, "tabular-mlp");

    // Targets: min-max with the train range (0.1, 0.5); val/test are not clipped.
    assert_eq!(ds.target_scale(), (0.1, 0.5));
    let train = all(ds, Split::Train);
    let t = values(&train.targets);
    for (got, v) in t.iter().zip(TRAIN_VWC) {
        assert_eq!(*got, ((v - 0.1) / 0.4) as f32);
    }
    let val = values(&all(ds, Split::Val).targets);
    assert_eq!(val[0], ((0.05 - 0.1) / 0.4) as f32);
    assert!((ds.unscale(val[1] as f64) - 0.4).abs() < 1e-6);

    // Tabular: feature 2 of train row 1 was blank -> filled with the train mean, which
    // standardises to 0; the others have train mean 0 and unit population std.
    let tab = values(&train.inputs[1]);
    assert!(tab[8 + 2].abs() < 1e-6, "{}", tab[8 + 2]);
    let col0: Vec<f64> = (0..4).map(|i| tab[i * 8] as f64).collect();
    let expected0: Vec<f64> = {
        let raw: Vec<f64> = (0..4).map(|i| (i * 10) as f64).collect();
        let m = raw.iter().sum::<f64>() / 4.0;
        let sd = (raw.iter().map(|v| (v - m).powi(2)).sum::<f64>() / 4.0).sqrt();
        raw.iter().map(|v| (v - m) / sd).collect()
    };
    for (a, b) in col0.iter().zip(&expected0) {
        assert!((a - b).abs() < 1e-6, "{col0:?} vs {expected0:?}");
    }
    // Val row 0 misses feature 0: filled with the *train* mean (15), so it standardises to 0.
    assert_eq!(values(&all(ds, Split::Val).inputs[1])[0], 0.0);

    // Images: a solid colour stays solid after resizing; normalised with the MIS-ME stats.
    let img = values(&train.inputs[0]);
    let plane = 16 * 16;
    let second = &img[3 * plane..6 * plane]; // train sample 1: colour (40, 128, 255), PNG
    for (c, v) in [40u8, 128, 255].iter().enumerate() {
        let want = (*v as f32 / 255.0 - IMAGE_MEAN[c]) / IMAGE_STD[c];
        assert!(second[c * plane..(c + 1) * plane].iter().all(|&x| (x - want).abs() < 1e-6), "channel {c}");
    }
}

#[test]
fn csv_tables_and_images_load_with_reference_preprocessing() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), false);
    check(&misme::load(&ctx(dir.path(), "image-size = 16")).unwrap());
}

#[test]
fn xlsx_tables_load_the_same() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), true);
    check(&misme::load(&ctx(dir.path(), "image-size = 16")).unwrap());
}

#[test]
fn missing_image_and_corrupt_image_are_named() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), false);
    std::fs::remove_file(dir.path().join("images/va_1.png")).unwrap();
    let err = misme::load(&ctx(dir.path(), "image-size = 16")).unwrap_err().to_string();
    assert!(err.contains("va_1.png") && err.contains("OSU-Complex-Systems/MIS-ME"), "{err}");

    write_fixture(dir.path(), false);
    let png = std::fs::read(dir.path().join("images/te_2.png")).unwrap();
    std::fs::write(dir.path().join("images/te_2.png"), &png[..png.len() / 2]).unwrap();
    let err = misme::load(&ctx(dir.path(), "image-size = 16")).unwrap_err().to_string();
    assert!(err.contains("te_2.png") && err.contains("decode"), "{err}");
}

#[test]
fn missing_table_and_missing_column_are_named() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), false);
    std::fs::remove_file(dir.path().join("combined_only_val_set.csv")).unwrap();
    let err = misme::load(&ctx(dir.path(), "")).unwrap_err().to_string();
    assert!(err.contains("combined_only_val_set.xlsx") && err.contains("Expected layout"), "{err}");

    write_fixture(dir.path(), false);
    let path = dir.path().join("combined_only_test_set.csv");
    let text = std::fs::read_to_string(&path).unwrap().replacen("wind_speed", "wind", 1);
    std::fs::write(&path, text).unwrap();
    let err = misme::load(&ctx(dir.path(), "")).unwrap_err().to_string();
    assert!(err.contains("combined_only_test_set.csv") && err.contains("wind_speed"), "{err}");
}

#[test]
fn max_samples_per_split_keeps_the_first_rows() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), false);
    let ds = misme::load(&ctx(dir.path(), "image-size = 8\nmax-samples-per-split = 2")).unwrap();
    assert_eq!(sizes(&ds), (2, 2, 2));
    assert_eq!(ds.target_scale(), (0.1, 0.3));
}

/// The `.rec` files directly under `dir` (none when it does not exist).
fn cache_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// Every split's image tensor values.
fn image_values(ds: &misme::MisMeDataset) -> Vec<Vec<f32>> {
    [Split::Train, Split::Val, Split::Test].into_iter().map(|s| values(&all(ds, s).inputs[0])).collect()
}

#[test]
fn a_second_load_reads_the_decoded_images_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), false);
    let cache = dir.path().join(".harness-cache");
    let first = misme::load(&ctx(dir.path(), "image-size = 16")).unwrap();
    let files = cache_files(&cache);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].starts_with("images-") && files[0].ends_with(".rec"), "{files:?}");

    // A garbage image no longer matters: the second load does not decode it.
    std::fs::write(dir.path().join("images/tr_1.png"), b"not a png").unwrap();
    let second = misme::load(&ctx(dir.path(), "image-size = 16")).unwrap();
    check(&second);
    assert_eq!(image_values(&first), image_values(&second));
    assert_eq!(cache_files(&cache), files);

    // Another image size is another cache: it decodes again (and finds the garbage) ...
    let err = misme::load(&ctx(dir.path(), "image-size = 8")).unwrap_err().to_string();
    assert!(err.contains("tr_1.png") && err.contains("decode"), "{err}");
    assert_eq!(cache_files(&cache), files, "a failed build leaves no file behind");
    // ... and, once the image is good again, writes a second file next to the first.
    write_fixture(dir.path(), false);
    let small = misme::load(&ctx(dir.path(), "image-size = 8")).unwrap();
    assert_eq!(small.spec().modalities[0].shape, vec![3, 8, 8]);
    let now = cache_files(&cache);
    assert_eq!(now.len(), 2, "{now:?}");
    assert!(now.contains(&files[0]));
    // Fewer rows are another image list, hence another key too.
    misme::load(&ctx(dir.path(), "image-size = 8\nmax-samples-per-split = 2")).unwrap();
    assert_eq!(cache_files(&cache).len(), 3);
}

#[test]
fn the_cache_goes_under_cache_dir_when_given() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("mis-me");
    std::fs::create_dir_all(&root).unwrap();
    write_fixture(&root, false);
    let cache_dir = dir.path().join("cache");
    let mut c = ctx(&root, "image-size = 16");
    c.cache_dir = Some(cache_dir.clone());
    let first = misme::load(&c).unwrap();
    assert_eq!(cache_files(&cache_dir.join("mis-me")).len(), 1);
    assert!(!root.join(".harness-cache").exists());

    std::fs::write(root.join("images/te_0.jpg"), b"garbage").unwrap();
    let second = misme::load(&c).unwrap();
    assert_eq!(image_values(&first), image_values(&second));
    // Without the cache dir the loader looks under the root, finds no cache and decodes.
    let err = misme::load(&ctx(&root, "image-size = 16")).unwrap_err().to_string();
    assert!(err.contains("te_0.jpg"), "{err}");
}
