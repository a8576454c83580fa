"""What the parity tests run on the PyTorch side, on files the TypeScript side wrote.

  python3 -m adl_torch.parity logits CHECKPOINT_DIR INPUT.bin N H W OUT.bin
      the net of a checkpoint (meta.net) in inference on NHWC float32 images; writes NHWC logits.
  python3 -m adl_torch.parity batch DATA_ROOT BATCH CROP SCALE_LOW SCALE_HIGH SEED ITERATION OUT
      the training batch of an iteration: OUT.images (NHWC float32) and OUT.labels (uint8 train ids).
  python3 -m adl_torch.parity constants CONFIG_JSON
      the parsed config, the presets and the label id → train id table, as JSON.
  python3 -m adl_torch.parity step CHECKPOINT_DIR IMAGES.bin LABELS.bin N H W SETTINGS_JSON OUT_DIR
      one training step (SGD with momentum and weight decay, the loss of `adl retrain`, optional drop
      path) from the checkpoint's weights; writes the updated weights, BN statistics and velocities as
      a checkpoint in OUT_DIR and prints {"loss": …}.
"""
import json
import sys

import numpy as np
import torch

from .checkpoint import groups_of, read_checkpoint, restore_checkpoint, save_checkpoint
from .config import PRESETS_FILE, parse_retrain_config
from .data import TRAIN_ID_LUT, BatchLoader, list_split
from .model import DropPath, FixedNet
from .retrain import training_loss


def load_net(directory):
    manifest, _, _ = read_checkpoint(directory)
    net = FixedNet.from_spec(manifest['meta']['net'])
    restore_checkpoint(directory, groups_of(net), only=('weights', 'batchNorm'))
    return net, manifest['meta']


def images_of(path, n, h, w):
    return torch.from_numpy(np.fromfile(path, dtype='<f4').reshape(n, h, w, 3).transpose(0, 3, 1, 2).copy())


def main(argv):
    torch.set_num_threads(2)
    what = argv[0]
    if what == 'logits':
        directory, source, n, h, w, out = argv[1], argv[2], *map(int, argv[3:6]), argv[6]
        net, _ = load_net(directory)
        net.eval()
        with torch.no_grad():
            logits = net(images_of(source, n, h, w))
        logits.permute(0, 2, 3, 1).contiguous().numpy().astype('<f4').tofile(out)
        return
    if what == 'step':
        directory, source, label_path, n, h, w, settings, out = argv[1], argv[2], argv[3], *map(int, argv[4:7]), json.loads(argv[7]), argv[8]
        net, meta = load_net(directory)
        net.train()
        sgd = torch.optim.SGD(net.parameters(), lr=settings['lr'], momentum=settings['momentum'], weight_decay=settings['weightDecay'])
        restore_checkpoint(directory, groups_of(net, sgd), only=('sgd',))
        labels = torch.from_numpy(np.fromfile(label_path, dtype=np.int32).reshape(n, h, w).astype(np.int64))
        drop = settings.get('dropPath')
        drop_path = DropPath(drop['keepProb'], drop['progress'], drop['seed'], range(n)) if drop else None
        logits = net(images_of(source, n, h, w), drop_path)
        loss_sum, valid = training_loss(logits, labels)
        loss = loss_sum / max(int(valid), 1)
        sgd.zero_grad()
        loss.backward()
        sgd.step()
        save_checkpoint(out, groups_of(net, sgd), {'net': meta['net']}, 'step')
        print(json.dumps({'loss': float(loss)}))
        return
    if what == 'batch':
        root, batch_size, crop, low, high, seed, iteration, out = argv[1], int(argv[2]), int(argv[3]), float(argv[4]), float(argv[5]), int(argv[6]), int(argv[7]), argv[8]
        loader = BatchLoader(list_split(root, 'train'), batch_size, crop, [low, high], seed)
        images, labels = loader.load(iteration)
        images.transpose(0, 2, 3, 1).astype('<f4').tofile(out + '.images')
        labels.astype(np.uint8).tofile(out + '.labels')
        return
    if what == 'constants':
        with open(PRESETS_FILE) as f:
            presets = json.load(f)
        print(json.dumps({'config': parse_retrain_config(json.loads(argv[1])), 'presets': presets, 'trainIds': TRAIN_ID_LUT[:256].tolist()}))
        return
    raise SystemExit(f'unknown command {what}')


if __name__ == '__main__':
    main(sys.argv[1:])
