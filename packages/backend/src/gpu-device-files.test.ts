import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpuDeviceFiles } from './gpu-device-files.js';

describe('gpuDeviceFiles', () => {
  it('finds render nodes, NVIDIA device nodes and /dev/dxg, and nothing else', () => {
    const dev = mkdtempSync(join(tmpdir(), 'adl-dev-'));
    expect(gpuDeviceFiles(dev)).toEqual([]);
    mkdirSync(join(dev, 'dri'));
    for (const name of ['card0', 'by-path']) writeFileSync(join(dev, 'dri', name), '');
    for (const name of ['nvidiactl', 'nvidia-uvm', 'null', 'tty0']) writeFileSync(join(dev, name), '');
    expect(gpuDeviceFiles(dev)).toEqual([]);
    writeFileSync(join(dev, 'dri', 'renderD128'), '');
    for (const name of ['nvidia0', 'dxg']) writeFileSync(join(dev, name), '');
    expect(gpuDeviceFiles(dev).sort()).toEqual([join(dev, 'dri', 'renderD128'), join(dev, 'dxg'), join(dev, 'nvidia0')]);
  });

  it('is empty where the folder does not exist', () => {
    expect(gpuDeviceFiles(join(tmpdir(), 'adl-no-such-dev'))).toEqual([]);
  });
});
