//! The embedded synthetic data reproduces modality imbalance, and G2D mitigates it.

mod common;

use common::{PRELUDE, Scratch, run_suite, test_metric};

#[test]
fn joint_training_underuses_the_weak_modality_and_g2d_raises_it() {
    let dir = Scratch::new("imbalance");
    let config = dir.config(&format!(
        "{PRELUDE}
[suites.imbalance]
datasets = [\"synthetic-av\"]
seeds = [0, 1]
methods = [
    {{ method = \"unimodal\", variant = \"visual\", options = {{ modality = \"visual\" }} }},
    \"joint\",
    \"g2d\",
]
"
    ));
    run_suite(&config, "imbalance", &dir.out());
    let alone = test_metric(&dir.out(), "imbalance", "unimodal", "visual", "visual", "accuracy");
    let joint = test_metric(&dir.out(), "imbalance", "joint", "default", "visual", "accuracy");
    let g2d = test_metric(&dir.out(), "imbalance", "g2d", "default", "visual", "accuracy");
    // Modality imbalance: the weak (visual) head inside the jointly trained model is clearly
    // below the visual encoder trained alone.
    assert!(joint + 0.04 < alone, "joint visual head {joint:.3} vs visual alone {alone:.3}");
    // G2D raises the weak modality's head over joint training.
    assert!(g2d > joint + 0.02, "g2d visual head {g2d:.3} vs joint {joint:.3}");
}
