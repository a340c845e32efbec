//! Video frames: listing a clip's JPEG folder, the reference's frame pick, and the torchvision
//! transforms, with the `image` crate.
//!
//! * Pick: the folder listing sorted by name, then G2D's `np.random.seed(999);
//!   np.random.choice(n, T, replace=False)` ([`pick_frames`]), reproduced exactly.
//! * Eval: `Resize((S, S))` — `image`'s bilinear (`Triangle`) filter, which widens its support
//!   when shrinking like PIL's `BILINEAR` does; values can differ from PIL's by a grey level
//!   because PIL resamples in fixed point.
//! * Train: torchvision's `RandomResizedCrop(S, scale=(0.08, 1), ratio=(3/4, 4/3))` algorithm
//!   (ten tries, then the centre-crop fallback; Python's round-half-even), bilinear resize,
//!   then `RandomHorizontalFlip(0.5)`. The random stream is ChaCha8, not torch's; each frame
//!   of a clip gets its own crop, as in the reference's per-frame `transform(img)`.
//! * Both: `ToTensor` (`/255`) and ImageNet `Normalize`, written as `[3, T, S, S]` (C, T, H, W).

use std::path::{Path, PathBuf};

use harness_core::{Error, Result};
use image::RgbImage;
use image::imageops::{self, FilterType};
use image::io::Reader as ImageReader;
use rand::Rng;

use crate::numpy_rng::{REFERENCE_FRAME_SEED, choice_without_replacement};

/// ImageNet channel means used by `transforms.Normalize`.
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet channel standard deviations used by `transforms.Normalize`.
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// The `.jpg`/`.jpeg` files of a frame folder, sorted by file name.
pub fn list_frames(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut frames = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let is_jpg = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg"));
        if is_jpg && path.is_file() {
            frames.push(path);
        }
    }
    frames.sort();
    Ok(frames)
}

/// Positions (in the sorted listing of `n` frames) of the `t` frames the reference uses, in
/// numpy's order; `None` if `t > n`.
pub fn pick_frames(n: usize, t: usize) -> Option<Vec<usize>> {
    choice_without_replacement(REFERENCE_FRAME_SEED, n, t)
}

/// Decodes a JPEG (or any format `image` recognises) to RGB, like PIL's `.convert('RGB')`.
/// A file that is not an image, or is cut short, gives an error naming it.
pub fn decode_rgb(path: &Path) -> Result<RgbImage> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    // jpeg-decoder fills a JPEG that ends early with grey instead of failing; PIL refuses such
    // a file ("image file is truncated"), so check for the end-of-image marker first.
    let looks_jpeg = bytes.starts_with(&[0xFF, 0xD8]);
    if looks_jpeg && !has_eoi_near_end(&bytes) {
        return Err(Error::data(path, "truncated JPEG: no end-of-image marker"));
    }
    let reader = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::data(path, format!("cannot read image: {e}")))?;
    let img = reader.decode().map_err(|e| Error::data(path, format!("corrupt or truncated image: {e}")))?;
    Ok(img.to_rgb8())
}

/// Whether an end-of-image marker sits in the last few bytes (some encoders append padding).
fn has_eoi_near_end(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(64)..];
    tail.windows(2).any(|w| w == [0xFF, 0xD9])
}

/// `transforms.Resize((size, size))`: bilinear, aspect ratio not kept.
pub fn resize_exact(img: &RgbImage, size: u32) -> RgbImage {
    if img.width() == size && img.height() == size {
        return img.clone();
    }
    imageops::resize(img, size, size, FilterType::Triangle)
}

/// Python's `round` (half to even), as torchvision's crop sizes use it.
fn py_round(x: f64) -> i64 {
    x.round_ties_even() as i64
}

/// torchvision's `RandomResizedCrop.get_params` with scale (0.08, 1) and ratio (3/4, 4/3):
/// returns `(top, left, height, width)`.
pub fn random_resized_crop_params<R: Rng>(width: u32, height: u32, rng: &mut R) -> (u32, u32, u32, u32) {
    let (scale, ratio) = ((0.08f64, 1.0f64), (3.0f64 / 4.0, 4.0f64 / 3.0));
    let (w_img, h_img) = (width as i64, height as i64);
    let area = (w_img * h_img) as f64;
    let log_ratio = (ratio.0.ln(), ratio.1.ln());
    for _ in 0..10 {
        let target_area = area * rng.gen_range(scale.0..scale.1);
        let aspect = rng.gen_range(log_ratio.0..log_ratio.1).exp();
        let w = py_round((target_area * aspect).sqrt());
        let h = py_round((target_area / aspect).sqrt());
        if 0 < w && w <= w_img && 0 < h && h <= h_img {
            let i = rng.gen_range(0..=h_img - h);
            let j = rng.gen_range(0..=w_img - w);
            return (i as u32, j as u32, h as u32, w as u32);
        }
    }
    let in_ratio = w_img as f64 / h_img as f64;
    let (w, h) = if in_ratio < ratio.0 {
        (w_img, py_round(w_img as f64 / ratio.0))
    } else if in_ratio > ratio.1 {
        (py_round(h_img as f64 * ratio.1), h_img)
    } else {
        (w_img, h_img)
    };
    (((h_img - h) / 2) as u32, ((w_img - w) / 2) as u32, h as u32, w as u32)
}

/// The training transform: random resized crop to `size`, then a horizontal flip with
/// probability 0.5.
pub fn train_transform<R: Rng>(img: &RgbImage, size: u32, rng: &mut R) -> RgbImage {
    let (top, left, h, w) = random_resized_crop_params(img.width(), img.height(), rng);
    let crop = imageops::crop_imm(img, left, top, w, h).to_image();
    let mut out = resize_exact(&crop, size);
    if rng.gen_bool(0.5) {
        imageops::flip_horizontal_in_place(&mut out);
    }
    out
}

/// Writes a square RGB frame (`S × S × 3` bytes, row-major, as [`RgbImage::as_raw`]) as
/// normalised frame `t` of a `[3, frames, S, S]` block.
pub fn write_normalized(rgb: &[u8], t: usize, frames: usize, out: &mut [f32]) {
    let plane = rgb.len() / 3;
    debug_assert_eq!(out.len(), 3 * frames * plane);
    for (idx, px) in rgb.chunks_exact(3).enumerate() {
        for c in 0..3 {
            out[(c * frames + t) * plane + idx] = (px[c] as f32 / 255.0 - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn constant_frame_normalises_to_imagenet_values() {
        let img = RgbImage::from_pixel(4, 4, Rgb([255, 128, 0]));
        let mut out = vec![0f32; 3 * 2 * 16];
        write_normalized(img.as_raw(), 1, 2, &mut out);
        let expect = [(1.0 - 0.485) / 0.229, (128.0 / 255.0 - 0.456) / 0.224, (0.0 - 0.406) / 0.225];
        for c in 0..3 {
            let plane = &out[(c * 2 + 1) * 16..(c * 2 + 2) * 16];
            assert!(plane.iter().all(|&v| (v - expect[c]).abs() < 1e-6), "channel {c}: {plane:?}");
            assert!(out[(c * 2) * 16..(c * 2 + 1) * 16].iter().all(|&v| v == 0.0), "frame 0 untouched");
        }
    }

    #[test]
    fn crop_params_stay_inside_and_follow_the_scale_range() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..500 {
            let (i, j, h, w) = random_resized_crop_params(480, 360, &mut rng);
            assert!(i + h <= 360 && j + w <= 480 && h > 0 && w > 0);
            let frac = (h * w) as f64 / (480.0 * 360.0);
            assert!((0.07..=1.0).contains(&frac), "{frac}");
        }
        // Impossible aspect ratios fall back to torchvision's centre crop.
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let (i, j, h, w) = random_resized_crop_params(1000, 10, &mut rng);
        assert!(h <= 10 && w <= 1000 && i + h <= 10 && j + w <= 1000);
    }

    #[test]
    fn transforms_give_the_requested_size_and_flip_is_seeded() {
        let mut img = RgbImage::new(40, 30);
        for (x, _, p) in img.enumerate_pixels_mut() {
            *p = Rgb([(x * 6) as u8, 0, 0]);
        }
        assert_eq!(resize_exact(&img, 16).dimensions(), (16, 16));
        let a = train_transform(&img, 16, &mut ChaCha8Rng::seed_from_u64(9));
        let b = train_transform(&img, 16, &mut ChaCha8Rng::seed_from_u64(9));
        assert_eq!(a, b);
        assert_eq!(a.dimensions(), (16, 16));
    }

    #[test]
    fn python_rounding_is_half_to_even() {
        assert_eq!((py_round(2.5), py_round(3.5), py_round(-0.5)), (2, 4, 0));
    }
}
