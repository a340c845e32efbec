"""The reference CREMA-D audio recipe in librosa, on the wavs the Rust bench wrote.

Run the Rust bench with AV_BENCH_DIR=<dir> first, then:
    python crema_audio_librosa.py <dir> [threads]
Prints librosa's clips/s (a process pool of `threads` workers, like the Rust bench's rayon
pool) and the largest differences between librosa's spectrograms and the Rust ones.
"""

import glob
import os
import sys
import time
from multiprocessing import Pool

import librosa
import numpy as np


def reference(path):
    # G2D dataset/CremadDataset.py, verbatim apart from the return.
    samples, rate = librosa.load(path, sr=22050)
    resamples = np.tile(samples, 3)[:22050 * 3]
    resamples[resamples > 1.] = 1.
    resamples[resamples < -1.] = -1.
    spectrogram = librosa.stft(resamples, n_fft=512, hop_length=353)
    return np.log(np.abs(spectrogram) + 1e-7).astype(np.float32)


def main():
    folder = sys.argv[1]
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    paths = sorted(glob.glob(os.path.join(folder, "clip_*.wav")))
    with Pool(threads) as pool:
        pool.map(reference, paths[: threads * 4])  # warm-up
        start = time.perf_counter()
        specs = pool.map(reference, paths)
        secs = time.perf_counter() - start
    print(f"librosa {librosa.__version__}: {len(paths)} clips in {secs:.3f} s on {threads} processes = "
          f"{len(paths) / secs:.1f} clips/s")
    freqs = librosa.fft_frequencies(sr=22050, n_fft=512)
    for i in range(5):
        rust_path = os.path.join(folder, f"spec_{i}.f32")
        if not os.path.exists(rust_path):
            break
        rust = np.fromfile(rust_path, dtype="<f4").reshape(257, 188)
        diff = np.abs(rust - specs[i])
        low, edge, high = freqs < 7000, (freqs >= 7000) & (freqs < 8000), freqs >= 8000
        print(f"clip {i}: |rust - librosa| below 7 kHz: median {np.median(diff[low]):.5f}, "
              f"max {diff[low].max():.4f}; 7-8 kHz: median {np.median(diff[edge]):.3f}; "
              f"above 8 kHz: median {np.median(diff[high]):.3f}; max overall {diff.max():.2f}")

if __name__ == "__main__":
    main()
