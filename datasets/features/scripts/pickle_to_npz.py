#!/usr/bin/env python3
"""Convert a packed affect pickle (UR-FUNNY or IEMOCAP) into the .npz the Rust loader reads.

Usage: pickle_to_npz.py {ur-funny,iemocap} INPUT.pkl OUTPUT.npz

Input: MultiBench's `humor.pkl` (ur-funny) or MulT's `iemocap_data.pkl` /
`iemocap_data_noalign.pkl` (iemocap): a dict {'train', 'valid', 'test'}, each a dict with
'audio', 'vision', 'text' (N, L, D) arrays and 'labels' (anything else, such as 'id', is
skipped). Output: one array per split and key, named `{split}_{key}`: features as float32
(values unchanged, -inf included: the Rust loader applies the reference processing), labels as
float32. Written with numpy.savez_compressed. Needs numpy only.
"""

import pickle
import sys

import numpy as np

SPLITS = ("train", "valid", "test")
FEATURES = ("audio", "vision", "text")
LABEL_DIMS = {"ur-funny": None, "iemocap": (4, 2)}


def fail(msg):
    sys.stderr.write("pickle_to_npz: " + msg + "\n")
    sys.exit(1)


def load(path):
    with open(path, "rb") as f:
        try:
            return pickle.load(f)
        except UnicodeDecodeError:
            # Pickles written by Python 2 need latin1 to restore numpy arrays.
            f.seek(0)
            return pickle.load(f, encoding="latin1")


def main(argv):
    if len(argv) != 4 or argv[1] not in LABEL_DIMS:
        fail("usage: pickle_to_npz.py {ur-funny,iemocap} INPUT.pkl OUTPUT.npz")
    kind, src, dst = argv[1], argv[2], argv[3]
    try:
        data = load(src)
    except Exception as e:  # noqa: BLE001 - report any unpickling failure with the file name
        fail("cannot read %s as a pickle: %s" % (src, e))
    if not isinstance(data, dict) or any(s not in data for s in SPLITS):
        fail("%s: expected a dict with keys %s, found %s"
             % (src, ", ".join(SPLITS), sorted(data) if isinstance(data, dict) else type(data).__name__))
    out = {}
    for split in SPLITS:
        part = data[split]
        for key in FEATURES + ("labels",):
            if key not in part:
                fail("%s: split '%s' has no '%s' (keys: %s)" % (src, split, key, ", ".join(sorted(part))))
        n = None
        for key in FEATURES:
            a = np.asarray(part[key], dtype=np.float32)
            if a.ndim != 3:
                fail("%s: %s/%s has shape %s, expected (N, L, D)" % (src, split, key, a.shape))
            if n is not None and a.shape[0] != n:
                fail("%s: %s/%s has %d samples, expected %d" % (src, split, key, a.shape[0], n))
            n = a.shape[0]
            out["%s_%s" % (split, key)] = np.ascontiguousarray(a)
        labels = np.asarray(part["labels"], dtype=np.float32)
        if labels.shape[0] != n:
            fail("%s: %s/labels has %d rows, expected %d" % (src, split, labels.shape[0], n))
        want = LABEL_DIMS[kind]
        if want is not None and labels.shape[1:] != want:
            fail("%s: %s/labels has shape %s, expected (N, %d, %d)" % ((src, split, labels.shape) + want))
        out["%s_labels" % split] = np.ascontiguousarray(labels)
    with open(dst, "wb") as f:
        np.savez_compressed(f, **out)
    for name in sorted(out):
        print("%-14s %s" % (name, out[name].shape))


if __name__ == "__main__":
    main(sys.argv)
