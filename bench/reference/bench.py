"""Times the PyTorch reference at one benchmark configuration; prints one JSON line.

  python3 bench.py mixed-op --batch 2 --channels 40 --size 80
  python3 bench.py search-step --layers 4 --filter 8 --size 96 --batch 2
  python3 bench.py retrain-step --preset autodeeplab-s --size 129 --batch 2
  python3 bench.py inference --preset autodeeplab-s --height 256 --width 512
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

# The networks come from python/adl_torch (the bundle of bench/gpu/prepare.sh holds it beside this folder).
HERE = os.path.dirname(os.path.abspath(__file__))
for candidate in (os.path.join(HERE, '..', '..', 'python'), os.path.join(HERE, '..')):
    if os.path.isdir(os.path.join(candidate, 'adl_torch')):
        sys.path.insert(0, candidate)
        break
from adl_torch.model import PRIMITIVES, FixedNet, MixedOp, SuperNet, count_parameters  # noqa: E402

# The presets as @adl/trellis builds them (`node bench/write-presets.mjs FILE`): compare.mjs passes the
# file with --presets; the bundle that bench/gpu/prepare.sh packs holds it next to this folder.
DEFAULT_PRESETS = os.path.join(HERE, '..', 'presets.json')


def timed(step, warmup, runs, device):
    sync = torch.cuda.synchronize if device.startswith('cuda') else (lambda: None)
    for _ in range(warmup):
        step()
    sync()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        sync()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), times


def fixed_net(presets, preset, num_classes):
    with open(presets) as f:
        a = json.load(f)[preset]
    return FixedNet(a['path'], [tuple(e) for e in a['genotype']], a['filterMultiplier'], num_classes)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('what', choices=['mixed-op', 'search-step', 'retrain-step', 'inference'])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--channels', type=int, default=40)
    parser.add_argument('--size', type=int, default=80)
    parser.add_argument('--height', type=int, default=256)
    parser.add_argument('--width', type=int, default=512)
    parser.add_argument('--layers', type=int, default=12)
    parser.add_argument('--filter', type=int, default=8)
    parser.add_argument('--classes', type=int, default=19)
    parser.add_argument('--presets', default=DEFAULT_PRESETS)
    parser.add_argument('--preset', default='autodeeplab-s')
    parser.add_argument('--device', default='cpu', help='cpu or cuda')
    args = parser.parse_args()
    dev = torch.device(args.device)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    n, c = args.batch, args.classes
    result = {'engine': f'pytorch {torch.__version__} {args.device}', 'threads': args.threads, 'what': args.what}

    if args.what == 'mixed-op':
        op = MixedOp(args.channels).to(dev)
        alpha = torch.zeros(len(PRIMITIVES), requires_grad=True, device=dev)
        x = torch.randn(n, args.channels, args.size, args.size, device=dev)

        def step():
            op.zero_grad()
            alpha.grad = None
            op(x, F.softmax(alpha, 0)).square().mean().backward()
        params = count_parameters(op.parameters())
    elif args.what == 'search-step':
        net = SuperNet(args.layers, 5, args.filter, c).to(dev)
        sgd = torch.optim.SGD(net.weight_parameters(), lr=0.025, momentum=0.9, weight_decay=3e-4)
        adam = torch.optim.Adam(net.architecture_parameters(), lr=3e-3, betas=(0.9, 0.999), weight_decay=1e-3)
        xa, xb = torch.randn(n, 3, args.size, args.size, device=dev), torch.randn(n, 3, args.size, args.size, device=dev)
        ya, yb = torch.randint(0, c, (n, args.size, args.size), device=dev), torch.randint(0, c, (n, args.size, args.size), device=dev)

        def step():
            for optimizer, x, y in ((sgd, xa, ya), (adam, xb, yb)):
                net.zero_grad()
                F.cross_entropy(net(x), y, ignore_index=255).backward()
                optimizer.step()
        params = count_parameters(net.weight_parameters())
        result.update(layers=args.layers, filterMultiplier=args.filter)
    elif args.what == 'retrain-step':
        net = fixed_net(args.presets, args.preset, c).to(dev)
        sgd = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=4e-5)
        x, y = torch.randn(n, 3, args.size, args.size, device=dev), torch.randint(0, c, (n, args.size, args.size), device=dev)

        def step():
            sgd.zero_grad()
            F.cross_entropy(net(x), y, ignore_index=255).backward()
            sgd.step()
        params = count_parameters(net.parameters())
        result.update(preset=args.preset)
    else:
        net = fixed_net(args.presets, args.preset, c).to(dev).eval()
        x = torch.randn(1, 3, args.height, args.width, device=dev)

        def step():
            with torch.no_grad():
                net(x)
        params = count_parameters(net.parameters())
        result.update(preset=args.preset, height=args.height, width=args.width)

    median, times = timed(step, args.warmup, args.runs, args.device)
    result.update(params=params, medianMs=median, timesMs=times, maxRssBytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    if args.device.startswith('cuda'):
        result.update(peakGpuBytes=torch.cuda.max_memory_allocated())
    print(json.dumps(result))


if __name__ == '__main__':
    main()
