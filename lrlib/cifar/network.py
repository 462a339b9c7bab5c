"""The networks: one for GPUs (airbench94's layout) and one that learns fast per CPU-second.

``airbench`` (the ``full`` profile, made for a GPU): airbench94's layout without its whitening layer.
32x32 -> conv-bn-gelu stem -> three blocks, each halving the resolution (16x16, 8x8, 4x4) -> global
max-pool -> linear classifier without bias -> logits x LOGIT_SCALE. Its stem and first block run at
full resolution, which a GPU does cheaply and a CPU does not.

``cpu`` (the CPU profiles): the same idea moved down in resolution. The stem folds every 2x2 patch of
pixels into channels (``PixelUnshuffle``: 32x32x3 -> 16x16x12, no information lost), so the first
convolution already works at 16x16; then two stages of two conv-bn-relu layers at 8x8 and 4x4 ->
global max-pool -> linear classifier:

    32x32x3 -> unshuffle -> 16x16x12 -> conv w0 -> pool -> 8x8: conv w1, conv w1 -> pool -> 4x4: conv w2,
    conv w2 -> global max-pool -> linear

Most of its multiply-adds sit at 8x8 and 4x4, where a CPU convolution is efficient, instead of in
full-resolution feature maps whose normalization and activation cost memory traffic.
"""
from __future__ import annotations

import torch.nn as nn

from lrlib.checks import check_choice

from .profiles import LOGIT_SCALE

__all__ = ["NETWORKS", "Scale", "build_network", "airbench_network", "cpu_network"]

NETWORKS = ("airbench", "cpu")


def _conv_bn(c_in: int, c_out: int, activation) -> list:
    # No conv bias: the BatchNorm right after it has its own.
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), activation()]


def _airbench_block(c_in: int, c_out: int) -> list:
    """Convolve at the input resolution, halve it with max-pooling, convolve again."""
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(c_out),
            nn.GELU(), *_conv_bn(c_out, c_out, nn.GELU)]


class Scale(nn.Module):
    """Multiplies its input by a constant ``factor``."""

    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor


def airbench_network(widths, num_classes: int = 10, logit_scale: float = LOGIT_SCALE) -> nn.Sequential:
    """32x32 -> stem -> 16x16 -> 8x8 -> 4x4 -> global max-pool -> linear classifier -> x ``logit_scale``.

    ``widths``: the output channels of the stem and of the three blocks (4 numbers).
    """
    if len(widths) != 4:
        raise ValueError(f"the airbench network needs 4 widths (stem and three blocks), got widths={widths}")
    stem, w1, w2, w3 = widths
    return nn.Sequential(*_conv_bn(3, stem, nn.GELU), *_airbench_block(stem, w1), *_airbench_block(w1, w2),
                         *_airbench_block(w2, w3), nn.AdaptiveMaxPool2d(1), nn.Flatten(),
                         nn.Linear(w3, num_classes, bias=False), Scale(logit_scale))


def cpu_network(widths, num_classes: int = 10) -> nn.Sequential:
    """32x32 -> unshuffle to 16x16 -> conv -> 8x8: two convs -> 4x4: two convs -> global max-pool -> linear.

    ``widths``: the output channels of the stem convolution and of the two stages (3 numbers).
    """
    if len(widths) != 3:
        raise ValueError(f"the cpu network needs 3 widths (stem and two stages), got widths={widths}")
    w0, w1, w2 = widths
    return nn.Sequential(nn.PixelUnshuffle(2), *_conv_bn(12, w0, nn.ReLU), nn.MaxPool2d(2),
                         *_conv_bn(w0, w1, nn.ReLU), *_conv_bn(w1, w1, nn.ReLU), nn.MaxPool2d(2),
                         *_conv_bn(w1, w2, nn.ReLU), *_conv_bn(w2, w2, nn.ReLU),
                         nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(w2, num_classes))


def build_network(network: str, widths, num_classes: int = 10) -> nn.Sequential:
    """The network called ``network`` ("airbench" or "cpu", ``Profile.network``) with these ``widths``."""
    check_choice("network", network, NETWORKS)
    if network == "airbench":
        return airbench_network(widths, num_classes)
    return cpu_network(widths, num_classes)
