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
 * Decodes an 8-bit PNG to RGB (`channels: 3`) or to its first channel (`channels: 1`, label maps).
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

/** Encodes to PNG and writes atomically (temporary file, then rename): no half-written file remains. */
export async function writePng(path: string, image: RasterImage): Promise<void> {
  const { width, height, channels, data } = image;
  const encoded = await sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels } })
    .toColourspace(channels === 1 ? 'b-w' : 'srgb')
    .png({ compressionLevel: 6 })
    .toBuffer();
  await writeFileAtomic(path, encoded);
}
