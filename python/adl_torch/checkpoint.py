"""Checkpoints in the layout of @adl/search (`checkpoint.json` naming a float32 data file, with its
size and SHA-256), mapped onto a PyTorch `FixedNet`: group `weights` ↔ its parameters, `batchNorm` ↔
its BN running statistics, `sgd` ↔ SGD's momentum buffers, all in registration order. The TypeScript
side stores filters as HWIO (depthwise: [k, k, C, 1]); PyTorch as OIHW (depthwise: [C, 1, k, k])."""
import hashlib
import json
import math
import os
import re

import numpy as np
import torch
import torch.nn as nn

CHECKPOINT_MANIFEST = 'checkpoint.json'
KEPT_MANIFEST = re.compile(r'^checkpoint-(.+)\.json$')
# Beyond it a value's square overflows float32 (@adl/search `MAX_MAGNITUDE`): the run has diverged.
MAX_MAGNITUDE = math.sqrt(3.4028234663852886e38)


class CheckpointError(ValueError):
    pass


def kept_manifest_name(tag):
    return f'checkpoint-{tag}.json'


def _parameter_layouts(model):
    """Each parameter with how it is stored on the TypeScript side: 'conv' (HWIO), 'depthwise' or 'plain'."""
    layouts = []
    for module in model.modules():
        for name, parameter in module.named_parameters(recurse=False):
            kind = 'plain'
            if isinstance(module, nn.Conv2d) and name == 'weight':
                kind = 'depthwise' if module.groups > 1 else 'conv'
            layouts.append((parameter, kind))
    return layouts


def _to_ours(tensor, kind):
    if kind == 'conv':
        return tensor.permute(2, 3, 1, 0)
    if kind == 'depthwise':
        return tensor.permute(2, 3, 0, 1)
    return tensor


def _from_ours(array, kind):
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if kind == 'conv':
        return tensor.permute(3, 2, 0, 1)
    if kind == 'depthwise':
        return tensor.permute(2, 3, 0, 1)
    return tensor


def batch_norm_statistics(model):
    """The running mean and variance of every BN, in order (the `batchNorm` group)."""
    out = []
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            out += [module.running_mean, module.running_var]
    return out


def groups_of(model, optimizer=None):
    """Group name → [(tensor, layout)] in the order a TypeScript checkpoint of the same net holds them."""
    layouts = _parameter_layouts(model)
    groups = {'weights': layouts, 'batchNorm': [(t, 'plain') for t in batch_norm_statistics(model)]}
    if optimizer is not None:
        velocity = []
        for parameter, kind in layouts:
            state = optimizer.state.setdefault(parameter, {})
            if state.get('momentum_buffer') is None:
                state['momentum_buffer'] = torch.zeros_like(parameter)
            velocity.append((state['momentum_buffer'], kind))
        groups['sgd'] = velocity
    return groups


def write_atomic(path, data):
    """Writes bytes or text through a temporary file and a rename: a kill leaves the old file or the new one."""
    temporary = f'{path}.{os.getpid()}'
    with open(temporary, 'wb') as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.replace(temporary, path)


def save_checkpoint(directory, groups, meta, tag, keep=None):
    """Writes the data file, then (with `keep`) the kept manifest, then `checkpoint.json`, then removes
    what is no longer kept: the order of @adl/search `saveCheckpoint`, so a kill leaves a whole one."""
    os.makedirs(directory, exist_ok=True)
    tensors, parts, offset = [], [], 0
    for group, entries in groups.items():
        for index, (tensor, kind) in enumerate(entries):
            values = _to_ours(tensor.detach().cpu().float(), kind).contiguous().numpy()
            if not np.all(np.abs(values) <= MAX_MAGNITUDE):
                raise NonFiniteValueError(f'{group}[{index}] holds a value beyond ±1.8e19 (diverged)')
            tensors.append({'group': group, 'shape': list(values.shape), 'offset': offset})
            parts.append(values.reshape(-1))
            offset += values.size
    data = np.concatenate(parts).astype('<f4').tobytes() if parts else b''
    checksum = hashlib.sha256(data).hexdigest()
    name = f'checkpoint-{tag}-{checksum[:12]}.bin'
    write_atomic(os.path.join(directory, name), data)
    manifest = {'version': 2, 'data': name, 'bytes': len(data), 'sha256': checksum, 'tensors': tensors, 'meta': meta}
    text = (json.dumps(manifest, separators=(',', ':'), allow_nan=False) + '\n').encode()
    if keep is not None:
        write_atomic(os.path.join(directory, kept_manifest_name(tag)), text)
    write_atomic(os.path.join(directory, CHECKPOINT_MANIFEST), text)
    named = set()
    for file in sorted(os.listdir(directory)):
        match = KEPT_MANIFEST.match(file)
        if match is None and file != CHECKPOINT_MANIFEST:
            continue
        if match and keep is not None and match.group(1) not in keep:
            os.remove(os.path.join(directory, file))
            continue
        try:
            with open(os.path.join(directory, file)) as f:
                named.add(json.load(f)['data'])
        except (OSError, ValueError, KeyError):
            pass
    for file in os.listdir(directory):
        if file.startswith('checkpoint-') and file.endswith('.bin') and file not in named:
            os.remove(os.path.join(directory, file))


class NonFiniteValueError(ValueError):
    pass


def read_checkpoint(directory):
    """The manifest and the values of the data file, checked as @adl/search `readCheckpoint` checks them."""
    path = os.path.join(directory, CHECKPOINT_MANIFEST)
    try:
        with open(path) as f:
            manifest = json.load(f)
    except FileNotFoundError:
        raise CheckpointError(f'{path}: no checkpoint here') from None
    except json.JSONDecodeError as error:
        raise CheckpointError(f'{path}: not valid JSON ({error})') from None
    data = manifest.get('data')
    if not isinstance(data, str) or data != os.path.basename(data) or data.startswith('.'):
        raise CheckpointError(f'{path}: data file {json.dumps(data)} is not a file of the checkpoint folder')
    data_path = os.path.join(directory, data)
    try:
        with open(data_path, 'rb') as f:
            raw = f.read()
    except FileNotFoundError:
        raise CheckpointError(f'{data_path}: missing (named by {CHECKPOINT_MANIFEST})') from None
    if manifest.get('bytes') is not None and len(raw) != manifest['bytes']:
        raise CheckpointError(f'{data_path}: {len(raw)} bytes, the manifest describes {manifest["bytes"]} (truncated or replaced)')
    if manifest.get('sha256') is not None and hashlib.sha256(raw).hexdigest() != manifest['sha256']:
        raise CheckpointError(f'{data_path}: checksum differs from the manifest\'s (the file is damaged or was changed)')
    return manifest, np.frombuffer(raw, dtype='<f4'), data_path


def restore_checkpoint(directory, groups, only=None):
    """Assigns the saved values to `groups` (all, or the names in `only`), checking counts and shapes; returns the meta data."""
    manifest, values, data_path = read_checkpoint(directory)
    for group, entries in groups.items():
        if only is not None and group not in only:
            continue
        saved = [t for t in manifest['tensors'] if t['group'] == group]
        if len(saved) != len(entries):
            raise CheckpointError(f'{data_path}: group "{group}" holds {len(saved)} tensors, the model has {len(entries)}')
        for index, ((tensor, kind), entry) in enumerate(zip(entries, saved)):
            size = int(np.prod(entry['shape'])) if entry['shape'] else 1
            array = values[entry['offset']:entry['offset'] + size].reshape(entry['shape'])
            converted = _from_ours(array, kind)
            if tuple(converted.shape) != tuple(tensor.shape):
                raise CheckpointError(f'{data_path}: {group}[{index}] has shape {entry["shape"]}, the model {list(_to_ours(tensor, kind).shape)}')
            with torch.no_grad():
                tensor.copy_(converted)
    return manifest['meta']
