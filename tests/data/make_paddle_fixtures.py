#!/usr/bin/env python3
"""Writes the PaddlePaddle parity fixtures that tests/test_paddle_weights.cpp checks our models against.

For every classification and multi-label model this engine names like a PaddleX model, PaddleClas's own model
code (PyPI's paddleclas, imported module by module so that none of its training dependencies are needed) builds
the network on PyPI's paddlepaddle; its parameters and BatchNorm statistics are set to seeded random values and
saved with paddle.save as <model>.pdparams, exactly as PaddleX saves a checkpoint. A seeded input and the
network's eval-mode output go to <model>.io.pdparams (a plain pickle, protocol 2, so the protocol-2 path of our
reader is exercised too). fixtures.json lists the models with their class counts and the versions used.

Why generated, not committed: ResNet50 and ResNet50_ML alone hold 25-31 M parameters (100+ MB of random
float32 that does not compress), and PaddleClas's ResNets have no width multiplier that would make a narrow
variant the same architecture. Generating all of them at test set-up (seconds on a CPU) keeps the repository
small and every fixture one command away:

    scripts/paddle_fixtures.sh     # .venv-paddle with PyPI's paddlepaddle 3.3.0 and paddleclas 2.6.0, then
                                   # .venv-paddle/bin/python tests/data/make_paddle_fixtures.py .paddle-fixtures

scripts/setup.sh --tests runs it. The small hand-made bad-input files in tests/data/pdparams/ are committed;
`--bad-inputs DIR` rewrites them.
"""
import argparse
import importlib
import json
import os
import pickle
import site
import sys
import types

import numpy as np

SEED = 20261124
NUM_CLASSES = 7
# Not square, so a transposed height and width would show.
INPUT_SHAPE = (2, 3, 64, 96)


def import_paddleclas():
    """PaddleClas's model modules without its package __init__ files, which import its whole training stack."""
    root = None
    for directory in site.getsitepackages() + [site.getusersitepackages()]:
        if os.path.isdir(os.path.join(directory, "paddleclas", "ppcls")):
            root = os.path.join(directory, "paddleclas")
    if root is None:
        sys.exit("paddleclas is not installed (pip install --no-deps paddleclas==2.6.0)")
    for name in ["ppcls", "ppcls.arch", "ppcls.arch.backbone", "ppcls.utils"]:
        package = types.ModuleType(name)
        package.__path__ = [os.path.join(root, *name.split("."))]
        sys.modules[name] = package
    # Only the pretrained-weight download of the model files needs ppcls.utils.save_load (and `requests`).
    save_load = types.ModuleType("ppcls.utils.save_load")

    def no_download(*args, **kwargs):
        raise RuntimeError("pretrained weights are never downloaded here")

    save_load.load_dygraph_pretrain = no_download
    save_load.load_dygraph_pretrain_from_url = no_download
    sys.modules["ppcls.utils.save_load"] = save_load
    importlib.import_module("ppcls.utils.logger").init_logger(log_level=40)  # errors only
    legendary = "ppcls.arch.backbone.legendary_models."
    return {
        "pp_lcnet": importlib.import_module(legendary + "pp_lcnet"),
        "mobilenet_v3": importlib.import_module(legendary + "mobilenet_v3"),
        "resnet": importlib.import_module(legendary + "resnet"),
        "gears": importlib.import_module("ppcls.arch.gears"),
    }


def models(pc):
    """Our model name -> a function building PaddleClas's network, as PaddleX's configs ask for it."""

    def ml(backbone, in_channels):
        # PaddleX's *_ML configs: Arch.use_ml_decoder with MLDecoder {query_num, in_channels}; one query per class.
        def build(class_num):
            model = backbone(class_num=class_num)
            pc["gears"].add_ml_decoder_head(model, {"class_num": class_num, "query_num": class_num, "in_channels": in_channels})
            return model
        return build

    return {
        "ResNet18": pc["resnet"].ResNet18,
        "ResNet34": pc["resnet"].ResNet34,
        "ResNet50": pc["resnet"].ResNet50,
        "MobileNetV3_small_x1_0": pc["mobilenet_v3"].MobileNetV3_small_x1_0,
        "MobileNetV3_large_x1_0": pc["mobilenet_v3"].MobileNetV3_large_x1_0,
        "PP-LCNet_x0_25": pc["pp_lcnet"].PPLCNet_x0_25,
        "PP-LCNet_x0_5": pc["pp_lcnet"].PPLCNet_x0_5,
        "PP-LCNet_x1_0": pc["pp_lcnet"].PPLCNet_x1_0,
        "PP-LCNet_x1_0_ML": ml(pc["pp_lcnet"].PPLCNet_x1_0, 1280),
        "ResNet50_ML": ml(pc["resnet"].ResNet50, 2048),
    }


def randomize(model, rng):
    """Every parameter and BatchNorm statistic to seeded values that keep activations of order one."""
    import paddle

    for name, tensor in model.state_dict().items():
        shape = tensor.shape
        if name.endswith("._mean"):
            value = rng.normal(0.0, 0.1, shape)
        elif name.endswith("._variance"):
            value = rng.uniform(0.5, 1.5, shape)
        elif len(shape) == 1 and "norm" not in name:  # BatchNorm scale and every bias
            value = rng.uniform(0.3, 0.7, shape) if name.endswith(".weight") else rng.normal(0.0, 0.1, shape)
        else:
            fan_in = int(np.prod(shape[1:])) if len(shape) == 4 else shape[0]
            value = rng.normal(0.0, np.sqrt(1.0 / max(fan_in, 1)), shape)
        tensor.set_value(paddle.to_tensor(value.astype(tensor.numpy().dtype)))


def write_fixtures(out_dir):
    import importlib.metadata

    import paddle

    paddle.set_device("cpu")
    os.makedirs(out_dir, exist_ok=True)
    pc = import_paddleclas()
    manifest = {"paddlepaddle": paddle.__version__, "paddleclas": importlib.metadata.version("paddleclas"),
                "num_classes": NUM_CLASSES, "input_shape": list(INPUT_SHAPE), "models": []}
    for index, (name, build) in enumerate(models(pc).items()):
        rng = np.random.default_rng(SEED + index)
        paddle.seed(SEED + index)
        model = build(class_num=NUM_CLASSES)
        randomize(model, rng)
        model.eval()
        image = rng.normal(0.0, 1.0, INPUT_SHAPE).astype("float32")
        with paddle.no_grad():
            logits = model(paddle.to_tensor(image)).numpy()
        paddle.save(model.state_dict(), os.path.join(out_dir, name + ".pdparams"))
        with open(os.path.join(out_dir, name + ".io.pdparams"), "wb") as f:
            pickle.dump({"image": image, "logits": logits}, f, protocol=2)
        manifest["models"].append({"name": name, "parameters": len(model.state_dict()),
                                   "max_abs_logit": float(np.abs(logits).max())})
        print(f"{name}: {len(model.state_dict())} tensors, logits {logits.shape}, max |logit| "
              f"{np.abs(logits).max():.3f}")
    with open(os.path.join(out_dir, "fixtures.json"), "w") as f:
        json.dump(manifest, f, indent=1)


def write_bad_inputs(out_dir):
    """Small malformed weight files, each for one error message of the reader."""
    os.makedirs(out_dir, exist_ok=True)
    good = {"fc.weight": np.arange(6, dtype="<f4").reshape(2, 3), "fc.bias": np.zeros(3, dtype="<f4")}
    data = pickle.dumps(good, protocol=4)

    def write(name, payload):
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(payload)

    write("good.pdparams", data)
    write("good_protocol2.pdparams", pickle.dumps(good, protocol=2))
    write("fortran_order.pdparams", pickle.dumps({"w": np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3))}, protocol=4))
    write("truncated.pdparams", data[: len(data) // 2])
    write("not_numpy.pdparams", pickle.dumps({"fc.weight": [[0.0, 1.0], [2.0, 3.0]]}, protocol=4))
    write("object_array.pdparams", pickle.dumps({"fc.weight": np.array([1, "a", None], dtype=object)}, protocol=4))
    write("big_endian.pdparams", pickle.dumps({"fc.weight": np.arange(4, dtype=">f4")}, protocol=4))
    write("complex.pdparams", pickle.dumps({"fc.weight": np.zeros(2, dtype=np.complex64)}, protocol=4))
    write("not_a_dict.pdparams", pickle.dumps([np.zeros(2, dtype="<f4")], protocol=4))

    class Exploit:  # what a malicious pickle does: call os.system when loaded
        def __reduce__(self):
            return (os.system, ("echo pwned > /tmp/paddlex_pwned",))

    write("calls_os_system.pdparams", pickle.dumps({"fc.weight": Exploit()}, protocol=4))
    # The size check: the shape (BININT1 4, TUPLE1) is patched to claim 5 elements; the bytes hold 4.
    four = pickle.dumps({"w": np.arange(4, dtype="<f4")}, protocol=4)
    if four.count(b"K\x04\x85") != 1:
        sys.exit("numpy's pickle layout changed: size_mismatch.pdparams needs another patch")
    write("size_mismatch.pdparams", four.replace(b"K\x04\x85", b"K\x05\x85"))
    # A global called and its result dropped: refused for naming the global, not only where it would be used.
    write("calls_and_pops.pdparams", b"\x80\x04cposix\nsystem\n0" + data[2:])
    write("empty_protocol2.pdparams", pickle.dumps({"e": np.zeros((0, 3), dtype="<f4")}, protocol=2))
    write("scalar.pdparams", pickle.dumps({"s": np.array(2.5, dtype="<f4")}, protocol=4))
    write("uint16.pdparams", pickle.dumps({"w": np.zeros(2, dtype="<u2")}, protocol=4))  # Paddle's bfloat16
    write("optimizer.pdopt", pickle.dumps({"fc.weight_moment1_0": np.zeros(3, dtype="<f4")}, protocol=4))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", nargs="?", help="where the model fixtures go (e.g. .paddle-fixtures)")
    parser.add_argument("--bad-inputs", help="also (re)write the hand-made bad-input files into this directory")
    args = parser.parse_args()
    if args.bad_inputs:
        write_bad_inputs(args.bad_inputs)
    if args.out_dir:
        write_fixtures(args.out_dir)


if __name__ == "__main__":
    main()
