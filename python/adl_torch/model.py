"""Auto-DeepLab's networks in PyTorch, layer for layer as @adl/ops, @adl/cell and @adl/trellis build them.

Same ops, channel counts, strides, rates, resampling and BN placement, and the same registration
order: `FixedNet(...).parameters()` lists the tensors in the order of the TypeScript net's
`trainableVariables()`, and its BN running statistics in the order of `stateVariables()`, which is
how `adl_torch.checkpoint` maps a checkpoint onto it. NCHW layout; bilinear resizing with aligned
corners; symmetric "same" padding, as the TypeScript code.
"""
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .rng import drop_path_rng

PRIMITIVES = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect',
              'sep_conv_3x3', 'sep_conv_5x5', 'atrous_conv_3x3', 'atrous_conv_5x5']
ATROUS_RATE = 2
STEM_CHANNELS = (64, 64, 128)


def resize(x, size):
    if tuple(x.shape[2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode='bilinear', align_corners=True)


def half(n):
    return (n + 1) // 2


def level_sizes(height, width):
    sizes = [(half(half(height)), half(half(width)))]
    for _ in range(3):
        sizes.append((half(sizes[-1][0]), half(sizes[-1][1])))
    return sizes


def node_exists(layer, level):
    return 0 <= level <= min(layer + 1, 3)


def edge_count(blocks):
    return blocks * (blocks + 3) // 2


def valid_moves(layer, level):
    if layer == 0:
        return [False, level == 0, level == 0]
    exists = level <= layer
    return [exists and level > 0, exists, exists and level < 3]


class BatchNorm2d(nn.BatchNorm2d):
    """PyTorch's BatchNorm2d, which also trains on one value per channel (image pooling at batch 1):
    there, as in @adl/ops, the batch variance is 0 and the running variance moves towards 0."""

    def forward(self, x):
        if not (self.training and x.numel() == x.shape[1]):
            return super().forward(x)
        with torch.no_grad():
            self.running_mean.mul_(1 - self.momentum).add_(self.momentum * x.reshape(-1))
            self.running_var.mul_(1 - self.momentum)
        # x minus its own mean: 0, with the zero gradient of a full batch norm over one value.
        normalised = x - x
        if not self.affine:
            return normalised
        return normalised * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


def relu_conv_bn(cin, cout, k, affine, stride=1, dilation=1):
    return nn.Sequential(nn.ReLU(), nn.Conv2d(cin, cout, k, stride, dilation * (k - 1) // 2, dilation, bias=False),
                         BatchNorm2d(cout, affine=affine))


def conv_bn_relu(cin, cout, k, affine=True, stride=1, dilation=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, dilation * (k - 1) // 2, dilation, bias=False),
                         BatchNorm2d(cout, affine=affine), nn.ReLU())


class SepConv(nn.Module):
    """DARTS separable conv: (ReLU, depthwise k×k, pointwise 1×1, BN) twice; the first depthwise strided."""

    def __init__(self, c, k, affine, stride=1):
        super().__init__()
        p = (k - 1) // 2
        self.op = nn.Sequential(
            nn.ReLU(), nn.Conv2d(c, c, k, stride, p, groups=c, bias=False), nn.Conv2d(c, c, 1, bias=False), BatchNorm2d(c, affine=affine),
            nn.ReLU(), nn.Conv2d(c, c, k, 1, p, groups=c, bias=False), nn.Conv2d(c, c, 1, bias=False), BatchNorm2d(c, affine=affine))

    def forward(self, x):
        return self.op(x)


class Subsample2(nn.Module):
    def forward(self, x):
        return x[:, :, ::2, ::2]


class BilinearHalf(nn.Module):
    def forward(self, x):
        return resize(x, (half(x.shape[2]), half(x.shape[3])))


class Zero(nn.Module):
    def forward(self, x):
        return x.mul(0.)


class FactorizedReduce(nn.Module):
    def __init__(self, cin, cout, affine):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout // 2, 1, 2, 0, bias=False)
        self.conv2 = nn.Conv2d(cin, cout // 2, 1, 2, 0, bias=False)
        self.bn = BatchNorm2d(cout, affine=affine)

    def forward(self, x):
        x = F.relu(x)
        shifted = F.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))
        return self.bn(torch.cat([self.conv1(x), self.conv2(shifted)], 1))


def create_op(name, c, mode, stride=1):
    """The 8 candidate ops (design §2); `search` mode: non-affine BN and BN after pools; `fixed`: affine, bare pools."""
    affine = mode == 'fixed'
    if name == 'none':
        return nn.Sequential(Subsample2(), Zero()) if stride == 2 else Zero()
    if name in ('max_pool_3x3', 'avg_pool_3x3'):
        pool = nn.MaxPool2d(3, 1, 1) if name == 'max_pool_3x3' else nn.AvgPool2d(3, 1, 1, count_include_pad=False)
        layers = [pool] + ([Subsample2()] if stride == 2 else []) + ([BatchNorm2d(c, affine=False)] if mode == 'search' else [])
        return layers[0] if len(layers) == 1 else nn.Sequential(*layers)
    if name == 'skip_connect':
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c, affine)
    if name.startswith('sep_conv'):
        return SepConv(c, int(name[-1]), affine, stride)
    if name.startswith('atrous_conv'):
        k = int(name[-1])
        if stride == 2:
            return nn.Sequential(nn.ReLU(), BilinearHalf(), nn.Conv2d(c, c, k, 1, (k - 1) // 2, bias=False), BatchNorm2d(c, affine=affine))
        return relu_conv_bn(c, c, k, affine, dilation=ATROUS_RATE)
    raise ValueError(name)


class MixedOp(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ops = nn.ModuleList([create_op(name, c, 'search') for name in PRIMITIVES[1:]])

    def forward(self, x, weights):
        # `none` contributes zeros: not computed (as the TypeScript MixedOp).
        return sum(w * op(x) for w, op in zip(weights[1:], self.ops))


class CellInputs(nn.Module):
    def __init__(self, cpp, cp, c, affine):
        super().__init__()
        self.pre0 = relu_conv_bn(cpp, c, 1, affine)
        self.pre1 = relu_conv_bn(cp, c, 1, affine)

    def forward(self, s0, s1):
        return [self.pre0(resize(s0, s1.shape[2:])), self.pre1(s1)]


class SearchCell(nn.Module):
    def __init__(self, cpp, cp, c, blocks):
        super().__init__()
        self.blocks = blocks
        self.inputs = CellInputs(cpp, cp, c, False)
        self.edges = nn.ModuleList([MixedOp(c) for _ in range(edge_count(blocks))])

    def forward(self, s0, s1, weights):
        states = self.inputs(s0, s1)
        for b in range(self.blocks):
            base = edge_count(b)
            states.append(sum(self.edges[base + j](h, weights[base + j]) for j, h in enumerate(states)))
        return torch.cat(states[2:], 1)


class Stem(nn.Module):
    def __init__(self):
        super().__init__()
        c0, c1, c2 = STEM_CHANNELS
        self.conv0 = conv_bn_relu(3, c0, 3, stride=2)
        self.conv1 = conv_bn_relu(c0, c1, 3)
        self.conv2 = conv_bn_relu(c1, c2, 3, stride=2)

    def forward(self, x):
        s2 = self.conv1(self.conv0(x))
        return s2, self.conv2(s2)


class ImagePooling(nn.Module):
    def __init__(self, cin, cout, affine=True):
        super().__init__()
        self.block = conv_bn_relu(cin, cout, 1, affine)

    def forward(self, x):
        return self.block(x.mean((2, 3), keepdim=True)).expand(-1, -1, x.shape[2], x.shape[3])


class SearchAspp(nn.Module):
    def __init__(self, cin, cb, rate, num_classes):
        super().__init__()
        self.branches = nn.ModuleList([conv_bn_relu(cin, cb, 1), conv_bn_relu(cin, cb, 3, dilation=rate), ImagePooling(cin, cb)])
        self.projection = nn.Conv2d(3 * cb, num_classes, 1, bias=True)

    def forward(self, x):
        return self.projection(torch.cat([b(x) for b in self.branches], 1))


class SuperNet(nn.Module):
    """The L × 4 trellis of design §4 with α [edges, 8] and β [L, 4, 3]."""

    def __init__(self, layers=12, blocks=5, filter_multiplier=8, num_classes=19):
        super().__init__()
        self.layers = layers
        self.alpha = nn.Parameter(1e-3 * torch.randn(edge_count(blocks), len(PRIMITIVES)))
        self.beta = nn.Parameter(1e-3 * torch.randn(layers, 4, 3))
        mask = torch.tensor([[[0. if ok else -1e9 for ok in valid_moves(l, j)] for j in range(4)] for l in range(layers)])
        self.register_buffer('beta_mask', mask)
        self.stem = Stem()
        ch = lambda i: blocks * filter_multiplier * 2 ** i
        self.cells = nn.ModuleDict()
        self.resamples = nn.ModuleDict()
        self.edges = []
        for l in range(layers):
            for i in range(4):
                if not node_exists(l, i):
                    continue
                sources = [0] if l == 0 else [j for j in (i - 1, i, i + 1) if node_exists(l - 1, j)]
                for source in sources:
                    key = f'{l}_{i}_{source}'
                    source_ch = STEM_CHANNELS[2] if l == 0 else ch(source)
                    if source < i:
                        self.resamples[key] = relu_conv_bn(source_ch, ch(i), 3, False, stride=2)
                    elif source > i:
                        self.resamples[key] = relu_conv_bn(source_ch, ch(i), 1, False)
                    prev_ch = ch(i) if source != i else source_ch
                    if l == 0:
                        pp_ch = STEM_CHANNELS[1]
                    elif l == 1 and i == 0:
                        pp_ch = STEM_CHANNELS[2]
                    else:
                        pp_ch = ch(i) if node_exists(l - 2, i) else prev_ch
                    self.cells[key] = SearchCell(pp_ch, prev_ch, filter_multiplier * 2 ** i, blocks)
                    self.edges.append((l, i, source, key))
        self.head_levels = [i for i in range(4) if node_exists(layers - 1, i)]
        self.heads = nn.ModuleList([SearchAspp(ch(i), ch(i), 96 // (4 * 2 ** i), num_classes) for i in self.head_levels])

    def weight_parameters(self):
        return [p for name, p in self.named_parameters() if name not in ('alpha', 'beta')]

    def architecture_parameters(self):
        return [self.alpha, self.beta]

    def forward(self, x):
        height, width = x.shape[2:]
        sizes = level_sizes(height, width)
        edge_weights = F.softmax(self.alpha, -1)
        beta_hat = F.softmax(self.beta + self.beta_mask, -1)
        s2, s4 = self.stem(x)
        previous, before = {0: s4}, {}
        for l in range(self.layers):
            current = {}
            for (layer, i, source, key) in self.edges:
                if layer != l:
                    continue
                src = previous[source]
                if source > i:
                    h_prev = self.resamples[key](resize(src, sizes[i]))
                elif source < i:
                    h_prev = self.resamples[key](src)
                else:
                    h_prev = src
                h_pp = s2 if l == 0 else before.get(i, h_prev)
                term = self.cells[key](h_pp, h_prev, edge_weights) * beta_hat[l, source, i - source + 1]
                current[i] = term if i not in current else current[i] + term
            before, previous = previous, current
        return sum(resize(head(previous[i]), (height, width)) for i, head in zip(self.head_levels, self.heads))


@dataclass(frozen=True)
class DropPath:
    """Scheduled drop path for one training step (@adl/cell `drop-path.ts`; DeepLab NAS `nas_cell.py`).

    `keep_prob`: the last cell's keep probability at the end of training; `progress`: step / total
    steps; `seed`: the step's seed; `samples`: the global batch's positions this process holds (its
    slice of the batch), so that every rank draws the masks one process would draw for the whole batch.
    """
    keep_prob: float
    progress: float
    seed: int
    samples: range


def scheduled_keep_prob(keep_prob, cell, cells, progress):
    depth_keep = 1 - (cell + 1) / cells * (1 - keep_prob)
    return 1 - min(1, progress) * (1 - depth_keep)


class FixedCell(nn.Module):
    def __init__(self, cpp, cp, c, genotype, stride, position=(0, 1)):
        super().__init__()
        self.genotype = genotype
        self.position = position
        self.inputs = CellInputs(cpp, cp, c, True)
        self.ops = nn.ModuleList([create_op(op, c, 'fixed', stride if j < 2 else 1) for j, op in genotype])

    def forward(self, s0, s1, drop_path=None):
        states = self.inputs(s0, s1)

        def run(index):
            j, name = self.genotype[index]
            out = self.ops[index](states[j])
            if drop_path is None or not self.training or drop_path.keep_prob >= 1 or name == 'none':
                return out
            cell, cells = self.position
            keep = scheduled_keep_prob(drop_path.keep_prob, cell, cells, drop_path.progress)
            if keep >= 1:
                return out
            rng = drop_path_rng(drop_path.seed, cell, index)
            mask = [math.floor(keep + rng.next()) / keep for _ in range(drop_path.samples.stop)][drop_path.samples.start:]
            return out * torch.tensor(mask, dtype=out.dtype, device=out.device).view(-1, 1, 1, 1)

        for b in range(len(self.genotype) // 2):
            states.append(run(2 * b) + run(2 * b + 1))
        return torch.cat(states[2:], 1)


class DeepLabV3Aspp(nn.Module):
    def __init__(self, cin, cout, rates):
        super().__init__()
        self.branches = nn.ModuleList([conv_bn_relu(cin, cout, 1)] + [conv_bn_relu(cin, cout, 3, dilation=r) for r in rates] + [ImagePooling(cin, cout)])
        self.projection = conv_bn_relu(5 * cout, cout, 1)

    def forward(self, x):
        return self.projection(torch.cat([b(x) for b in self.branches], 1))


class Decoder(nn.Module):
    def __init__(self, low_ch, aspp_ch, num_classes):
        super().__init__()
        self.projection = conv_bn_relu(low_ch, 48, 1)
        self.refine = nn.Sequential(conv_bn_relu(aspp_ch + 48, 256, 3), conv_bn_relu(256, 256, 3))
        self.classifier = nn.Conv2d(256, num_classes, 1, bias=True)

    def forward(self, aspp, low):
        return self.classifier(self.refine(torch.cat([resize(aspp, low.shape[2:]), self.projection(low)], 1)))


# The DeepLab NAS retraining arg scope: BN decay 0.9997 (momentum 1 - 0.9997 for the newest batch), epsilon 1e-3.
RETRAIN_BATCH_NORM = {'momentum': 1 - 0.9997, 'epsilon': 1e-3}


class FixedNet(nn.Module):
    """The retrain network of a found architecture, as @adl/trellis `FixedNet` (design §7)."""

    def __init__(self, path, genotype, filter_multiplier, num_classes=19, aspp_channels=256, aspp_rates=None, batch_norm=RETRAIN_BATCH_NORM):
        super().__init__()
        self.path = list(path)
        genotype = [tuple(e) for e in genotype]
        blocks = len(genotype) // 2
        self.stem = Stem()
        channels = [STEM_CHANNELS[1], STEM_CHANNELS[2]]
        cells, previous = [], 0
        for l, level in enumerate(self.path):
            cells.append(FixedCell(channels[-2], channels[-1], filter_multiplier * 2 ** level, genotype, 2 if level > previous else 1, (l, len(self.path))))
            channels.append(blocks * filter_multiplier * 2 ** level)
            previous = level
        self.cells = nn.ModuleList(cells)
        stride = 4 * 2 ** self.path[-1]
        rates = aspp_rates or [r * 16 // stride for r in (6, 12, 18)]
        self.aspp = DeepLabV3Aspp(channels[-1], aspp_channels, rates)
        zeros = [l for l, level in enumerate(self.path) if level == 0]
        self.low_index = zeros[-1] + 2 if zeros else 1
        self.decoder = Decoder(channels[self.low_index], aspp_channels, num_classes)
        for module in self.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.momentum, module.eps = batch_norm['momentum'], batch_norm['epsilon']

    @classmethod
    def from_spec(cls, spec):
        """The net a checkpoint's `meta.net` describes (@adl/search `TrainedNetSpec`)."""
        a = spec['architecture']
        batch_norm = spec.get('batchNorm') or {'momentum': 0.1, 'epsilon': 1e-5}
        return cls(a['path'], a['genotype'], a['filterMultiplier'], spec['numClasses'], spec['asppChannels'], spec.get('asppRates'), batch_norm)

    def forward(self, x, drop_path=None):
        height, width = x.shape[2:]
        sizes = level_sizes(height, width)
        s2, s4 = self.stem(x)
        outputs, previous = [s2, s4], 0
        for level, cell in zip(self.path, self.cells):
            h_prev = outputs[-1]
            if level < previous:
                h_prev = resize(h_prev, sizes[level])
            outputs.append(cell(outputs[-2], h_prev, drop_path))
            previous = level
        logits = self.decoder(self.aspp(F.relu(outputs[-1])), outputs[self.low_index])
        return resize(logits, (height, width))


def count_parameters(parameters):
    return sum(p.numel() for p in parameters)
