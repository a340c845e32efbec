//! Links every in-tree plugin crate into the binary.
//!
//! `inventory` registrations live in the plugin crates' static initialisers, and a crate that
//! is only listed in Cargo.toml but never named in code is not linked, so its registration
//! silently disappears (dtolnay/inventory#7). Each plugin crate is therefore named here once,
//! and `tests` check that every crate under `methods/` and `datasets/` is both named here and
//! registers something.
//!
//! To add an in-tree plugin: create the crate, add it to `harness/cli/Cargo.toml`, and add one
//! line below plus its registered names to [`IN_TREE`].

use datasets_audiovisual as _;
use datasets_features as _;
use datasets_synthetic as _;
use method_agm as _;
use method_di_mml as _;
use method_dlmg as _;
use method_g2d as _;
use method_joint as _;
use method_mla as _;
use method_mmpareto as _;
use method_mses as _;
use method_mslr as _;
use method_ogm_ge as _;
use method_pmr as _;
use method_reconboost as _;
use method_ume as _;
use method_umt as _;
use method_unimodal as _;

/// `(crate directory, registered names)` of every in-tree plugin crate.
pub const IN_TREE: &[(&str, &[&str])] = &[
    ("datasets/audiovisual", &["crema-d", "vggsound"]),
    ("datasets/features", &["av-mnist", "ur-funny", "iemocap", "mis-me", "mfeat"]),
    ("datasets/synthetic", &["synthetic-av", "synthetic-av3", "synthetic-misme"]),
    ("methods/g2d", &["g2d"]),
    ("methods/agm", &["agm"]),
    ("methods/di-mml", &["di-mml"]),
    ("methods/dlmg", &["dlmg"]),
    ("methods/mla", &["mla"]),
    ("methods/mmpareto", &["mmpareto"]),
    ("methods/mses", &["mses"]),
    ("methods/mslr", &["mslr"]),
    ("methods/ogm-ge", &["ogm-ge"]),
    ("methods/pmr", &["pmr"]),
    ("methods/reconboost", &["reconboost"]),
    ("methods/joint", &["joint"]),
    ("methods/ume", &["ume"]),
    ("methods/umt", &["umt"]),
    ("methods/unimodal", &["unimodal"]),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn registered_names() -> Vec<&'static str> {
        let mut names: Vec<&str> = harness_core::method::registered().iter().map(|e| e.name).collect();
        names.extend(harness_core::data::registered().iter().map(|e| e.name));
        names
    }

    #[test]
    fn every_in_tree_plugin_registration_is_linked() {
        let names = registered_names();
        for (dir, expected) in IN_TREE {
            for name in *expected {
                assert!(names.contains(name), "plugin `{name}` of {dir} is not registered: is `use` missing?");
            }
        }
    }

    #[test]
    fn every_plugin_crate_directory_is_listed() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for group in ["methods", "datasets"] {
            for entry in std::fs::read_dir(root.join(group)).unwrap() {
                let path = entry.unwrap().path();
                if !path.join("Cargo.toml").exists() {
                    continue;
                }
                let dir = format!("{group}/{}", path.file_name().unwrap().to_string_lossy());
                assert!(
                    IN_TREE.iter().any(|(d, _)| *d == dir),
                    "{dir} is a plugin crate but harness/cli/src/plugins.rs does not link it"
                );
            }
        }
    }
}
