#!/usr/bin/env python3
"""PyTorch twin of src/models/benchmark-net.ts (issue 2, item 6): same network, data sizes,
loss and optimiser. Prints ms per training step (forward + backward + update, median after
warm-up) and, as its last line, {"ms_per_step": ..., "backend": "torch", "threads": ...}.

Usage: python3 bench/train_step_torch.py [--threads 1] [--steps 12] [--warmup 3] [--batch 8] [--size 128]
       python3 bench/train_step_torch.py --serve   (one step per "step" line on stdin, prints
       {"ms": ..., "loss": ...} per step; bench/train-step.ts uses it to interleave steps with wasm)
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, dilation):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.proj = None
        if stride != 1 or cin != cout:
            self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (self.proj(x) if self.proj is not None else x))


class BenchmarkNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, 2, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU())
        blocks, cin = [], 32
        for width, stride, dilation in zip([32, 64, 128, 256], [1, 2, 2, 1], [1, 1, 1, 2]):
            blocks.append(BasicBlock(cin, width, stride, dilation))
            cin = width
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Conv2d(256, 21, 1, bias=False)

    def forward(self, x):
        z = self.head(self.blocks(self.stem(x)))
        return z[:, 1:].mean(dim=(2, 3))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--serve", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = BenchmarkNet().train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(a.batch, 3, a.size, a.size)
    y = (torch.rand(a.batch, 20) < 0.15).float()

    def one_step():
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad()
        loss = F.multilabel_soft_margin_loss(net(x), y)
        loss.backward()
        opt.step()
        one_step.cpu_ms = (time.process_time() - c0) * 1000
        return (time.perf_counter() - t0) * 1000, loss.item()

    if a.serve:
        print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
        for line in sys.stdin:
            if line.strip() != "step":
                break
            ms, loss = one_step()
            print(json.dumps({"ms": ms, "cpu_ms": one_step.cpu_ms, "loss": loss}), flush=True)
        return
    times = []
    for step in range(a.warmup + a.steps):
        dt, loss = one_step()
        if step >= a.warmup:
            times.append(dt)
        print(f"step {step}: loss {loss:.4f}, {dt:.1f} ms{' (warm-up)' if step < a.warmup else ''}")
    ms = statistics.median(times)
    print(f"torch {torch.__version__}, {a.threads} thread(s): {ms:.1f} ms per step (median of {len(times)})")
    print(json.dumps({"ms_per_step": round(ms, 2), "backend": "torch", "threads": a.threads}))


if __name__ == "__main__":
    main()
