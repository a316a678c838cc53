#!/usr/bin/env python3
"""Generates the tiny, deterministic, learnable image-classification dataset (PaddleX ClsDataset layout) that
tests/data/make_paddlex_checkpoint.sh trains real PaddleX on:

    <out>/images/{train,val}_<cls>_<idx>.png   32x32 RGB PNGs
    <out>/label.txt   "<id> <name>" per line, ids from 0
    <out>/train.txt   "images/<file> <id>" per line
    <out>/val.txt     same

4 classes, each a filled shape of a distinct colour on a noisy grey background
(position, size, colour jitter and noise vary per image).

Usage: python make_tiny_cls.py OUT_DIR [--train-per-class 30] [--val-per-class 10] [--seed 0]
"""
import argparse
import os

import numpy as np
from PIL import Image, ImageDraw

CLASSES = [
    # name,          base RGB colour,   shape
    ("red_circle", (220, 40, 40), "circle"),
    ("green_square", (40, 200, 60), "square"),
    ("blue_triangle", (40, 70, 230), "triangle"),
    ("yellow_cross", (230, 210, 40), "cross"),
]
SIZE = 32


def make_image(rng, cls_idx):
    _, colour, shape = CLASSES[cls_idx]
    bg = int(rng.integers(70, 170))
    arr = np.full((SIZE, SIZE, 3), bg, dtype=np.float32)
    img = Image.fromarray(arr.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    r = int(rng.integers(9, 14))  # half extent of the shape
    cx = int(rng.integers(r, SIZE - r))
    cy = int(rng.integers(r, SIZE - r))
    col = tuple(int(np.clip(c + rng.integers(-25, 26), 0, 255)) for c in colour)
    if shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=col)
    elif shape == "square":
        draw.rectangle([cx - r, cy - r, cx + r, cy + r], fill=col)
    elif shape == "triangle":
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=col)
    elif shape == "cross":
        w = max(2, r // 3)
        draw.rectangle([cx - r, cy - w, cx + r, cy + w], fill=col)
        draw.rectangle([cx - w, cy - r, cx + w, cy + r], fill=col)
    arr = np.asarray(img, dtype=np.float32)
    arr += rng.normal(0.0, 12.0, size=arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--train-per-class", type=int, default=30)
    ap.add_argument("--val-per-class", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    img_dir = os.path.join(args.out_dir, "images")
    os.makedirs(img_dir, exist_ok=True)

    with open(os.path.join(args.out_dir, "label.txt"), "w", encoding="utf-8") as f:
        for i, (name, _, _) in enumerate(CLASSES):
            f.write(f"{i} {name}\n")

    for split, n in (("train", args.train_per_class), ("val", args.val_per_class)):
        lines = []
        for k in range(n):  # interleave classes so list order is balanced
            for c in range(len(CLASSES)):
                fname = f"{split}_{c}_{k:03d}.png"
                make_image(rng, c).save(os.path.join(img_dir, fname))
                lines.append(f"images/{fname} {c}\n")
        with open(os.path.join(args.out_dir, f"{split}.txt"), "w", encoding="utf-8") as f:
            f.writelines(lines)
    print(f"wrote {args.out_dir}: {len(CLASSES)} classes, "
          f"{args.train_per_class * len(CLASSES)} train, {args.val_per_class * len(CLASSES)} val")


if __name__ == "__main__":
    main()
