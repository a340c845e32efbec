//! The real-data path end to end: an AV-MNIST fixture in the exact reference format (NumPy
//! `.npy` files) under `--data-root`, loaded by the `av-mnist` loader and trained with the
//! paper's ResNet-18 encoders (1-channel spectrogram and 1-channel 28x28 image variants, at a
//! reduced width so the test runs in seconds) through the real CLI.

mod common;

use std::path::Path;

use common::{Scratch, run_suite_with, test_metric};
use datasets_features::npy::NpyArray;

fn write_avmnist(root: &Path, train: usize, test: usize) {
    std::fs::create_dir_all(root.join("image")).unwrap();
    std::fs::create_dir_all(root.join("audio")).unwrap();
    for (split, n) in [("train", train), ("test", test)] {
        // The label is written into both modalities (a bright block whose row depends on the
        // class), so the models have something to learn.
        let labels: Vec<i64> = (0..n).map(|i| (i % 10) as i64).collect();
        let image: Vec<f64> = (0..n)
            .flat_map(|i| (0..784).map(move |k| if k / 28 / 3 == i % 10 { 255.0 } else { ((i * 7 + k) % 50) as f64 }))
            .collect();
        let audio: Vec<u8> = (0..n)
            .flat_map(|i| (0..112 * 112).map(move |k| if k / 112 / 11 == i % 10 { 250 } else { ((i + k) % 40) as u8 }))
            .collect();
        NpyArray::from_f64(vec![n, 784], &image).write(&root.join(format!("image/{split}_data.npy"))).unwrap();
        NpyArray::from_u8(vec![n, 112, 112], &audio).write(&root.join(format!("audio/{split}_data.npy"))).unwrap();
        NpyArray::from_i64(vec![n], &labels).write(&root.join(format!("{split}_labels.npy"))).unwrap();
    }
}

#[test]
fn avmnist_fixture_trains_end_to_end_with_resnet18_encoders() {
    let dir = Scratch::new("avmnist");
    let data = dir.0.join("data");
    write_avmnist(&data.join("av-mnist"), 48, 20);
    let config = dir.config(
        r#"
[defaults]
epochs = 2
batch-size = 8
optimizer = { kind = "sgd", lr = 0.01, momentum = 0.9, weight-decay = 1e-4 }
fusion = "late"

[datasets.av-mnist]
path = "av-mnist"
options = { val-fraction = 0.25 }
train.encoders.audio = { name = "resnet18-audio", options = { width = 4 } }
train.encoders.image = { name = "resnet18-image", options = { width = 4 } }

[suites.avmnist]
datasets = ["av-mnist"]
methods = ["joint", "g2d"]
"#,
    );
    let out = dir.out();
    run_suite_with(&config, "avmnist", &out, &["--data-root", data.to_str().unwrap()]);
    for method in ["joint", "g2d"] {
        for head in ["fused", "audio", "image"] {
            let acc = test_metric(&out, "avmnist", method, "default", head, "accuracy");
            assert!((0.0..=1.0).contains(&acc), "{method}/{head} accuracy {acc}");
            let loss = test_metric(&out, "avmnist", method, "default", head, "loss");
            assert!(loss.is_finite(), "{method}/{head} loss {loss}");
        }
    }
    let resolved =
        std::fs::read_to_string(out.join("avmnist/cells/av-mnist--joint--default--seed0/config.json")).unwrap();
    assert!(resolved.contains("resnet18-audio") && resolved.contains("resnet18-image"), "{resolved}");
}

#[test]
fn missing_dataset_names_the_expected_layout_and_first_missing_file() {
    let dir = Scratch::new("avmnist-missing");
    let data = dir.0.join("data");
    std::fs::create_dir_all(data.join("av-mnist/image")).unwrap();
    let config = dir.config(
        "[defaults]\nepochs = 1\nbatch-size = 8\noptimizer = { kind = \"sgd\", lr = 0.01 }\n\
         [datasets.av-mnist]\npath = \"av-mnist\"\n[suites.s]\ndatasets = [\"av-mnist\"]\nmethods = [\"joint\"]\n",
    );
    let o = common::harness(&[
        "--config",
        config.to_str().unwrap(),
        "--suite",
        "s",
        "--out",
        dir.out().to_str().unwrap(),
        "--data-root",
        data.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("train_data.npy"), "names the first missing file: {stderr}");
}
