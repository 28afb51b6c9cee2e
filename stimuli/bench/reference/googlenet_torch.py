"""BVLC GoogLeNet in PyTorch, from the raw per-layer weights of ../shared/models/bvlc-googlenet:
an independent implementation used as the speed reference of orthostim's benchmarks.

Caffe semantics: BGR input in [0, 255] minus the mean (104, 117, 123); max pools round up
(ceil_mode); LRN over 5 channels with alpha 1e-4 divided by the window (PyTorch's convention too).

Usage (forward throughput, as `npm run bench -- stimuli/rdms` runs it):
    python3 googlenet_torch.py WEIGHTS_DIR --images N --batch 16 --size 224 --threads 2
prints one JSON line: {"images": N, "seconds": wall time of the forward passes, "images_per_s": ...}.
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

BLOCKS = [
    ("inception_3a", 192, 64, 96, 128, 16, 32, 32),
    ("inception_3b", 256, 128, 128, 192, 32, 96, 64),
    ("inception_4a", 480, 192, 96, 208, 16, 48, 64),
    ("inception_4b", 512, 160, 112, 224, 24, 64, 64),
    ("inception_4c", 512, 128, 128, 256, 24, 64, 64),
    ("inception_4d", 512, 112, 144, 288, 32, 64, 64),
    ("inception_4e", 528, 256, 160, 320, 32, 128, 128),
    ("inception_5a", 832, 256, 160, 320, 32, 128, 128),
    ("inception_5b", 832, 384, 192, 384, 48, 128, 128),
]


def load(weights_dir, name, in_c, out_c, k):
    f = np.fromfile(os.path.join(weights_dir, f"{name}_filter.bin"), dtype="<f4")
    b = np.fromfile(os.path.join(weights_dir, f"{name}_bias.bin"), dtype="<f4")
    # stored (out, kh, kw, in) -> (out, in, kh, kw)
    w = torch.from_numpy(f.reshape(out_c, k, k, in_c).transpose(0, 3, 1, 2).copy())
    return w, torch.from_numpy(b.copy())


class GoogLeNet:
    def __init__(self, weights_dir):
        self.p = {}
        self.add(weights_dir, "conv1/7x7_s2", 3, 64, 7)
        self.add(weights_dir, "conv2/3x3_reduce", 64, 64, 1)
        self.add(weights_dir, "conv2/3x3", 64, 192, 3)
        for name, in_c, c1, r3, c3, r5, c5, cp in BLOCKS:
            self.add(weights_dir, f"{name}/1x1", in_c, c1, 1)
            self.add(weights_dir, f"{name}/3x3_reduce", in_c, r3, 1)
            self.add(weights_dir, f"{name}/3x3", r3, c3, 3)
            self.add(weights_dir, f"{name}/5x5_reduce", in_c, r5, 1)
            self.add(weights_dir, f"{name}/5x5", r5, c5, 5)
            self.add(weights_dir, f"{name}/pool_proj", in_c, cp, 1)
        self.mean = torch.tensor([104.0, 117.0, 123.0]).view(1, 3, 1, 1)

    def add(self, d, name, in_c, out_c, k):
        self.p[name] = load(d, name, in_c, out_c, k)

    def conv(self, name, x, stride=1):
        w, b = self.p[name]
        return F.relu(F.conv2d(x, w, b, stride=stride, padding=(w.shape[2] - 1) // 2))

    def inception(self, name, x):
        b1 = self.conv(f"{name}/1x1", x)
        b3 = self.conv(f"{name}/3x3", self.conv(f"{name}/3x3_reduce", x))
        b5 = self.conv(f"{name}/5x5", self.conv(f"{name}/5x5_reduce", x))
        bp = self.conv(f"{name}/pool_proj", F.max_pool2d(x, 3, 1, 1))
        return torch.cat([b1, b3, b5, bp], 1)

    def forward(self, rgb01):
        """rgb01: NCHW RGB in [0, 1]; returns the activations of the 11 default RDM layers."""
        x = rgb01.flip(1) * 255.0 - self.mean
        acts = {}
        h = self.conv("conv1/7x7_s2", x, 2)
        acts["conv1"] = h
        h = F.local_response_norm(F.max_pool2d(h, 3, 2, ceil_mode=True), 5, 1e-4, 0.75, 1.0)
        h = self.conv("conv2/3x3", self.conv("conv2/3x3_reduce", h))
        acts["conv2"] = h
        h = F.max_pool2d(F.local_response_norm(h, 5, 1e-4, 0.75, 1.0), 3, 2, ceil_mode=True)
        for name, *_ in BLOCKS:
            h = self.inception(name, h)
            acts[name] = h
            if name in ("inception_3b", "inception_4e"):
                h = F.max_pool2d(h, 3, 2, ceil_mode=True)
        return acts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("weights")
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    net = GoogLeNet(a.weights)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        net.forward(torch.rand(a.batch, 3, a.size, a.size, generator=gen))  # warm-up
        start = time.perf_counter()
        done = 0
        while done < a.images:
            n = min(a.batch, a.images - done)
            acts = net.forward(torch.rand(n, 3, a.size, a.size, generator=gen))
            _ = [v.reshape(n, -1).numpy() for v in acts.values()]  # activations out, as rdms needs them
            done += n
        seconds = time.perf_counter() - start
    print(json.dumps({"images": a.images, "seconds": seconds, "images_per_s": a.images / seconds}))


if __name__ == "__main__":
    main()
