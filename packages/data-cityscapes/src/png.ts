import sharp from 'sharp';
import { writeFileAtomic } from './atomic-write.js';

/** A decoded image: `channels` interleaved 8-bit samples per pixel, row by row. */
export interface RasterImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly data: Uint8Array;
}

/**
 * Decodes a PNG to 8-bit RGB (`channels: 3`) or to its first channel (`channels: 1`).
 * sharp decodes in libvips' thread pool, off the JavaScript thread, so prefetching overlaps compute
 * (bench/png-codecs.mjs compares it with the pure-JS decoders). Throws on a corrupt or truncated file.
 */
export async function readPng(path: string, channels: 1 | 3): Promise<RasterImage> {
  const pipeline = sharp(path, { failOn: 'truncated' });
  const decoded = channels === 1 ? pipeline.extractChannel(0) : pipeline.removeAlpha().toColourspace('srgb');
  const { data, info } = await decoded.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== channels) throw new Error(`decoded ${info.channels} channels, expected ${channels}`);
  return { width: info.width, height: info.height, channels, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** A decoded label map: one id per pixel, row by row, as the file holds it (8 or 16 bits). */
export interface LabelImage {
  readonly width: number;
  readonly height: number;
  readonly ids: Uint8Array | Uint16Array;
}

/**
 * Decodes a label PNG to the ids it holds. 16-bit files are read as raw ids (as Cityscapes' own
 * 16-bit files and many tools write them), not scaled to 8 bits, which would turn every small id
 * into 0. A file with colour or alpha channels is refused: its ids would be a guess.
 */
export async function readLabelPng(path: string): Promise<LabelImage> {
  const file = sharp(path, { failOn: 'truncated' });
  const { channels, depth, isPalette } = await file.metadata();
  if (isPalette || channels !== 1) {
    throw new Error(`${isPalette ? 'palette' : `${channels}-channel`} PNG; a label map must be single-channel grayscale ids`);
  }
  const wide = depth === 'ushort';
  const { data, info } = await file.toColourspace(wide ? 'grey16' : 'b-w').raw({ depth: wide ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
  const ids = wide ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { width: info.width, height: info.height, ids };
}

/** Encodes to PNG and writes atomically (temporary file, then rename): no half-written file remains. */
export async function writePng(path: string, image: RasterImage): Promise<void> {
  const { width, height, channels, data } = image;
  const encoded = await sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels } })
    .toColourspace(channels === 1 ? 'b-w' : 'srgb')
    .png({ compressionLevel: 6 })
    .toBuffer();
  await writeFileAtomic(path, encoded);
}
