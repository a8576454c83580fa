import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArchitecture } from '@adl/trellis';
import { describe, expect, it } from 'vitest';
import { runDecode } from './commands.js';

const dir = mkdtempSync(join(tmpdir(), 'adl-decode-'));

describe('adl decode', () => {
  it('turns an α/β snapshot into an architecture file that the schema accepts', async () => {
    const alpha = Array.from({ length: 20 }, (_, e) => Array.from({ length: 8 }, (_, k) => (k === 4 + (e % 4) ? 1 : 0)));
    const beta = Array.from({ length: 12 }, () => Array.from({ length: 4 }, () => [0, 1, 0]));
    writeFileSync(join(dir, 'epoch-039.json'), JSON.stringify({ epoch: 39, alpha, beta }));
    const out = join(dir, 'architecture.json');
    const architecture = await runDecode(join(dir, 'epoch-039.json'), { out, filterMultiplier: 20, blocks: 5 });
    expect(architecture.path).toEqual(Array(12).fill(0));
    expect(architecture.genotype[0]).toEqual([0, 'sep_conv_3x3']);
    expect(parseArchitecture(JSON.parse(readFileSync(out, 'utf8')), out)).toEqual(architecture);
  });

  it('names the file when it holds no α/β', async () => {
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ alpha: 1 }));
    await expect(runDecode(join(dir, 'other.json'), { filterMultiplier: 20, blocks: 5 })).rejects.toThrow(/other\.json: expected an object with "alpha" and "beta" arrays/);
    // α/β of another shape than the blocks asked for.
    const alpha = Array.from({ length: 14 }, () => Array(8).fill(0));
    writeFileSync(join(dir, 'four-blocks.json'), JSON.stringify({ alpha, beta: [[[0, 1, 0]]] }));
    await expect(runDecode(join(dir, 'four-blocks.json'), { filterMultiplier: 20, blocks: 5 })).rejects.toThrow(/^.*four-blocks\.json: /);
  });

  it('decodes α by the op order the file names, refuses ops that are not ours, and reads a file saved with a byte-order mark', async () => {
    const ops = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'atrous_conv_3x3', 'atrous_conv_5x5'];
    const reversed = [...ops].reverse();
    // Every edge favours sep_conv_5x5, written in the reversed column order.
    const alpha = Array.from({ length: 20 }, () => reversed.map((op) => (op === 'sep_conv_5x5' ? 1 : 0)));
    const beta = Array.from({ length: 12 }, () => Array.from({ length: 4 }, () => [0, 1, 0]));
    writeFileSync(join(dir, 'reversed.json'), `\uFEFF${JSON.stringify({ ops: reversed, alpha, beta })}`);
    const architecture = await runDecode(join(dir, 'reversed.json'), { filterMultiplier: 20, blocks: 5 });
    expect(new Set(architecture.genotype.map(([, op]) => op))).toEqual(new Set(['sep_conv_5x5']));
    writeFileSync(join(dir, 'foreign.json'), JSON.stringify({ ops: [...ops.slice(0, 7), 'conv_7x7'], alpha, beta }));
    await expect(runDecode(join(dir, 'foreign.json'), { filterMultiplier: 20, blocks: 5 })).rejects.toThrow(/foreign\.json: ops \[.*"conv_7x7"\] are not the 8 candidate operations \(none, .*\) in some order/);
  });
});
