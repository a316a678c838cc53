"""Runs ONNX files in onnxruntime for tests/test_onnx_export.cpp: an independent runtime of our exports.

usage: run_onnxruntime.py CASES_JSON
CASES_JSON lists {"model", "input", "input_name", "shape", "output", "output_name"}: raw float32 files (C order);
each case's output is written to its "output" file.
"""
import json
import sys

import numpy as np
import onnxruntime as ort


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    for case in cases:
        session = ort.InferenceSession(case["model"], options, providers=["CPUExecutionProvider"])
        x = np.fromfile(case["input"], dtype=np.float32).reshape(case["shape"])
        (y,) = session.run([case["output_name"]], {case["input_name"]: x})
        np.ascontiguousarray(y, dtype=np.float32).tofile(case["output"])


if __name__ == "__main__":
    main()
