#!/usr/bin/env python3
"""Writes the PaddlePaddle parity fixtures of the PP-OCRv4 text recognition and text detection models.

For PP-OCRv4_mobile_rec, PP-OCRv4_server_rec, PP-OCRv4_mobile_det and PP-OCRv4_server_det, the network is built
on PyPI's paddlepaddle from the Architecture section of PaddleOCR's own configs (configs/rec/PP-OCRv4/*.yml,
configs/det/PP-OCRv4/*.yml, copied below as ARCHITECTURES), its parameters are set to seeded random values and
its BatchNorm statistics to those of a seeded random batch (see randomize()), and it is saved with
paddle.save(model.state_dict()) as <model>.pdparams, which is what a
PaddleOCR or PaddleX checkpoint is (keys like backbone.conv1.conv.weight, head.ctc_encoder.encoder.conv1.norm._mean,
head.gtc_head.decoder.0.self_attn.qkv.weight, neck.ins_conv.0.in_conv.weight). <model>.keys.txt lists every key with
its shape and dtype, so that a port can be checked name by name.

Why the networks are written out here and not imported: no package on PyPI ships PaddleOCR's training-side model
code (ppocr/modeling). The paddleocr wheels 2.6.1.3, 2.7.3, 2.8.1, 2.9.1 and 2.10.0 and the 2.10.0 sdist carry
ppocr/data, postprocess and utils but no modeling (PaddleOCR's packaging leaves it out), and the 3.x wheels are a
thin layer over paddlex, whose wheel has none either. So
the Paddle layers below re-state PaddleOCR's modules (PPLCNetV3 and PPHGNet_small in their rec and det variants,
the SVTR sequence encoder, CTCHead, NRTRHead's Transformer, MultiHead, RSEFPN, LKPAN with IntraCLBlock, DBHead,
PFHeadLocal) with PaddleOCR's attribute names, its order of operations and its eval/train branches. Where a
PaddleOCR checkout is at hand, `--paddleocr DIR` builds every model a second time from PaddleOCR's own files
(ppocr/modeling/..., imported module by module with stub package __init__ files, as the PaddleClas fixtures do),
loads the same state dict into it and fails unless the key lists, the shapes and every saved output agree. That
check passed against PaddleOCR's main branch of 2025-12 (commit 8853b21c), whose modeling files for these models
have not changed since release 2.8 apart from training-only NaN guards in DBHead.

The character dict is small: the 36 characters 0-9a-z. PaddleOCR's CTCLabelDecode adds a blank in front and, with
use_space_char, a space at the end, so the CTC head has 38 classes, and MultiHead gets out_channels_list
{CTCLabelDecode: 38, NRTRLabelDecode: 41}, as tools/train.py sets it (NRTR's Transformer adds one more: a vocabulary
of 42).

<model>.io.pdparams is a plain pickle (protocol 2) of numpy arrays:
  rec: input [2,3,48,160] (uniform in [-1,1]); backbone [2,C,1,20] (the eval-mode avg_pool2d([3,2]) output, C 480
       or 1024); neck [2,20,120] (head.ctc_encoder: the SVTR encoder and Im2Seq); output [2,20,38] (the eval-mode
       model output: the CTC head's softmax).
  det: input [1,3,96,128]; backbone_0..backbone_3 (the four feature maps the backbone returns, strides 4-32);
       neck (the FPN output, [1,96,24,32] or [1,256,24,32]); output [1,1,96,128] (head(...)["maps"] in eval mode:
       the shrink map for DBHead, 0.5*(shrink map + CBN map) for PFHeadLocal).
PP-OCRv4_mobile_rec.train.pdparams is one train-mode forward of the saved mobile rec model with every dropout set
to p=0 (so that it is deterministic; BatchNorm then normalizes with the batch statistics and updates its running
ones: running = 0.9 running + 0.1 batch, with the biased batch variance): input [2,3,32,320] (train pooling
adaptive_avg_pool2d([1,40]) gives 40 steps); label_ctc, label_gtc and length (int64, as MultiLabelEncode makes
them for "ocr" and "text2024"); the outputs MultiHead returns in training: ctc [2,40,38] (logits, no softmax),
ctc_neck [2,40,120] and gtc [2,9,42] (NRTR logits for <s> and the 8 characters of the longer text; the shorter
one's input ends in padding tokens 0, which Paddle's Embedding(padding_idx=0) maps to zeros); and
bn_after.<key> for the running statistics of backbone.conv1.bn and head.ctc_encoder.encoder.conv1.norm after that
forward.
fixtures.json lists the models, their entries and shapes, the dict, and the versions used.

    scripts/paddle_fixtures.sh    # runs .venv-paddle/bin/python tests/data/make_ocr_fixtures.py .paddle-fixtures/ocr
"""
import argparse
import copy
import importlib
import json
import math
import os
import pickle
import re
import sys
import types

import numpy as np
import paddle
import paddle.nn.functional as F
from paddle import nn

SEED = 20261125
CHARACTERS = "0123456789abcdefghijklmnopqrstuvwxyz"
CTC_CLASSES = 1 + len(CHARACTERS) + 1  # blank, the dict, the space use_space_char appends
NRTR_CLASSES = CTC_CLASSES + 3  # out_channels_list["NRTRLabelDecode"] in tools/train.py
MAX_TEXT_LENGTH = 25
REC_INPUT = (2, 3, 48, 160)  # eval height must be 48; 160 wide gives 20 time steps
DET_INPUT = (1, 3, 96, 128)  # multiples of 32, not square
TRAIN_INPUT = (2, 3, 32, 320)  # one of MultiScaleSampler's train scales
TRAIN_TEXTS = ["ocr", "text2024"]  # the short one puts padding (0) tokens into the NRTR input

# The Architecture sections of PaddleOCR's configs/{rec,det}/PP-OCRv4/PP-OCRv4_{mobile,server}_{rec,det}.yml, plus
# the out_channels_list tools/train.py adds for MultiHead.
_REC_HEAD = {
    "name": "MultiHead",
    "head_list": [
        {"CTCHead": {"Neck": {"name": "svtr", "dims": 120, "depth": 2, "hidden_dims": 120, "kernel_size": [1, 3],
                              "use_guide": True},
                     "Head": {"fc_decay": 0.00001}}},
        {"NRTRHead": {"nrtr_dim": 384, "max_text_length": MAX_TEXT_LENGTH}},
    ],
    "out_channels_list": {"CTCLabelDecode": CTC_CLASSES, "NRTRLabelDecode": NRTR_CLASSES},
}
ARCHITECTURES = {
    "PP-OCRv4_mobile_rec": {"model_type": "rec", "algorithm": "SVTR_LCNet", "Transform": None,
                            "Backbone": {"name": "PPLCNetV3", "scale": 0.95}, "Head": _REC_HEAD},
    "PP-OCRv4_server_rec": {"model_type": "rec", "algorithm": "SVTR_HGNet", "Transform": None,
                            "Backbone": {"name": "PPHGNet_small"}, "Head": _REC_HEAD},
    "PP-OCRv4_mobile_det": {"model_type": "det", "algorithm": "DB", "Transform": None,
                            "Backbone": {"name": "PPLCNetV3", "scale": 0.75, "det": True},
                            "Neck": {"name": "RSEFPN", "out_channels": 96, "shortcut": True},
                            "Head": {"name": "DBHead", "k": 50, "fix_nan": True}},
    "PP-OCRv4_server_det": {"model_type": "det", "algorithm": "DB", "Transform": None,
                            "Backbone": {"name": "PPHGNet_small", "det": True},
                            "Neck": {"name": "LKPAN", "out_channels": 256, "intracl": True},
                            "Head": {"name": "PFHeadLocal", "k": 50, "mode": "large", "fix_nan": True}},
}


# ---- PaddleOCR's layers, re-stated (attribute names are the state-dict names) --------------------------------------

class ConvBN(nn.Layer):
    """Conv2D without bias, BatchNorm (eps 1e-5), then `act` if given. The BatchNorm is called `bn` in the
    backbones and the det heads (rec_lcnetv3.ConvBNLayer, rec_hgnet.ConvBNAct, det_mobilenet_v3.ConvBNLayer) and
    `norm` in the SVTR neck (rec_svtrnet.ConvBNLayer)."""

    def __init__(self, cin, cout, kernel, stride=1, padding=None, groups=1, act=None, norm="bn"):
        super().__init__()
        self.conv = nn.Conv2D(cin, cout, kernel, stride, (kernel - 1) // 2 if padding is None else padding,
                              groups=groups, bias_attr=False)
        setattr(self, norm, nn.BatchNorm2D(cout))
        self._norm, self._act = norm, act

    def forward(self, x):
        x = getattr(self, self._norm)(self.conv(x))
        return self._act(x) if self._act is not None else x


class LearnableAffineBlock(nn.Layer):
    """y = scale * x + bias with two scalar ([1]) parameters."""

    def __init__(self):
        super().__init__()
        self.scale = self.create_parameter([1], default_initializer=nn.initializer.Constant(1.0))
        self.bias = self.create_parameter([1], default_initializer=nn.initializer.Constant(0.0))

    def forward(self, x):
        return self.scale * x + self.bias


class HardswishLAB(nn.Layer):
    """rec_lcnetv3.Act: hardswish, then a LearnableAffineBlock (`lab`)."""

    def __init__(self):
        super().__init__()
        self.lab = LearnableAffineBlock()

    def forward(self, x):
        return self.lab(F.hardswish(x))


class LearnableRepLayer(nn.Layer):
    """Sum of: an identity BatchNorm (only when cout == cin and stride is the int 1), a 1x1 ConvBN (only when
    kernel > 1) and 4 kernel x kernel ConvBNs, in that order; then `lab`, then `act` unless stride is the int 2
    (a tuple stride such as (2, 1) is != 2, so every rec layer has the activation)."""

    def __init__(self, cin, cout, kernel, stride, groups=1, branches=4):
        super().__init__()
        self.stride = stride
        self.identity = nn.BatchNorm2D(cin) if cout == cin and stride == 1 else None
        self.conv_kxk = nn.LayerList([ConvBN(cin, cout, kernel, stride, groups=groups) for _ in range(branches)])
        self.conv_1x1 = ConvBN(cin, cout, 1, stride, groups=groups) if kernel > 1 else None
        self.lab = LearnableAffineBlock()
        self.act = HardswishLAB()

    def forward(self, x):
        out = 0
        if self.identity is not None:
            out += self.identity(x)
        if self.conv_1x1 is not None:
            out += self.conv_1x1(x)
        for conv in self.conv_kxk:
            out += conv(x)
        out = self.lab(out)
        return self.act(out) if self.stride != 2 else out


class SqueezeExcite(nn.Layer):
    """Global average pool, 1x1 conv C -> C/4 (bias), ReLU, 1x1 conv C/4 -> C (bias), hardsigmoid, x * s.
    rec_lcnetv3.SELayer's hardsigmoid is nn.Hardsigmoid (slope 1/6); det_mobilenet_v3.SEModule (RSEFPN) uses
    slope 0.2."""

    def __init__(self, channels, slope=0.1666667):
        super().__init__()
        self.conv1 = nn.Conv2D(channels, channels // 4, 1)
        self.conv2 = nn.Conv2D(channels // 4, channels, 1)
        self._slope = slope

    def forward(self, x):
        s = F.relu(self.conv1(F.adaptive_avg_pool2d(x, 1)))
        return x * F.hardsigmoid(self.conv2(s), slope=self._slope, offset=0.5)


class LCNetV3Block(nn.Layer):
    def __init__(self, cin, cout, stride, kernel, use_se):
        super().__init__()
        self.dw_conv = LearnableRepLayer(cin, cin, kernel, stride, groups=cin)
        self.se = SqueezeExcite(cin) if use_se else None
        self.pw_conv = LearnableRepLayer(cin, cout, 1, 1)

    def forward(self, x):
        x = self.dw_conv(x)
        if self.se is not None:
            x = self.se(x)
        return self.pw_conv(x)


# (kernel, in, out, stride, SE) per block of blocks2..blocks6, before scaling: rec_lcnetv3.NET_CONFIG_{rec,det}
LCNETV3_REC = [[(3, 16, 32, 1, False)],
               [(3, 32, 64, 1, False), (3, 64, 64, 1, False)],
               [(3, 64, 128, (2, 1), False), (3, 128, 128, 1, False)],
               [(3, 128, 256, (1, 2), False)] + [(5, 256, 256, 1, False)] * 4,
               [(5, 256, 512, (2, 1), True), (5, 512, 512, 1, True), (5, 512, 512, (2, 1), False),
                (5, 512, 512, 1, False)]]
LCNETV3_DET = [[(3, 16, 32, 1, False)],
               [(3, 32, 64, 2, False), (3, 64, 64, 1, False)],
               [(3, 64, 128, 2, False), (3, 128, 128, 1, False)],
               [(3, 128, 256, 2, False)] + [(5, 256, 256, 1, False)] * 4,
               [(5, 256, 512, 2, True), (5, 512, 512, 1, True), (5, 512, 512, 1, False), (5, 512, 512, 1, False)]]


def make_divisible(value, divisor=16):
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class PPLCNetV3(nn.Layer):
    """conv1 (3x3 s2 ConvBN, no activation), blocks2..blocks6. rec: eval avg_pool2d([3,2]) (stride = kernel),
    train adaptive_avg_pool2d([1,40]). det: the outputs of blocks3..6 through the 1x1 convs (with bias)
    layer_list[0..3] to int([16,24,56,480] * scale) channels."""

    def __init__(self, scale=1.0, det=False):
        super().__init__()
        self.det = det
        config = LCNETV3_DET if det else LCNETV3_REC
        self.conv1 = ConvBN(3, make_divisible(16 * scale), 3, 2)
        for stage, blocks in enumerate(config, start=2):
            setattr(self, f"blocks{stage}", nn.Sequential(*[
                LCNetV3Block(make_divisible(cin * scale), make_divisible(cout * scale), stride, kernel, se)
                for kernel, cin, cout, stride, se in blocks]))
        if det:
            widths = [make_divisible(blocks[-1][2] * scale) for blocks in config[1:]]
            self.out_channels = [int(c * scale) for c in [16, 24, 56, 480]]
            self.layer_list = nn.LayerList([nn.Conv2D(w, c, 1) for w, c in zip(widths, self.out_channels)])
        else:
            self.out_channels = make_divisible(512 * scale)

    def forward(self, x):
        x = self.blocks2(self.conv1(x))
        outs = []
        for blocks in [self.blocks3, self.blocks4, self.blocks5, self.blocks6]:
            x = blocks(x)
            outs.append(x)
        if self.det:
            return [conv(out) for conv, out in zip(self.layer_list, outs)]
        return F.adaptive_avg_pool2d(x, [1, 40]) if self.training else F.avg_pool2d(x, [3, 2])


class ESEModule(nn.Layer):
    """Global average pool, 1x1 conv C -> C (bias), sigmoid, x * s."""

    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2D(channels, channels, 1)

    def forward(self, x):
        return x * F.sigmoid(self.conv(F.adaptive_avg_pool2d(x, 1)))


class HGBlock(nn.Layer):
    """layer_num 3x3 ConvBN+ReLU (`layers`), the concat of the input and every layer output, a 1x1 ConvBN+ReLU
    (`aggregation_conv`), ESE (`att`), + x when `identity` (every block of a stage but the first)."""

    def __init__(self, cin, mid, cout, layer_num, identity):
        super().__init__()
        self._identity = identity
        self.layers = nn.LayerList([ConvBN(cin if i == 0 else mid, mid, 3, act=F.relu) for i in range(layer_num)])
        self.aggregation_conv = ConvBN(cin + layer_num * mid, cout, 1, act=F.relu)
        self.att = ESEModule(cout)

    def forward(self, x):
        outs = [x]
        for layer in self.layers:
            outs.append(layer(outs[-1]))
        y = self.att(self.aggregation_conv(paddle.concat(outs, axis=1)))
        return y + x if self._identity else y


class HGStage(nn.Layer):
    """`downsample`: a depthwise 3x3 ConvBN without activation (when the stage has one), then `blocks`."""

    def __init__(self, cin, mid, cout, blocks, downsample, stride, layer_num):
        super().__init__()
        self.downsample = ConvBN(cin, cin, 3, stride, groups=cin) if downsample else None
        self.blocks = nn.Sequential(*[HGBlock(cin if b == 0 else cout, mid, cout, layer_num, identity=b > 0)
                                      for b in range(blocks)])

    def forward(self, x):
        return self.blocks(self.downsample(x) if self.downsample is not None else x)


# (in, mid, out, blocks, downsample, stride) per stage: rec_hgnet.PPHGNet_small's stage_config_{rec,det}
HGNET_SMALL_REC = [(128, 128, 256, 1, True, [2, 1]), (256, 160, 512, 1, True, [1, 2]),
                   (512, 192, 768, 2, True, [2, 1]), (768, 224, 1024, 1, True, [2, 1])]
HGNET_SMALL_DET = [(128, 128, 256, 1, False, 2), (256, 160, 512, 1, True, 2),
                   (512, 192, 768, 2, True, 2), (768, 224, 1024, 1, True, 2)]


class PPHGNetSmall(nn.Layer):
    """stem: 3x3 ConvBN+ReLU 3->64 s2, 64->64, 64->128; det adds max_pool2d(3, 2, padding 1). Four stages of
    HG blocks with 6 layers. rec pools like PPLCNetV3; det returns the four stage outputs."""

    def __init__(self, det=False):
        super().__init__()
        self.det = det
        self.stem = nn.Sequential(*[ConvBN(cin, cout, 3, 2 if i == 0 else 1, act=F.relu)
                                    for i, (cin, cout) in enumerate([(3, 64), (64, 64), (64, 128)])])
        config = HGNET_SMALL_DET if det else HGNET_SMALL_REC
        self.stages = nn.LayerList([HGStage(*stage, layer_num=6) for stage in config])
        self.out_channels = [stage[2] for stage in config] if det else config[-1][2]

    def forward(self, x):
        x = self.stem(x)
        if self.det:
            x = F.max_pool2d(x, kernel_size=3, stride=2, padding=1)
        outs = []
        for stage in self.stages:
            x = stage(x)
            outs.append(x)
        if self.det:
            return outs
        return F.adaptive_avg_pool2d(x, [1, 40]) if self.training else F.avg_pool2d(x, [3, 2])


class Mlp(nn.Layer):
    """fc1, activation, dropout, fc2, the same dropout."""

    def __init__(self, dim, hidden, act, drop):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(drop)
        self._act = act

    def forward(self, x):
        return self.drop(self.fc2(self.drop(self._act(self.fc1(x)))))


class SVTRAttention(nn.Layer):
    """rec_svtrnet.Attention with mixer Global: qkv Linear (bias), q scaled by head_dim^-0.5 before q.k^T,
    softmax, dropout, proj Linear, dropout."""

    def __init__(self, dim, heads, drop):
        super().__init__()
        self.heads, self.dim = heads, dim
        self.qkv = nn.Linear(dim, 3 * dim)
        self.attn_drop = nn.Dropout(drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(drop)

    def forward(self, x):
        head_dim = self.dim // self.heads
        qkv = self.qkv(x).reshape((0, -1, 3, self.heads, head_dim)).transpose((2, 0, 3, 1, 4))
        q, k, v = qkv[0] * head_dim ** -0.5, qkv[1], qkv[2]
        attn = self.attn_drop(F.softmax(q.matmul(k.transpose((0, 1, 3, 2))), axis=-1))
        return self.proj_drop(self.proj(attn.matmul(v).transpose((0, 2, 1, 3)).reshape((0, -1, self.dim))))


class SVTRBlock(nn.Layer):
    """rec_svtrnet.Block as EncoderWithSVTR builds it (prenorm=False, which is a pre-norm block):
    x += mixer(norm1(x)); x += mlp(norm2(x)); LayerNorm eps 1e-5, Swish in the MLP."""

    def __init__(self, dim, heads, mlp_ratio, drop):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, epsilon=1e-5)
        self.mixer = SVTRAttention(dim, heads, drop)
        self.norm2 = nn.LayerNorm(dim, epsilon=1e-5)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), F.swish, drop)

    def forward(self, x):
        x = x + self.mixer(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class EncoderWithSVTR(nn.Layer):
    """necks/rnn.EncoderWithSVTR (num_heads 8, qkv_bias, mlp_ratio 2, dropouts 0.1, drop_path 0). The input is
    kept as the shortcut h (detached with use_guide, which changes gradients only): conv1 (C -> C/8, kernel_size,
    Swish), conv2 (1x1 -> hidden_dims), flatten to [B, H*W, hidden], the blocks, LayerNorm eps 1e-6, back to
    [B, hidden, H, W], conv3 (1x1 -> C), concat [h, z], conv4 (2C -> C/8, kernel_size), conv1x1 (1x1 -> dims)."""

    def __init__(self, in_channels, dims, depth, hidden_dims, use_guide, kernel_size):
        super().__init__()
        pad = [kernel_size[0] // 2, kernel_size[1] // 2]
        self.use_guide = use_guide
        self.conv1 = ConvBN(in_channels, in_channels // 8, kernel_size, padding=pad, act=F.swish, norm="norm")
        self.conv2 = ConvBN(in_channels // 8, hidden_dims, 1, padding=0, act=F.swish, norm="norm")
        self.svtr_block = nn.LayerList([SVTRBlock(hidden_dims, 8, 2.0, 0.1) for _ in range(depth)])
        self.norm = nn.LayerNorm(hidden_dims, epsilon=1e-6)
        self.conv3 = ConvBN(hidden_dims, in_channels, 1, padding=0, act=F.swish, norm="norm")
        self.conv4 = ConvBN(2 * in_channels, in_channels // 8, kernel_size, padding=pad, act=F.swish, norm="norm")
        self.conv1x1 = ConvBN(in_channels // 8, dims, 1, padding=0, act=F.swish, norm="norm")
        self.out_channels = dims

    def forward(self, x):
        h = x.detach() if self.use_guide else x
        z = self.conv2(self.conv1(h))
        _, channels, height, width = z.shape
        z = z.flatten(2).transpose([0, 2, 1])
        for block in self.svtr_block:
            z = block(z)
        z = self.norm(z).reshape([0, height, width, channels]).transpose([0, 3, 1, 2])
        z = paddle.concat([h, self.conv3(z)], axis=1)
        return self.conv1x1(self.conv4(z))


class SequenceEncoder(nn.Layer):
    """necks/rnn.SequenceEncoder with encoder_type svtr: the encoder, then Im2Seq ([B,C,1,W] -> [B,W,C])."""

    def __init__(self, in_channels, **svtr):
        super().__init__()
        self.encoder = EncoderWithSVTR(in_channels, **svtr)
        self.out_channels = self.encoder.out_channels

    def forward(self, x):
        x = self.encoder(x)
        assert x.shape[2] == 1
        return x.squeeze(axis=2).transpose([0, 2, 1])


class CTCHead(nn.Layer):
    """fc: Linear(in, classes); softmax over the classes in eval mode, logits in training."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.fc = nn.Linear(in_channels, out_channels)

    def forward(self, x):
        y = self.fc(x)
        return y if self.training else F.softmax(y, axis=2)


class MultiheadAttention(nn.Layer):
    """rec_nrtr_head.MultiheadAttention: `qkv` for self attention, `q` and `kv` for cross attention;
    (q.k^T) * head_dim^-0.5 (+ mask), softmax, dropout (p 0), `out_proj`."""

    def __init__(self, dim, heads, self_attn):
        super().__init__()
        self.dim, self.heads, self._self = dim, heads, self_attn
        if self_attn:
            self.qkv = nn.Linear(dim, 3 * dim)
        else:
            self.q = nn.Linear(dim, dim)
            self.kv = nn.Linear(dim, 2 * dim)
        self.attn_drop = nn.Dropout(0.0)
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, query, key=None, mask=None):
        head_dim, n = self.dim // self.heads, query.shape[1]
        if self._self:
            qkv = self.qkv(query).reshape((0, n, 3, self.heads, head_dim)).transpose((2, 0, 3, 1, 4))
            q, k, v = qkv[0], qkv[1], qkv[2]
        else:
            q = self.q(query).reshape([0, n, self.heads, head_dim]).transpose([0, 2, 1, 3])
            kv = self.kv(key).reshape((0, key.shape[1], 2, self.heads, head_dim)).transpose((2, 0, 3, 1, 4))
            k, v = kv[0], kv[1]
        attn = q.matmul(k.transpose((0, 1, 3, 2))) * head_dim ** -0.5
        if mask is not None:
            attn += mask
        attn = self.attn_drop(F.softmax(attn, axis=-1))
        return self.out_proj(attn.matmul(v).transpose((0, 2, 1, 3)).reshape((0, n, self.dim)))


class TransformerDecoderBlock(nn.Layer):
    """Post-norm (LayerNorm eps 1e-5): norm1(x + self_attn), norm2(x + cross_attn(memory)), norm3(x + mlp);
    ReLU MLP; residual dropouts 0.1."""

    def __init__(self, dim, heads, ffn):
        super().__init__()
        self.self_attn = MultiheadAttention(dim, heads, True)
        self.norm1 = nn.LayerNorm(dim, epsilon=1e-5)
        self.dropout1 = nn.Dropout(0.1)
        self.cross_attn = MultiheadAttention(dim, heads, False)
        self.norm2 = nn.LayerNorm(dim, epsilon=1e-5)
        self.dropout2 = nn.Dropout(0.1)
        self.mlp = Mlp(dim, ffn, F.relu, 0.1)
        self.norm3 = nn.LayerNorm(dim, epsilon=1e-5)
        self.dropout3 = nn.Dropout(0.1)

    def forward(self, tgt, memory, self_mask):
        tgt = self.norm1(tgt + self.dropout1(self.self_attn(tgt, mask=self_mask)))
        tgt = self.norm2(tgt + self.dropout2(self.cross_attn(tgt, key=memory)))
        return self.norm3(tgt + self.dropout3(self.mlp(tgt)))


class Embeddings(nn.Layer):
    """nn.Embedding with padding_idx 0 (Paddle returns zeros for index 0, whatever the row holds), * sqrt(dim)."""

    def __init__(self, vocab, dim):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim, padding_idx=0)
        self._dim = dim

    def forward(self, x):
        return self.embedding(x) * math.sqrt(self._dim)


class PositionalEncoding(nn.Layer):
    """The sinusoid table as the persistable buffer `pe` [5000, 1, dim], added to [B, N, dim] inputs; dropout."""

    def __init__(self, dim, dropout, max_len=5000):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        pe = paddle.zeros([max_len, dim])
        position = paddle.arange(0, max_len, dtype=paddle.float32).unsqueeze(1)
        div_term = paddle.exp(paddle.arange(0, dim, 2).astype("float32") * (-math.log(10000.0) / dim))
        pe[:, 0::2] = paddle.sin(position * div_term)
        pe[:, 1::2] = paddle.cos(position * div_term)
        self.register_buffer("pe", pe.unsqueeze(0).transpose([1, 0, 2]))

    def forward(self, x):
        x = x.transpose([1, 0, 2])
        return self.dropout(x + self.pe[: x.shape[0], :]).transpose([1, 0, 2])


class Transformer(nn.Layer):
    """rec_nrtr_head.Transformer as MultiHead builds it: no encoder, 4 decoder blocks, nhead = dim / 32, ffn 4 dim,
    a vocabulary of out_channels + 1; tgt_word_prj has no bias. Only the training forward is written out (the
    eval-mode MultiHead returns the CTC branch alone)."""

    def __init__(self, dim, max_len, out_channels, layers=4):
        super().__init__()
        self.out_channels = out_channels + 1
        self.max_len = max_len
        self.embedding = Embeddings(self.out_channels, dim)
        self.positional_encoding = PositionalEncoding(dim, 0.1)
        self.decoder = nn.LayerList([TransformerDecoderBlock(dim, dim // 32, 4 * dim) for _ in range(layers)])
        self.tgt_word_prj = nn.Linear(dim, self.out_channels, bias_attr=False)

    def forward(self, memory, targets):
        label, length = targets[0], targets[1]
        tgt = label[:, : 2 + length.max()][:, :-1]  # <s> and the text, without the last token
        tgt = self.positional_encoding(self.embedding(tgt))
        size = tgt.shape[1]
        mask = paddle.triu(paddle.full([size, size], float("-inf"), dtype="float32"), diagonal=1)
        mask = (paddle.zeros([size, size], dtype="float32") + mask).unsqueeze([0, 1])
        for block in self.decoder:
            tgt = block(tgt, memory, mask)
        return self.tgt_word_prj(tgt)


class FCTranspose(nn.Layer):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.fc = nn.Linear(in_channels, out_channels, bias_attr=False)

    def forward(self, x):
        return self.fc(x.transpose([0, 2, 1]))


class MultiHead(nn.Layer):
    """heads/rec_multi_head.MultiHead with head_list [CTCHead, NRTRHead] (use_pool and use_pos off):
    ctc_encoder (SequenceEncoder) -> ctc_head; eval returns the CTC softmax alone. Training also runs
    before_gtc (Flatten(2), FCTranspose to nrtr_dim) and gtc_head (Transformer) on the backbone output."""

    def __init__(self, in_channels, out_channels_list, head_list):
        super().__init__()
        for entry in head_list:
            (name, args), = entry.items()
            if name == "CTCHead":
                neck = dict(args["Neck"])
                assert neck.pop("name") == "svtr" and set(args["Head"]) <= {"fc_decay"}
                self.ctc_encoder = SequenceEncoder(in_channels, **neck)
                self.ctc_head = CTCHead(self.ctc_encoder.out_channels, out_channels_list["CTCLabelDecode"])
            elif name == "NRTRHead":
                dim = args.get("nrtr_dim", 256)
                self.before_gtc = nn.Sequential(nn.Flatten(2), FCTranspose(in_channels, dim))
                self.gtc_head = Transformer(dim, args.get("max_text_length", 25),
                                            out_channels_list["NRTRLabelDecode"],
                                            args.get("num_decoder_layers", 4))
            else:
                raise NotImplementedError(name)

    def forward(self, x, targets=None):
        ctc_neck = self.ctc_encoder(x)
        ctc = self.ctc_head(ctc_neck)
        if not self.training:
            return ctc
        return {"ctc": ctc, "ctc_neck": ctc_neck, "gtc": self.gtc_head(self.before_gtc(x), targets[1:])}


class RSELayer(nn.Layer):
    """in_conv (k x k, padding k//2, no bias), then x + SE(x) with shortcut (SEModule: hardsigmoid slope 0.2)."""

    def __init__(self, cin, cout, kernel, shortcut):
        super().__init__()
        self.in_conv = nn.Conv2D(cin, cout, kernel, padding=kernel // 2, bias_attr=False)
        self.se_block = SqueezeExcite(cout, slope=0.2)
        self._shortcut = shortcut

    def forward(self, x):
        x = self.in_conv(x)
        return x + self.se_block(x) if self._shortcut else self.se_block(x)


def upsample(x, factor):
    return F.upsample(x, scale_factor=factor, mode="nearest", align_mode=1)


def top_down(ins_conv, inp_conv, x):
    """The FPN part both necks share: lateral convs, top-down sums with nearest x2 upsampling, output convs ->
    the maps of levels 5, 4, 3, 2."""
    c2, c3, c4, c5 = x
    in5, in4, in3, in2 = ins_conv[3](c5), ins_conv[2](c4), ins_conv[1](c3), ins_conv[0](c2)
    out4 = in4 + upsample(in5, 2)
    out3 = in3 + upsample(out4, 2)
    out2 = in2 + upsample(out3, 2)
    return inp_conv[3](in5), inp_conv[2](out4), inp_conv[1](out3), inp_conv[0](out2)


class RSEFPN(nn.Layer):
    """ins_conv[i] = RSELayer(C_i -> out, 1x1), inp_conv[i] = RSELayer(out -> out/4, 3x3); top-down sums with
    nearest x2 upsampling; the four maps upsampled to stride 4 and concatenated [p5, p4, p3, p2]."""

    def __init__(self, in_channels, out_channels, shortcut=True):
        super().__init__()
        self.out_channels = out_channels
        self.ins_conv = nn.LayerList([RSELayer(c, out_channels, 1, shortcut) for c in in_channels])
        self.inp_conv = nn.LayerList([RSELayer(out_channels, out_channels // 4, 3, shortcut) for _ in in_channels])

    def forward(self, x):
        p5, p4, p3, p2 = top_down(self.ins_conv, self.inp_conv, x)
        return paddle.concat([upsample(p5, 8), upsample(p4, 4), upsample(p3, 2), p2], axis=1)


class IntraCLBlock(nn.Layer):
    """necks/intracl.IntraCLBlock(reduce_factor 2), every conv with bias: 1x1 C -> C/2; three stages (7, 5, 3)
    each summing a k x k, a k x 1 and a 1 x k conv of the previous stage; 1x1 back to C, BatchNorm, ReLU; x + that."""

    def __init__(self, channels, reduce_factor=2):
        super().__init__()
        c = channels // reduce_factor
        self.conv1x1_reduce_channel = nn.Conv2D(channels, c, 1)
        self.conv1x1_return_channel = nn.Conv2D(c, channels, 1)
        for k in (7, 5, 3):
            setattr(self, f"v_layer_{k}x1", nn.Conv2D(c, c, (k, 1), padding=(k // 2, 0)))
        for k in (7, 5, 3):
            setattr(self, f"q_layer_1x{k}", nn.Conv2D(c, c, (1, k), padding=(0, k // 2)))
        for k in (7, 5, 3):
            setattr(self, f"c_layer_{k}x{k}", nn.Conv2D(c, c, (k, k), padding=(k // 2, k // 2)))
        self.bn = nn.BatchNorm2D(channels)

    def forward(self, x):
        y = self.conv1x1_reduce_channel(x)
        for k in (7, 5, 3):
            c_layer = getattr(self, f"c_layer_{k}x{k}")
            v_layer = getattr(self, f"v_layer_{k}x1")
            q_layer = getattr(self, f"q_layer_1x{k}")
            y = c_layer(y) + v_layer(y) + q_layer(y)
        return x + F.relu(self.bn(self.conv1x1_return_channel(y)))


class LKPAN(nn.Layer):
    """mode large: ins_conv[i] 1x1 C_i -> out, inp_conv[i] 9x9 out -> out/4, pan_head_conv[0..2] 3x3 s2,
    pan_lat_conv[i] 9x9 (all without bias); top-down as RSEFPN, then bottom-up pan3 = f3 + phc0(f2), ...; with
    intracl, incl4..incl1 on p5..p2; upsample and concat [p5, p4, p3, p2]."""

    def __init__(self, in_channels, out_channels, mode="large", intracl=False):
        super().__init__()
        assert mode == "large"
        inner = out_channels // 4
        self.out_channels = out_channels
        self.ins_conv = nn.LayerList([nn.Conv2D(c, out_channels, 1, bias_attr=False) for c in in_channels])
        self.inp_conv = nn.LayerList([nn.Conv2D(out_channels, inner, 9, padding=4, bias_attr=False)
                                      for _ in in_channels])
        self.pan_head_conv = nn.LayerList([nn.Conv2D(inner, inner, 3, padding=1, stride=2, bias_attr=False)
                                           for _ in in_channels[1:]])
        self.pan_lat_conv = nn.LayerList([nn.Conv2D(inner, inner, 9, padding=4, bias_attr=False)
                                          for _ in in_channels])
        self.intracl = intracl
        if intracl:
            for i in range(1, 5):
                setattr(self, f"incl{i}", IntraCLBlock(inner, reduce_factor=2))

    def forward(self, x):
        f5, f4, f3, f2 = top_down(self.ins_conv, self.inp_conv, x)
        pan3 = f3 + self.pan_head_conv[0](f2)
        pan4 = f4 + self.pan_head_conv[1](pan3)
        pan5 = f5 + self.pan_head_conv[2](pan4)
        p2, p3, p4, p5 = (self.pan_lat_conv[0](f2), self.pan_lat_conv[1](pan3), self.pan_lat_conv[2](pan4),
                          self.pan_lat_conv[3](pan5))
        if self.intracl:
            p5, p4, p3, p2 = self.incl4(p5), self.incl3(p4), self.incl2(p3), self.incl1(p2)
        return paddle.concat([upsample(p5, 8), upsample(p4, 4), upsample(p3, 2), p2], axis=1)


class DBMapHead(nn.Layer):
    """det_db_head.Head: conv1 3x3 C -> C/4 (no bias), conv_bn1 (BatchNorm + ReLU), conv2 ConvTranspose 2x2 s2
    (bias), conv_bn2 (BatchNorm + ReLU), conv3 ConvTranspose 2x2 s2 -> 1 (bias), sigmoid. f = the conv_bn2
    output, for PFHeadLocal."""

    def __init__(self, channels):
        super().__init__()
        c = channels // 4
        self.conv1 = nn.Conv2D(channels, c, 3, padding=1, bias_attr=False)
        self.conv_bn1 = nn.BatchNorm2D(c)
        self.conv2 = nn.Conv2DTranspose(c, c, 2, stride=2)
        self.conv_bn2 = nn.BatchNorm2D(c)
        self.conv3 = nn.Conv2DTranspose(c, 1, 2, stride=2)

    def forward(self, x, return_f=False):
        f = F.relu(self.conv_bn2(self.conv2(F.relu(self.conv_bn1(self.conv1(x))))))
        y = F.sigmoid(self.conv3(f))
        return (y, f) if return_f else y


class DBHead(nn.Layer):
    """binarize and thresh map heads; eval returns {"maps": shrink map}; training [shrink, threshold, binary]
    with binary = 1 / (1 + exp(-k (P - T))). (fix_nan only zeroes NaNs in training.)"""

    def __init__(self, in_channels, k=50, fix_nan=False):
        super().__init__()
        self.k = k
        self.binarize = DBMapHead(in_channels)
        self.thresh = DBMapHead(in_channels)

    def forward(self, x, targets=None):
        shrink = self.binarize(x)
        if not self.training:
            return {"maps": shrink}
        thresh = self.thresh(x)
        return {"maps": paddle.concat([shrink, thresh, paddle.reciprocal(1 + paddle.exp(-self.k * (shrink - thresh)))],
                                      axis=1)}


class LocalModule(nn.Layer):
    """last_3: ConvBN (3x3, padding 1, ReLU) of concat [shrink map, f]; last_1: 1x1 conv (bias) to 1 channel."""

    def __init__(self, cin, mid):
        super().__init__()
        self.last_3 = ConvBN(cin + 1, mid, 3, 1, padding=1, act=F.relu)
        self.last_1 = nn.Conv2D(mid, 1, 1)

    def forward(self, x, init_map):
        return self.last_1(self.last_3(paddle.concat([init_map, x], axis=1)))


class PFHeadLocal(DBHead):
    """DBHead plus cbn_layer (LocalModule on the nearest-x2-upsampled f of binarize); eval returns
    {"maps": 0.5 * (shrink map + sigmoid(cbn))}."""

    def __init__(self, in_channels, k=50, mode="small", fix_nan=False):
        super().__init__(in_channels, k)
        self.cbn_layer = LocalModule(in_channels // 4, in_channels // 4 if mode == "large" else in_channels // 8)

    def forward(self, x, targets=None):
        shrink, f = self.binarize(x, return_f=True)
        cbn = F.sigmoid(self.cbn_layer(upsample(f, 2), shrink))
        if not self.training:
            return {"maps": 0.5 * (shrink + cbn)}
        thresh = self.thresh(x)
        binary = paddle.reciprocal(1 + paddle.exp(-self.k * (shrink - thresh)))
        return {"maps": paddle.concat([cbn, thresh, binary], axis=1), "distance_maps": cbn, "cbn_maps": binary}


class BaseModel(nn.Layer):
    """architectures/base_model.BaseModel without a Transform: backbone, neck (det), head."""

    def __init__(self, config):
        super().__init__()
        config = copy.deepcopy(config)
        assert config.get("Transform") is None
        backbone = config["Backbone"]
        name = backbone.pop("name")
        if name == "PPLCNetV3":
            self.backbone = PPLCNetV3(**backbone)
        else:
            assert name == "PPHGNet_small"
            self.backbone = PPHGNetSmall(**backbone)
        channels = self.backbone.out_channels
        self.neck = None
        if config.get("Neck"):
            neck = config["Neck"]
            self.neck = {"RSEFPN": RSEFPN, "LKPAN": LKPAN}[neck.pop("name")](channels, **neck)
            channels = self.neck.out_channels
        head = config["Head"]
        self.head = {"MultiHead": MultiHead, "DBHead": DBHead, "PFHeadLocal": PFHeadLocal}[head.pop("name")](
            channels, **head)

    def forward(self, x, data=None):
        x = self.backbone(x)
        if self.neck is not None:
            x = self.neck(x)
        return self.head(x, targets=data)


# ---- PaddleOCR's own code, for --paddleocr ---------------------------------------------------------------------------

def import_paddleocr(root):
    """PaddleOCR's BaseModel from a checkout at `root`, without its package __init__ files (which import every
    model and the training stack): stub packages whose build_* functions look up only the classes used here."""
    if not os.path.isfile(os.path.join(root, "ppocr", "modeling", "architectures", "base_model.py")):
        sys.exit(f"{root} is not a PaddleOCR checkout (no ppocr/modeling/architectures/base_model.py)")
    for name in ["ppocr", "ppocr.modeling", "ppocr.modeling.transforms", "ppocr.modeling.backbones",
                 "ppocr.modeling.necks", "ppocr.modeling.heads", "ppocr.modeling.architectures"]:
        package = types.ModuleType(name)
        package.__path__ = [os.path.join(root, *name.split("."))]
        sys.modules[name] = package
    module = lambda name: importlib.import_module("ppocr.modeling." + name)  # noqa: E731
    classes = {"PPLCNetV3": module("backbones.rec_lcnetv3").PPLCNetV3,
               "PPHGNet_small": module("backbones.rec_hgnet").PPHGNet_small,
               "RSEFPN": module("necks.db_fpn").RSEFPN, "LKPAN": module("necks.db_fpn").LKPAN,
               "MultiHead": module("heads.rec_multi_head").MultiHead,
               "DBHead": module("heads.det_db_head").DBHead, "PFHeadLocal": module("heads.det_db_head").PFHeadLocal}

    def build(config, *model_type):
        config = dict(config)
        return classes[config.pop("name")](**config)

    for name, function in [("transforms", "build_transform"), ("backbones", "build_backbone"),
                           ("necks", "build_neck"), ("heads", "build_head")]:
        setattr(sys.modules["ppocr.modeling." + name], function, build)
    return module("architectures.base_model").BaseModel


# ---- fixtures ------------------------------------------------------------------------------------------------------

def set_dropout(model, p):
    for layer in model.sublayers():
        if isinstance(layer, nn.Dropout):
            layer.p = p


def randomize(model, rng, input_shape):
    """Every parameter and BatchNorm statistic to seeded values that keep activations of order one through the
    deep stacks, so that a wrong operation shows as a large difference rather than vanishing in the noise.

    Parameters first: weights N(0, 1/fan_in) (for the stride-2 ConvTransposes [in, out, 2, 2] of the det map
    heads fan_in = in); 4x that std for the CTC fc and 2x for the last convs of the det map heads, so that the class
    probabilities and the maps spread out; BatchNorm and LayerNorm scales in [0.6, 1.4], but [0.2, 0.6] for the up
    to six BatchNorms whose outputs a LearnableRepLayer sums; LearnableAffineBlock scales in [0.8, 1.2]; biases
    N(0, 0.1). Random BatchNorm statistics would shrink or blow up the signal over 20-odd layers, so they are
    measured instead: one train-mode forward of a separate seeded batch of 8 with momentum 0 and dropout off sets
    every running mean and variance to that batch's statistics. Each variance is then floored at a tenth of its
    layer's median (a depthwise 1x1 branch can see an almost constant channel, and dividing by its tiny variance
    blows up any other input) and scaled by U(0.8, 1.25), and each mean moved by N(0, 0.1) standard deviations, so
    that no layer normalizes exactly. The positional-encoding table (a buffer) keeps its sinusoids."""
    for name, tensor in model.state_dict().items():
        shape = tensor.shape
        if name.endswith(".pe") or name.endswith("._mean") or name.endswith("._variance"):
            continue
        if name.endswith("lab.scale"):
            value = rng.uniform(0.8, 1.2, shape)
        elif len(shape) == 1 and name.endswith(".weight"):  # BatchNorm and LayerNorm scales
            rep_branch = re.search(r"\.(conv_kxk\.\d+\.bn|conv_1x1\.bn|identity)\.weight$", name)
            value = rng.uniform(0.2, 0.6, shape) if rep_branch else rng.uniform(0.6, 1.4, shape)
        elif len(shape) == 1:  # biases
            value = rng.normal(0.0, 0.1, shape)
        elif re.search(r"\.(binarize|thresh)\.conv[23]\.weight$", name):  # Conv2DTranspose
            gain = 2.0 if name.endswith("conv3.weight") else 1.0
            value = rng.normal(0.0, gain * np.sqrt(1.0 / shape[0]), shape)
        else:  # conv [out, in/groups, kh, kw], Linear [in, out], Embedding [vocab, dim]
            fan_in = int(np.prod(shape[1:])) if len(shape) == 4 else shape[0]
            gain = 4.0 if name == "head.ctc_head.fc.weight" else 2.0 if name == "head.cbn_layer.last_1.weight" else 1.0
            value = rng.normal(0.0, gain * np.sqrt(1.0 / max(fan_in, 1)), shape)
        tensor.set_value(paddle.to_tensor(value.astype(tensor.numpy().dtype)))

    norms = [layer for layer in model.sublayers() if isinstance(layer, (nn.BatchNorm2D, nn.BatchNorm))]
    for layer in norms:
        layer._momentum = 0.0
    dropouts = [(layer, layer.p) for layer in model.sublayers() if isinstance(layer, nn.Dropout)]
    set_dropout(model, 0.0)
    model.train()
    x = paddle.to_tensor(rng.uniform(-1.0, 1.0, (8,) + tuple(input_shape[1:])).astype("float32"))
    with paddle.no_grad():
        features = model.backbone(x)
        if model.neck is not None:
            model.head(model.neck(features))
        else:
            model.head.ctc_encoder(features)
    for layer in norms:
        layer._momentum = 0.9
        variance = layer._variance.numpy()
        variance = np.maximum(variance, 0.1 * np.median(variance)) * rng.uniform(0.8, 1.25, variance.shape)
        mean = layer._mean.numpy() + rng.normal(0.0, 0.1, variance.shape) * np.sqrt(variance)
        layer._mean.set_value(paddle.to_tensor(mean.astype("float32")))
        layer._variance.set_value(paddle.to_tensor(variance.astype("float32")))
    for layer, p in dropouts:
        layer.p = p
    model.eval()


def eval_outputs(model, config, image):
    """The saved eval-mode entries: input, the backbone output(s), the neck output and the model output."""
    x = paddle.to_tensor(image)
    with paddle.no_grad():
        features = model.backbone(x)
        entries = {"input": image}
        if config["model_type"] == "rec":
            entries["backbone"] = features.numpy()
            entries["neck"] = model.head.ctc_encoder(features).numpy()
            entries["output"] = model(x).numpy()
        else:
            for i, feature in enumerate(features):
                entries[f"backbone_{i}"] = feature.numpy()
            entries["neck"] = model.neck(features).numpy()
            entries["output"] = model(x)["maps"].numpy()
    return entries


def rec_labels(texts):
    """label_ctc, label_gtc and length as PaddleOCR's MultiLabelEncode makes them (CTCLabelEncode: blank 0, the
    dict from 1; NRTRLabelEncode: blank, <unk>, <s> = 2, </s> = 3, the dict from 4; both padded with 0 to 25)."""
    ctc = np.zeros((len(texts), MAX_TEXT_LENGTH), dtype="int64")
    gtc = np.zeros((len(texts), MAX_TEXT_LENGTH), dtype="int64")
    for i, text in enumerate(texts):
        ids = [CHARACTERS.index(c) + 1 for c in text]
        ctc[i, : len(ids)] = ids
        gtc[i, : len(ids) + 2] = [2] + [j + 3 for j in ids] + [3]
    return ctc, gtc, np.array([len(t) for t in texts], dtype="int64")


def train_outputs(model, rng):
    """One train-mode forward of a rec model with every dropout at p=0, and BatchNorm statistics after it."""
    set_dropout(model, 0.0)
    model.train()
    image = rng.uniform(-1.0, 1.0, TRAIN_INPUT).astype("float32")
    label_ctc, label_gtc, length = rec_labels(TRAIN_TEXTS)
    data = [paddle.to_tensor(label_ctc), paddle.to_tensor(label_gtc), paddle.to_tensor(length),
            paddle.to_tensor(np.ones(len(TRAIN_TEXTS), dtype="float32"))]
    with paddle.no_grad():
        out = model(paddle.to_tensor(image), data=data)
    entries = {"input": image, "label_ctc": label_ctc, "label_gtc": label_gtc, "length": length,
               "ctc": out["ctc"].numpy(), "ctc_neck": out["ctc_neck"].numpy(), "gtc": out["gtc"].numpy()}
    state = model.state_dict()
    for prefix in ["backbone.conv1.bn", "head.ctc_encoder.encoder.conv1.norm"]:
        for stat in ["_mean", "_variance"]:
            entries[f"bn_after.{prefix}.{stat}"] = state[f"{prefix}.{stat}"].numpy()
    model.eval()
    return entries


def check_against(reference, ours, config, entries, train_entries, name):
    """PaddleOCR's own network with the saved state dict `ours`: the same keys in the same order, the same shapes,
    and the same outputs."""
    theirs = reference.state_dict()
    if list(theirs) != list(ours):
        missing, extra = sorted(set(ours) - set(theirs)), sorted(set(theirs) - set(ours))
        sys.exit(f"{name}: state-dict keys differ from PaddleOCR's (only ours: {missing[:8]}, only theirs: "
                 f"{extra[:8]}; or in another order)")
    for key, value in ours.items():
        if list(theirs[key].shape) != list(value.shape):
            sys.exit(f"{name}: {key} is {list(value.shape)} here and {list(theirs[key].shape)} in PaddleOCR")
    reference.set_state_dict({k: paddle.to_tensor(v) for k, v in ours.items()})
    reference.eval()
    worst = 0.0
    for key, value in eval_outputs(reference, config, entries["input"]).items():
        worst = max(worst, float(np.abs(value - entries[key]).max()))
    if train_entries is not None:
        set_dropout(reference, 0.0)
        reference.train()
        data = [paddle.to_tensor(train_entries[k]) for k in ["label_ctc", "label_gtc", "length"]]
        data.append(paddle.to_tensor(np.ones(len(TRAIN_TEXTS), dtype="float32")))
        with paddle.no_grad():
            out = reference(paddle.to_tensor(train_entries["input"]), data=data)
        for key in ["ctc", "ctc_neck", "gtc"]:
            worst = max(worst, float(np.abs(out[key].numpy() - train_entries[key]).max()))
        state = reference.state_dict()
        for key, value in train_entries.items():
            if key.startswith("bn_after."):
                worst = max(worst, float(np.abs(state[key[len("bn_after."):]].numpy() - value).max()))
    if worst > 1e-5:
        sys.exit(f"{name}: outputs differ from PaddleOCR's by up to {worst:.3g}")
    print(f"{name}: PaddleOCR's own modules give the same keys, shapes and outputs (max |diff| {worst:.3g})")


def write_fixtures(out_dir, paddleocr=None):
    import importlib.metadata

    paddle.set_device("cpu")
    os.makedirs(out_dir, exist_ok=True)
    reference_model = import_paddleocr(paddleocr) if paddleocr else None
    manifest = {"paddlepaddle": paddle.__version__, "numpy": importlib.metadata.version("numpy"),
                "checked_against_paddleocr": bool(paddleocr),
                "characters": CHARACTERS, "ctc_classes": CTC_CLASSES, "nrtr_out_channels": NRTR_CLASSES,
                "nrtr_vocab": NRTR_CLASSES + 1, "max_text_length": MAX_TEXT_LENGTH, "models": []}
    for index, (name, config) in enumerate(ARCHITECTURES.items()):
        rng = np.random.default_rng(SEED + index)
        paddle.seed(SEED + index)
        np.random.seed(SEED + index)  # NRTR's initializers draw from numpy's global generator
        model = BaseModel(config)
        shape = REC_INPUT if config["model_type"] == "rec" else DET_INPUT
        randomize(model, rng, shape)
        entries = eval_outputs(model, config, rng.uniform(-1.0, 1.0, shape).astype("float32"))
        state = model.state_dict()
        saved = {key: tensor.numpy() for key, tensor in state.items()}
        paddle.save(state, os.path.join(out_dir, name + ".pdparams"))
        with open(os.path.join(out_dir, name + ".keys.txt"), "w") as f:
            for key, tensor in state.items():
                f.write(f"{key} {list(tensor.shape)} {str(tensor.dtype).replace('paddle.', '')}\n")
        with open(os.path.join(out_dir, name + ".io.pdparams"), "wb") as f:
            pickle.dump(entries, f, protocol=2)
        record = {"name": name, "task": config["model_type"], "architecture": config,
                  "tensors": len(state), "values": int(sum(np.prod(t.shape) for t in state.values())),
                  "io": {k: list(v.shape) for k, v in entries.items()}}
        train_entries = None
        if name == "PP-OCRv4_mobile_rec":
            train_entries = train_outputs(model, rng)
            with open(os.path.join(out_dir, name + ".train.pdparams"), "wb") as f:
                pickle.dump(train_entries, f, protocol=2)
            record["train"] = {k: list(v.shape) for k, v in train_entries.items()}
            record["train_texts"] = TRAIN_TEXTS
        manifest["models"].append(record)
        output = entries["output"]
        print(f"{name}: {len(state)} tensors, output {list(output.shape)} in [{output.min():.3f}, {output.max():.3f}]")
        if reference_model is not None:
            paddle.seed(SEED + index)
            np.random.seed(SEED + index)
            check_against(reference_model(copy.deepcopy(config)), saved, config, entries, train_entries, name)
    with open(os.path.join(out_dir, "fixtures.json"), "w") as f:
        json.dump(manifest, f, indent=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", help="where the fixtures go (e.g. .paddle-fixtures/ocr)")
    parser.add_argument("--paddleocr", metavar="DIR",
                        help="a PaddleOCR checkout: also check every model against PaddleOCR's own modules")
    args = parser.parse_args()
    write_fixtures(args.out_dir, args.paddleocr)


if __name__ == "__main__":
    main()
