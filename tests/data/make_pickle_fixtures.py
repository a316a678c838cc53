#!/usr/bin/python3
"""Makes the torch.save fixture files that tests/test_pytorch_pickle.cpp reads (paddlex/trainers/pytorch_pickle.h).

How the committed fixtures were made -- the tests never run this (they must not need Python):

    /usr/bin/python3 tests/data/make_pickle_fixtures.py tests/data/pytorch_pickle

with Debian's python3-torch 1.13. Every tensor is built from torch.arange with the rule in `ar` so the C++
test can compute the expected values; the C++ test hard-codes names, dtypes, shapes and that rule.
"""
import argparse
import collections
import fractions
import io
import os
import pickle
import struct
import sys
import zipfile

import torch


def ar(shape, dtype=torch.float32, scale=1.0, offset=0.0):
    """(arange(numel) * scale + offset) in float64, cast to dtype, reshaped. Mirrored by `ar` in the C++ test."""
    numel = 1
    for s in shape:
        numel *= s
    return (torch.arange(numel, dtype=torch.float64) * scale + offset).to(dtype).reshape(shape)


def records_of(path):
    """Records of a torch.save zip, names without the archive prefix (the writer adds its own and 'version')."""
    with zipfile.ZipFile(path) as z:
        out = {}
        for name in z.namelist():
            rel = name.split("/", 1)[1]
            if rel != "version":
                out[rel] = z.read(name)
        return out


def write_zip(path, records):
    writer = torch._C.PyTorchFileWriter(path)
    for name, data in records.items():
        writer.write_record(name, data, len(data))
    writer.write_end_of_file()


def rezip(src, dst, edit_pkl=lambda b: b, drop=()):
    recs = records_of(src)
    recs["data.pkl"] = edit_pkl(recs["data.pkl"])
    for name in drop:
        del recs[name]
    write_zip(dst, recs)


class Asm:
    """A tiny pickle assembler for the hand-made fixture that exercises opcodes Python's pickler rarely emits."""

    def __init__(self):
        self.out = bytearray()
        self.memo = 0  # MEMOIZE index = number of memo entries so far

    def op(self, code, payload=b""):
        self.out += code + payload
        return self

    def s(self, text, kind="X"):
        b = text.encode()
        if kind == "X":
            return self.op(pickle.BINUNICODE, struct.pack("<I", len(b)) + b)
        if kind == "short":
            return self.op(pickle.SHORT_BINUNICODE, bytes([len(b)]) + b)
        return self.op(pickle.BINUNICODE8, struct.pack("<Q", len(b)) + b)

    def glob(self, module, name):
        return self.op(pickle.GLOBAL, f"{module}\n{name}\n".encode())

    def i1(self, v):
        return self.op(pickle.BININT1, bytes([v]))

    def memoize(self):
        self.memo += 1
        return self.op(pickle.MEMOIZE)

    def binput(self, key):
        self.memo += 1
        return self.op(pickle.BINPUT, bytes([key]))

    def long_binput(self, key):
        self.memo += 1
        return self.op(pickle.LONG_BINPUT, struct.pack("<I", key))


def handmade(path):
    """{'model': OrderedDict(t=2x2 view, t2=offset view via torch.Size), 'junk': [many kinds]} over one storage."""
    a = Asm()
    a.op(pickle.PROTO, b"\x02").op(pickle.FRAME, struct.pack("<Q", 0))
    a.op(pickle.EMPTY_DICT).binput(0)                     # memo 0: top dict
    a.op(pickle.MARK)
    a.s("model", "short")
    a.glob("collections", "OrderedDict").op(pickle.EMPTY_TUPLE).op(pickle.NEWOBJ).long_binput(300)
    # 't': _rebuild_tensor_v2 via STACK_GLOBAL, memoized (memo index 2)
    a.s("t", "8")
    a.s("torch._utils", "short").s("_rebuild_tensor_v2", "short").op(pickle.STACK_GLOBAL)
    rebuild_key = a.memo
    a.memoize()
    a.op(pickle.MARK)
    a.op(pickle.MARK).s("storage").glob("torch", "FloatStorage").s("0").s("cpu").i1(4).op(pickle.TUPLE)
    a.op(pickle.BINPERSID)
    a.i1(0)
    a.i1(2).i1(2).op(pickle.TUPLE2)
    a.i1(2).i1(1).op(pickle.TUPLE2)
    a.op(pickle.NEWFALSE)
    a.glob("collections", "OrderedDict").op(pickle.EMPTY_TUPLE).op(pickle.REDUCE)
    a.op(pickle.TUPLE).op(pickle.REDUCE)
    a.op(pickle.SETITEM)
    # 't2': same storage, offset 1, size given as torch.Size((3,)), function fetched with LONG_BINGET
    a.s("t2")
    a.op(pickle.LONG_BINGET, struct.pack("<I", rebuild_key))
    a.op(pickle.MARK)
    a.op(pickle.MARK).s("storage").glob("torch", "FloatStorage").s("0").s("cpu").i1(4).op(pickle.TUPLE)
    a.op(pickle.BINPERSID)
    a.i1(1)
    a.glob("torch", "Size").i1(3).op(pickle.TUPLE1).op(pickle.TUPLE1).op(pickle.REDUCE)
    a.i1(1).op(pickle.TUPLE1)
    a.op(pickle.NEWTRUE)
    a.glob("collections", "OrderedDict").op(pickle.EMPTY_TUPLE).op(pickle.REDUCE)
    a.op(pickle.TUPLE).op(pickle.REDUCE)
    a.op(pickle.SETITEM)
    # the OrderedDict's state (as torch.save writes _metadata): BUILD on a dict is ignored
    a.op(pickle.EMPTY_DICT).s("_metadata").op(pickle.EMPTY_DICT).op(pickle.SETITEM).op(pickle.BUILD)
    # 'junk': values the reader must parse and ignore next to a wrapper
    a.s("junk")
    a.op(pickle.EMPTY_LIST).memoize()
    a.i1(1).op(pickle.APPEND)
    a.op(pickle.MARK)
    a.op(pickle.BININT2, struct.pack("<H", 513))
    a.op(pickle.BININT, struct.pack("<i", -70000))
    a.op(pickle.LONG1, bytes([6]) + (2**40).to_bytes(6, "little", signed=True))
    a.op(pickle.LONG1, bytes([2]) + (-129).to_bytes(2, "little", signed=True))
    a.op(pickle.LONG1, bytes([0]))
    a.op(pickle.BINFLOAT, struct.pack(">d", 1.5))
    a.op(pickle.NEWTRUE).op(pickle.NEWFALSE).op(pickle.NONE)
    a.op(pickle.SHORT_BINSTRING, b"\x03abc").op(pickle.BINSTRING, struct.pack("<i", 2) + b"de")
    a.op(pickle.SHORT_BINBYTES, b"\x01x").op(pickle.BINBYTES, struct.pack("<I", 2) + b"yz")
    a.i1(1).i1(2).i1(3).op(pickle.TUPLE3)
    a.i1(5).op(pickle.DUP).op(pickle.POP)                 # DUP then POP leaves one 5
    a.op(pickle.MARK).i1(9).i1(9).op(pickle.POP_MARK)      # pushes nothing
    a.op(pickle.BINGET, bytes([0]))                        # the top dict itself (a cycle)
    a.op(pickle.LONG_BINGET, struct.pack("<I", 300))       # the 'model' OrderedDict
    a.glob("torch", "device").s("cuda").i1(1).op(pickle.TUPLE2).op(pickle.REDUCE)
    a.op(pickle.APPENDS)
    a.op(pickle.SETITEMS)
    a.op(pickle.STOP)
    data = struct.pack("<4f", 0.0, 1.0, 2.0, 3.0)
    write_zip(path, {"data.pkl": bytes(a.out), "data/0": data})


def main(out):
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name)
    torch.manual_seed(0)

    # OrderedDict state_dict of a small Sequential: entry i holds ar(shape, dtype, 0.5, i).
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.Linear(4, 2))
    sd = model.state_dict()
    with torch.no_grad():
        for i, (name, t) in enumerate(sd.items()):
            t.copy_(ar(t.shape, t.dtype, 0.5, i))
    torch.save(sd, p("sequential_state_dict.pt"))
    torch.save(sd, p("protocol4.pt"), pickle_protocol=4)

    torch.save({"x": ar((5,))}, p("plain_dict_one.pt"))  # one item: SETITEM

    inner = collections.OrderedDict([("fc.weight", ar((2, 3))), ("fc.bias", ar((2,), offset=10))])
    torch.save({"state_dict": inner, "epoch": 3, "best_acc": 0.75, "arch": "resnet18",
                "flags": [True, False, None], "shape": torch.Size([2, 3]), "device": torch.device("cuda", 0),
                "args": argparse.Namespace(lr=0.1), "big": 2**40, "neg": -5, "pair": (1, 2.5),
                "blob": b"\x00\x01"}, p("wrapper_state_dict.pt"))
    torch.save({"epoch": 3, "model": {"a": ar((2,), offset=1)}}, p("wrapper_model.pt"))

    torch.save(collections.OrderedDict([("module.fc.weight", ar((2, 2))), ("module.fc.bias", ar((2,), offset=4))]),
               p("module_prefix.pt"))

    base = ar((4, 6))
    torch.save({"base": base, "view": base[1:, ::2], "transposed": base.t()}, p("strided_view.pt"))

    torch.save({"half": ar((2, 3), torch.float16, 0.5), "bool": torch.arange(5) % 2 == 0,
                "bfloat16": ar((4,), torch.bfloat16), "float64": ar((3,), torch.float64, 0.25),
                "int64": ar((2, 2), torch.int64, 1, 2**40), "int32": ar((4,), torch.int32, 1, -2),
                "int16": ar((3,), torch.int16, 1, -300), "int8": ar((4,), torch.int8, 1, -2),
                "uint8": ar((4,), torch.uint8, 1, 250), "empty": torch.zeros(0, 3), "scalar": torch.tensor(2.5)},
               p("dtypes.pt"))

    torch.save({"p": torch.nn.Parameter(ar((2, 2))), "q": torch.nn.Parameter(ar((3,), offset=1), requires_grad=False)},
               p("parameters.pt"))

    # What newer torch writes for a raw untyped storage, on a CUDA location (loaded to the CPU as uint8).
    torch.save({"u": ar((2, 3), torch.uint8)}, p("tmp.pt"))
    rezip(p("tmp.pt"), p("untyped_storage_cuda.pt"),
          edit_pkl=lambda b: b.replace(b"ctorch\nByteStorage\n", b"ctorch.storage\nUntypedStorage\n")
          .replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0"))

    handmade(p("handmade_ops.pt"))

    # Files that must be rejected with a clear reason.
    torch.save({"x": ar((3,))}, p("legacy_format.pt"), _use_new_zipfile_serialization=False)
    write_zip(p("unsupported_opcode.pt"), {"data.pkl": pickle.dumps({"a": 1}, protocol=0)})
    torch.save({"w": ar((2,)), "f": fractions.Fraction(1, 3)}, p("unsupported_global.pt"))
    rezip(p("plain_dict_one.pt"), p("missing_record.pt"), drop=["data/0"])
    torch.save({"w": ar((2,)), "epoch": 3}, p("not_tensor.pt"))
    torch.save(torch.nn.Linear(2, 2), p("whole_module.pt"))
    torch.jit.script(torch.nn.Linear(2, 2)).save(p("torchscript.pt"))
    os.remove(p("tmp.pt"))

    # Sanity: what loads in Python loads as intended.
    check = torch.load(p("handmade_ops.pt"))
    assert check["model"]["t"].tolist() == [[0.0, 1.0], [2.0, 3.0]] and check["model"]["t2"].tolist() == [1, 2, 3]
    assert torch.load(p("untyped_storage_cuda.pt"), map_location="cpu")["u"].dtype == torch.uint8
    for name in sorted(os.listdir(out)):
        size = os.path.getsize(p(name))
        assert size < 20000, (name, size)
        print(f"{size:6d}  {name}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "pytorch_pickle"))
