"""Times an ONNX file in onnxruntime as bench_deploy times LibTorch and OpenCV dnn (224 px, batch 1 and 16).

usage: ort_latency.py MODEL_ONNX THREADS
"""
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort


def main():
    path, threads = sys.argv[1], int(sys.argv[2])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    for batch, repeats in ((1, 40), (16, 8)):
        x = np.random.RandomState(0).randn(batch, 3, 224, 224).astype(np.float32)
        for _ in range(5):
            session.run(None, {"image": x})
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            session.run(None, {"image": x})
            times.append((time.perf_counter() - t0) * 1000)
        ms = statistics.median(times)
        print(f"{'ort':<9} batch {batch:2d}: {ms:8.2f} ms per batch (median of {repeats}), {batch * 1000 / ms:7.1f} images/s",
              flush=True)


if __name__ == "__main__":
    main()
