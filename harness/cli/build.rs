//! With the `cuda` feature, force-link libtorch (and through it libtorch_cuda): rustc links with
//! `--as-needed`, which otherwise drops the CUDA library because no symbol references it, and
//! `tch::Cuda::is_available()` then reports false on a GPU machine (tch-rs#980, #907).
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_some() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}
