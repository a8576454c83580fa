"""Retraining of a found network with PyTorch DistributedDataParallel, from the config file of
`adl retrain`, into a run folder `adl eval`, `adl predict`, `adl export`, `adl report` and
`adl retrain --resume` read:

  PYTHONPATH=python python3 -m torch.distributed.run --standalone --nproc_per_node=N \\
      -m adl_torch.retrain --config CONFIG [--resume] [--init DIR] [--sync-bn]

gloo on CPU, NCCL on CUDA. `batchSize` is the global batch: each of the N processes trains on its
slice of the batch `adl retrain` would draw at that iteration (batchSize / N images), and the loss is
the mean over the whole batch's labelled pixels, so N processes step as one would. Rank 0 writes.
"""
import argparse
import hashlib
import json
import math
import os
import signal
import sys
import time
import warnings

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from .checkpoint import CheckpointError, groups_of, kept_manifest_name, NonFiniteValueError, read_checkpoint, restore_checkpoint, save_checkpoint, write_atomic
from .config import ConfigError, read_retrain_config, resolve_architecture
from .data import BatchLoader, DatasetError, IGNORE_INDEX, list_split, load_sample, normalise
from .model import DropPath, FixedNet
from .rng import drop_path_step_seed

EXIT_INTERRUPTED = 75
# A checkpoint is good when the next step's loss is finite and at most 10× the running loss + 1 (@adl/search).
SANE_LOSS_FACTOR, SANE_LOSS_MARGIN, RUNNING_LOSS_DECAY = 10, 1, 0.9
FREE_ON_RESUME = ('outDir', 'checkpointEvery', 'keepCheckpoints', 'backend', 'onBadFile', 'recompute')


def poly_lr(step, total, base, power):
    return base * max(0.0, 1 - step / total) ** power


def training_loss(logits, labels):
    """The summed cross-entropy over labelled pixels and their count (the loss of `adl retrain` is their ratio)."""
    loss_sum = F.cross_entropy(logits, labels, ignore_index=IGNORE_INDEX, reduction='sum')
    return loss_sum, (labels != IGNORE_INDEX).sum()


def evaluate(net, samples, num_classes):
    """Whole-image inference on each sample: the confusion counts' metrics as @adl/eval computes them."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    net.eval()
    with torch.no_grad():
        for sample in samples:
            image, train_ids = load_sample(sample)
            device = next(net.parameters()).device
            prediction = net(torch.from_numpy(normalise(image)).to(device)).argmax(1)[0].cpu().numpy()
            valid = train_ids < num_classes
            counts += np.bincount(train_ids[valid].astype(np.int64) * num_classes + prediction[valid], minlength=num_classes ** 2).reshape(num_classes, num_classes)
    net.train()
    truth, predicted, hits = counts.sum(1), counts.sum(0), np.diag(counts)
    union = truth + predicted - hits
    iou = [float(h / u) if u else None for h, u in zip(hits, union)]
    present = [v for v in iou if v is not None]
    pixels = int(truth.sum())
    return {'miou': sum(present) / len(present) if present else None, 'pixelAccuracy': float(hits.sum() / pixels) if pixels else None, 'iou': iou}


def best_record(records):
    best = None
    for record in records:
        if record['valMiou'] is not None and (best is None or record['valMiou'] > best['valMiou']):
            best = record
    return best


class Stop:
    """SIGTERM, SIGINT or SIGUSR1: finish the step, checkpoint, exit 75 (as `adl retrain`)."""

    def __init__(self):
        self.signal = None
        for name in ('SIGTERM', 'SIGINT', 'SIGUSR1'):
            signal.signal(getattr(signal, name), self.handle)

    def handle(self, number, _frame):
        self.signal = signal.Signals(number).name


def main(argv=None):
    parser = argparse.ArgumentParser(prog='adl_torch.retrain', description=__doc__.split('\n\n')[0])
    parser.add_argument('--config', required=True, help='the retrain config file of `adl retrain`')
    parser.add_argument('--resume', action='store_true', help='continue from outDir/checkpoint.json')
    parser.add_argument('--accept-changes', action='store_true', help='with --resume: continue although settings that change the result differ')
    parser.add_argument('--init', help='start from the weights and BN statistics of this checkpoint folder (written by either side)')
    parser.add_argument('--sync-bn', action='store_true', help='batch statistics over the whole global batch (SyncBatchNorm) instead of each process\'s slice')
    parser.add_argument('--device', default='auto', help='auto (CUDA when present), cpu or cuda')
    parser.add_argument('--stop-after', type=int, help='stop after this iteration, as if killed (tests)')
    args = parser.parse_args(argv)
    # Depthwise filters' gradients come in another memory layout than DDP's buckets: a copy, not an error.
    warnings.filterwarnings('ignore', message='Grad strides do not match bucket view strides')
    distributed = 'WORLD_SIZE' in os.environ
    use_cuda = args.device == 'cuda' or (args.device == 'auto' and torch.cuda.is_available())
    if distributed:
        dist.init_process_group('nccl' if use_cuda else 'gloo')
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    local_rank = int(os.environ.get('LOCAL_RANK', 0))
    device = torch.device(f'cuda:{local_rank}' if use_cuda else 'cpu')
    if use_cuda:
        torch.cuda.set_device(device)
    log = (lambda line: print(line, file=sys.stderr, flush=True)) if rank == 0 else (lambda line: None)
    try:
        status = run(args, rank, world, device, distributed, log)
    except (ConfigError, DatasetError, CheckpointError, Diverged) as error:
        print(f'adl_torch: {error}', file=sys.stderr, flush=True)
        status = 1
    if distributed:
        dist.destroy_process_group()
    return status


class Diverged(RuntimeError):
    pass


def run(args, rank, world, device, distributed, log):
    config = read_retrain_config(args.config)
    if config['batchSize'] % world:
        raise ConfigError(f'{args.config}: batchSize {config["batchSize"]} (the global batch) does not divide among {world} processes')
    per_process = config['batchSize'] // world
    found = resolve_architecture(config['architecture'])
    architecture = {**found, 'filterMultiplier': config.get('filterMultiplier') or found['filterMultiplier']}
    spec = {'architecture': architecture, 'numClasses': config['numClasses'], 'asppChannels': config['asppChannels'], **({'asppRates': config['asppRates']} if config.get('asppRates') else {}),
            'batchNorm': {'momentum': 1 - config['batchNormDecay'], 'epsilon': config['batchNormEpsilon']}}
    out_dir = config['outDir']
    train = list_split(config['dataRoot'], 'train')
    val = list_split(config['dataRoot'], 'val')
    val = val[:config['valImages']] if config['valImages'] else val
    loader = BatchLoader(train, config['batchSize'], config['crop'], config['scale'], config['seed'])

    torch.manual_seed(config['seed'])
    net = FixedNet.from_spec(spec)
    for module in net.modules():
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(module.weight, mode='fan_in', nonlinearity='relu')
    if args.init:
        restore_checkpoint(args.init, groups_of(net), only=('weights', 'batchNorm'))
        log(f'[adl] weights and BN statistics from {os.path.join(args.init, "checkpoint.json")}')
    if args.sync_bn and distributed:
        net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    net = net.to(device)
    sgd = torch.optim.SGD(net.parameters(), lr=config['lr'], momentum=config['momentum'], weight_decay=config['weightDecay'])
    groups = groups_of(net, sgd)
    environment = {'backend': 'pytorch', 'device': device.type, 'processes': world, 'torch': torch.__version__, 'syncBatchNorm': bool(args.sync_bn)}
    step, state, running_loss, good, kept, seconds_before = 0, {'records': [], 'lossSum': 0, 'lossCount': 0}, None, None, [], 0.0
    manifest_path = os.path.join(out_dir, 'checkpoint.json')
    if args.resume and os.path.exists(manifest_path):
        manifest, _, _ = read_checkpoint(out_dir)
        meta = manifest['meta']
        changed = [f'{k} is {json.dumps(meta["config"].get(k))} there and {json.dumps(config.get(k))} now' for k in sorted(set(meta['config']) | set(config))
                   if k not in FREE_ON_RESUME and meta['config'].get(k) != config.get(k)]
        if changed and not args.accept_changes:
            raise CheckpointError(f'{manifest_path}: {"; ".join(changed)}; these change the result: resume with the checkpoint\'s values, or pass --accept-changes')
        restore_checkpoint(out_dir, groups)
        step, state, running_loss, good = meta['step'], meta['state'], meta.get('runningLoss'), meta.get('good')
        kept, seconds_before = meta.get('kept') or [], meta.get('seconds') or 0.0
        log(f'[adl] resuming retrain at step {step}')
    else:
        if os.path.isdir(out_dir) and os.listdir(out_dir):
            raise ConfigError(f'{out_dir}: holds {len(os.listdir(out_dir))} file(s) of another run; resume it (--resume) or write elsewhere')
        if distributed:
            dist.barrier()  # every process looked before rank 0 writes
        if rank == 0:
            os.makedirs(out_dir, exist_ok=True)
    model = torch.nn.parallel.DistributedDataParallel(net) if distributed else net
    started = time.perf_counter()
    last_checkpoint = step if args.resume and os.path.exists(manifest_path) else None

    def checkpoint():
        nonlocal kept, last_checkpoint
        newest = ([s for s in kept if s < step] + [step])[-config['keepCheckpoints']:]
        keeping = newest if good is None or good['step'] in newest else [good['step']] + newest
        if rank == 0:
            meta = {'net': spec, 'config': config, 'environment': environment, 'step': step, 'state': state, 'scalars': {}, 'seconds': seconds_before + time.perf_counter() - started,
                    'runningLoss': running_loss, 'good': good, 'kept': keeping}
            save_checkpoint(out_dir, groups, meta, str(step), keep=[str(s) for s in keeping])
        kept, last_checkpoint = keeping, step

    log(f'[adl] pytorch {torch.__version__} on {device.type}: {world} process(es) of {per_process} image(s), {torch.get_num_threads()} thread(s) each (OMP_NUM_THREADS)')
    stop = Stop()
    part = range(rank * per_process, (rank + 1) * per_process)
    total = config['iterations']
    if last_checkpoint is None:
        checkpoint()
    step_seconds = []
    while step < total:
        step_started = time.perf_counter()
        images, labels = loader.load(step, part)
        images, labels = torch.from_numpy(images).to(device), torch.from_numpy(labels).to(device)
        learning_rate = poly_lr(step, total, config['lr'], config['power'])
        for group in sgd.param_groups:
            group['lr'] = learning_rate
        drop_path = None
        if config['dropPathKeepProb'] < 1:
            drop_path = DropPath(config['dropPathKeepProb'], step / total, drop_path_step_seed(config['seed'], step), part)
        loss_sum, valid = training_loss(model(images, drop_path), labels)
        # The mean over the global batch's labelled pixels: DDP averages the processes' gradients, hence × world.
        totals = torch.stack([loss_sum.detach(), valid.to(loss_sum.dtype)])
        if distributed:
            dist.all_reduce(totals)
        count = max(float(totals[1]), 1.0)
        loss = float(totals[0]) / count
        if not math.isfinite(loss):
            diverged(f'loss is {loss} at iteration {step + 1}', good, last_checkpoint, out_dir, rank)
        sgd.zero_grad()
        (loss_sum * (world / count)).backward()
        sgd.step()
        if last_checkpoint == step and loss <= SANE_LOSS_FACTOR * (running_loss if running_loss is not None else math.inf) + SANE_LOSS_MARGIN:
            good = {'step': step, 'nextLoss': loss}
        running_loss = loss if running_loss is None else RUNNING_LOSS_DECAY * running_loss + (1 - RUNNING_LOSS_DECAY) * loss
        state = {**state, 'lossSum': state['lossSum'] + loss, 'lossCount': state['lossCount'] + 1}
        step += 1
        step_seconds.append(time.perf_counter() - step_started)
        evaluated = step % config['evalEvery'] == 0 or step == total
        if evaluated:
            if rank == 0:
                metrics = evaluate(net, val, config['numClasses'])
                record = {'iteration': step, 'learningRate': poly_lr(step - 1, total, config['lr'], config['power']), 'trainLoss': state['lossSum'] / state['lossCount'],
                          'valMiou': metrics['miou'], 'valPixelAccuracy': metrics['pixelAccuracy'], 'valIou': metrics['iou']}
                records = state['records'] + [record]
                if best_record(records) is record:
                    save_checkpoint(os.path.join(out_dir, 'best'), {k: groups[k] for k in ('weights', 'batchNorm')}, {'net': spec, 'record': record}, 'best')
                write_atomic(os.path.join(out_dir, 'retrain-log.jsonl'), ''.join(json.dumps(r) + '\n' for r in records))
                log(f'[adl] retrain iteration {step}/{total} loss {record["trainLoss"]:.4f} val mIoU {100 * (record["valMiou"] or 0):.2f}%')
                state = {'records': records, 'lossSum': 0, 'lossCount': 0}
            if distributed:
                shared = [state]
                dist.broadcast_object_list(shared, 0)
                state = shared[0]
        try:
            if evaluated or step % config['checkpointEvery'] == 0 or step == total:
                checkpoint()
        except NonFiniteValueError as error:
            diverged(str(error), good, last_checkpoint, out_dir, rank)
        if step == args.stop_after:
            return 0
        stopping = torch.tensor([1.0 if stop.signal else 0.0])
        if distributed:
            dist.all_reduce(stopping)
        if stopping.item() and step < total:
            if last_checkpoint != step:
                checkpoint()
            log(f'[adl] {stop.signal or "signal"}: stopped after step {step} of {total} with a checkpoint ({manifest_path}); continue with --resume')
            return EXIT_INTERRUPTED
    if rank == 0:
        write_atomic(os.path.join(out_dir, 'architecture.json'), json.dumps(architecture, indent=2) + '\n')
        timed = sorted(step_seconds[1:] or step_seconds)
        log(f'[adl] retrain done: {total} iterations in {out_dir}; a training step (data, forward, backward, update) took {timed[len(timed) // 2]:.3f} s (median of {len(timed)} after the first)')
    # Each process's own weights, gathered to rank 0: DDP keeps them equal, and this line shows it.
    digests = [weights_digest(groups)]
    if distributed:
        digests = [None] * world
        dist.all_gather_object(digests, weights_digest(groups))
    log(f'[adl] final weights by rank (sha256): {" ".join(f"{r}:{d}" for r, d in enumerate(digests))}')
    return 0


def weights_digest(groups):
    digest = hashlib.sha256()
    for tensor, _ in groups['weights']:
        digest.update(tensor.detach().cpu().float().contiguous().numpy().astype('<f4').tobytes())
    return digest.hexdigest()


def diverged(reason, good, last_checkpoint, out_dir, rank):
    """Stops the run, making the newest good checkpoint current again (as `adl retrain`)."""
    where = os.path.join(out_dir, 'checkpoint.json')
    if good is None:
        raise Diverged(f'retrain diverged: {reason}; no checkpoint of this run was followed by a sane step: start again with a lower learning rate')
    if rank == 0 and good['step'] != last_checkpoint:
        with open(os.path.join(out_dir, kept_manifest_name(good['step']))) as f:
            write_atomic(where, f.read())
    again = '' if good['step'] == last_checkpoint else ', current again'
    raise Diverged(f'retrain diverged: {reason}; the last good checkpoint is {where} (step {good["step"]}{again}; the next step\'s loss was {good["nextLoss"]:.4g}): '
                   'resume from it with a lower learning rate (--resume --accept-changes)')


if __name__ == '__main__':
    sys.exit(main())
