import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import { createProgram } from './program.js';
import { summarize } from './summary.js';
import { fixedNetParameterCount, getPreset } from '@adl/trellis';

const dir = mkdtempSync(join(tmpdir(), 'adl-cli-'));

describe('adl summary', () => {
  it('prints one JSON line {"params", "multAdds"} for a preset', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    await createProgram().parseAsync(['node', 'adl', 'summary', '--preset', 'autodeeplab-s', '--height', '1024', '--width', '2048', '--json']);
    const output = write.mock.calls.map(([chunk]) => String(chunk)).join('');
    write.mockRestore();
    expect(output.trim().split('\n')).toHaveLength(1);
    const { params, multAdds } = JSON.parse(output);
    expect(+(params / 1e6).toFixed(2)).toBe(10.15);
    expect(multAdds).toBeGreaterThan(300e9);
  });

  it('loads an architecture JSON file through the same schema as the presets', async () => {
    const file = join(dir, 'architecture.json');
    writeFileSync(file, JSON.stringify({ path: [0, 1, 1], genotype: [[0, 'sep_conv_3x3'], [1, 'skip_connect']], filterMultiplier: 8 }));
    const summary = await summarize({ arch: file, height: 64, width: 64 });
    expect(summary.stages.map((s) => s.stage)).toEqual(['stem', 'cell 0 (stride 4)', 'cell 1 (stride 8)', 'cell 2 (stride 8)', 'aspp', 'decoder']);
    expect(summary.params).toBe(summary.stages.reduce((sum, s) => sum + s.params, 0));
  });

  it.each([
    [{ arch: join(dir, 'missing.json') }, /missing\.json: cannot read \(ENOENT\)/],
    [{ arch: join(dir, 'broken.json') }, /broken\.json: not valid JSON/],
    [{ arch: join(dir, 'jump.json') }, /jump\.json: path: path\[1\]: level 2 after level 0 jumps by more than one/],
    [{ preset: 'autodeeplab-s', arch: 'x.json' }, /exactly one of --preset and --arch/],
    [{}, /exactly one of --preset and --arch/],
    [{ preset: 'autodeeplab-xl' }, /unknown preset "autodeeplab-xl"/],
  ])('fails clearly (%#)', async (source, message) => {
    writeFileSync(join(dir, 'broken.json'), '{"path": [0,');
    writeFileSync(join(dir, 'jump.json'), JSON.stringify({ path: [0, 2], genotype: [[0, 'sep_conv_3x3'], [1, 'skip_connect']], filterMultiplier: 8 }));
    await expect(summarize({ ...source, height: 64, width: 64 })).rejects.toThrow(message);
  });

  it('counts parameters at any width without building the net, and refuses a width whose weights would not fit in memory', async () => {
    for (const name of ['autodeeplab-s', 'autodeeplab-m', 'autodeeplab-l']) {
      const summary = await summarize({ preset: name, height: 64, width: 64 });
      const tensors = tf.memory().numTensors;
      expect(fixedNetParameterCount({ architecture: getPreset(name), numClasses: 19 })).toBe(summary.params);
      // Its three small builds leave nothing behind.
      expect(tf.memory().numTensors).toBe(tensors);
    }
    const file = join(dir, 'huge.json');
    writeFileSync(file, JSON.stringify({ path: [0, 1, 1], genotype: [[0, 'sep_conv_3x3'], [1, 'skip_connect']], filterMultiplier: 1_000_000 }));
    await expect(summarize({ arch: file, height: 64, width: 64 })).rejects.toThrow(new RegExp(`^${file}: filterMultiplier 1000000 gives \\d\\.\\d\\de\\+\\d+ parameters, \\d\\.\\d\\de\\+\\d+ GB of weights; this machine has \\d+\\.\\d GB$`));
  });
});
