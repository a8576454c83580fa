"""The Cityscapes folder as @adl/data-cityscapes reads it: the same sample list, label ids mapped to
train ids (255 ignored), and the same batches: epoch order, random scale, crop and flip from the same
seeds (mulberry32), so a global batch here holds the pixels `adl retrain` would train on."""
import math
import os

import numpy as np
from PIL import Image

from .rng import Mulberry32, stream_seed

IMAGE_SUFFIX = '_leftImg8bit.png'
LABEL_SUFFIX = '_gtFine_labelIds.png'
IGNORE_INDEX = 255
MAX_LABEL_ID = 33
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)
FLIP_PROBABILITY = 0.5

# Cityscapes label id → train id (labels.py of cityscapesScripts): the 19 training classes.
_TRAIN_IDS = {7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10, 24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18}
TRAIN_ID_LUT = np.full(65536, IGNORE_INDEX, dtype=np.uint8)
for _label, _train in _TRAIN_IDS.items():
    TRAIN_ID_LUT[_label] = _train


class DatasetError(ValueError):
    pass


def js_round(x):
    """JavaScript's Math.round: halves up."""
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5)


def list_split(root, split):
    """(name, image path, label path) of every image of a split, by city and file name."""
    image_dir, label_dir = os.path.join(root, 'leftImg8bit', split), os.path.join(root, 'gtFine', split)
    for folder in (image_dir, label_dir):
        if not os.path.isdir(folder):
            raise DatasetError(f'{folder}: missing (expected leftImg8bit/{{train,val,test}}/<city>/ and gtFine/… as in Cityscapes)')
    samples = []
    for city in sorted(e.name for e in os.scandir(image_dir) if e.is_dir()):
        for file in sorted(f for f in os.listdir(os.path.join(image_dir, city)) if f.endswith(IMAGE_SUFFIX)):
            name = file[: -len(IMAGE_SUFFIX)]
            label = os.path.join(label_dir, city, name + LABEL_SUFFIX)
            if not os.path.isfile(label):
                raise DatasetError(f'{os.path.join(image_dir, city, file)}: no label {label}')
            samples.append((name, os.path.join(image_dir, city, file), label))
    return samples


def load_sample(sample):
    """RGB uint8 [H, W, 3] and train ids uint8 [H, W]."""
    _, image_path, label_path = sample
    image = np.asarray(Image.open(image_path).convert('RGB'))
    ids = np.asarray(Image.open(label_path)).astype(np.int64)
    if ids.ndim != 2:
        raise DatasetError(f'{label_path}: not a single-channel label map')
    if ids.shape != image.shape[:2]:
        raise DatasetError(f'{label_path}: {ids.shape[0]}×{ids.shape[1]} label for a {image.shape[0]}×{image.shape[1]} image')
    if ids.max(initial=0) > MAX_LABEL_ID:
        raise DatasetError(f'{label_path}: value {ids.max()} is not a Cityscapes label id (0–{MAX_LABEL_ID})')
    return image, TRAIN_ID_LUT[ids]


def scaled_crop(image, train_ids, scale, top, left, crop, flip):
    """The crop of the image scaled by `scale` at (top, left), normalised, maybe flipped (@adl/data-cityscapes `scaledCrop`)."""
    h0, w0 = train_ids.shape
    height, width = max(1, int(js_round(h0 * scale))), max(1, int(js_round(w0 * scale)))
    sy, sx = h0 / height, w0 / width
    pixels = np.zeros((crop, crop, 3), dtype=np.float32)
    labels = np.full((crop, crop), IGNORE_INDEX, dtype=np.uint8)
    ys = np.arange(crop) + top
    xs = left + (np.arange(crop)[::-1] if flip else np.arange(crop))
    rows, cols = np.nonzero(ys < height)[0], np.nonzero(xs < width)[0]
    if rows.size == 0 or cols.size == 0:
        return pixels, labels
    fy = np.minimum(np.maximum((ys[rows] + 0.5) * sy - 0.5, 0), h0 - 1)
    y0 = np.floor(fy).astype(np.int64)
    y1 = np.minimum(y0 + 1, h0 - 1)
    wy = (fy - y0)[:, None, None]
    ny = np.minimum(np.floor((ys[rows] + 0.5) * sy), h0 - 1).astype(np.int64)
    fx = np.minimum(np.maximum((xs[cols] + 0.5) * sx - 0.5, 0), w0 - 1)
    x0 = np.floor(fx).astype(np.int64)
    x1 = np.minimum(x0 + 1, w0 - 1)
    wx = (fx - x0)[None, :, None]
    nx = np.minimum(np.floor((xs[cols] + 0.5) * sx), w0 - 1).astype(np.int64)
    data = image.astype(np.float64)
    upper = data[y0][:, x0] * (1 - wx) + data[y0][:, x1] * wx
    lower = data[y1][:, x0] * (1 - wx) + data[y1][:, x1] * wx
    value = (js_round(upper * (1 - wy) + lower * wy) - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    pixels[np.ix_(rows, cols)] = value.astype(np.float32)
    labels[np.ix_(rows, cols)] = train_ids[ny][:, nx]
    return pixels, labels


def augment(image, train_ids, crop, scale_range, random):
    """Random scale, crop and flip from `random`, in the order of @adl/data-cityscapes `augment`."""
    scale = random.uniform(scale_range[0], scale_range[1])
    h0, w0 = train_ids.shape
    height, width = max(1, int(js_round(h0 * scale))), max(1, int(js_round(w0 * scale)))
    top = random.int(max(height - crop, 0) + 1)
    left = random.int(max(width - crop, 0) + 1)
    flip = random.next() < FLIP_PROBABILITY
    return scaled_crop(image, train_ids, scale, top, left, crop, flip)


class BatchLoader:
    """Global batches of `batch_size` as @adl/data-cityscapes `BatchLoader` draws them; `load(it, part)`
    gives the samples `part` (a range of positions in the batch) of iteration `it`'s batch."""

    def __init__(self, samples, batch_size, crop, scale, seed):
        if len(samples) < batch_size:
            raise DatasetError(f'{len(samples)} image(s), fewer than one batch of {batch_size}')
        self.samples, self.batch_size, self.crop, self.scale, self.seed = samples, batch_size, crop, scale, seed
        self.batches_per_epoch = len(samples) // batch_size
        self._order = (None, None)

    def batch_samples(self, epoch, batch):
        if self._order[0] != epoch:
            self._order = (epoch, Mulberry32(stream_seed(self.seed, epoch, -1)).shuffle(self.samples))
        return self._order[1][batch * self.batch_size:(batch + 1) * self.batch_size]

    def load(self, iteration, part=None):
        """Images [n, 3, crop, crop] float32 (NCHW) and labels [n, crop, crop] int64."""
        epoch, batch = divmod(iteration, self.batches_per_epoch)
        chosen = self.batch_samples(epoch, batch)
        positions = part if part is not None else range(len(chosen))
        images, labels = [], []
        for i in positions:
            random = Mulberry32(stream_seed(self.seed, epoch, batch * self.batch_size + i))
            pixels, ids = augment(*load_sample(chosen[i]), self.crop, self.scale, random)
            images.append(pixels.transpose(2, 0, 1))
            labels.append(ids)
        return np.stack(images), np.stack(labels).astype(np.int64)


def normalise(image):
    """A whole image as the network reads it in evaluation: [1, 3, H, W] float32."""
    value = (image.astype(np.float64) - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    return value.astype(np.float32).transpose(2, 0, 1)[None]
