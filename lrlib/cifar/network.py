"""The network: airbench94's layout without its whitening layer, its widths set by the profile.

32x32 -> conv-bn-gelu stem -> three blocks, each halving the resolution (16x16, 8x8, 4x4) -> global
max-pool -> linear classifier without bias -> logits x LOGIT_SCALE.
"""
from __future__ import annotations

import torch.nn as nn

from .profiles import LOGIT_SCALE

__all__ = ["Scale", "build_network"]


def _conv_bn_gelu(c_in: int, c_out: int) -> list:
    # No conv bias: the BatchNorm right after it has its own.
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.GELU()]


def _block(c_in: int, c_out: int) -> list:
    """Convolve at the input resolution, halve it with max-pooling, convolve again."""
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(c_out),
            nn.GELU(), *_conv_bn_gelu(c_out, c_out)]


class Scale(nn.Module):
    """Multiplies its input by a constant ``factor``."""

    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor


def build_network(widths, num_classes: int = 10, logit_scale: float = LOGIT_SCALE) -> nn.Sequential:
    """32x32 -> stem -> 16x16 -> 8x8 -> 4x4 -> global max-pool -> linear classifier -> x ``logit_scale``.

    ``widths`` are the output channels of the stem and of the three blocks (``Profile.widths``).
    """
    stem, w1, w2, w3 = widths
    return nn.Sequential(*_conv_bn_gelu(3, stem), *_block(stem, w1), *_block(w1, w2), *_block(w2, w3),
                         nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(w3, num_classes, bias=False),
                         Scale(logit_scale))
