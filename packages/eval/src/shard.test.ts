import { describe, expect, it } from 'vitest';
import { itemsOfShard, parseShard } from './shard.js';

describe('shards of a list', () => {
  it('item k belongs to shard k mod N: the shards are disjoint and cover the list', () => {
    const items = Array.from({ length: 10 }, (_, k) => k);
    const shards = [0, 1, 2].map((index) => itemsOfShard(items, { index, count: 3 }));
    expect(shards).toEqual([[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]);
    expect(itemsOfShard(items, { index: 0, count: 1 })).toEqual(items);
  });

  it('parses I/N, a Slurm array task (its position from MIN by STEP) and a Kubernetes index with its count', () => {
    expect(parseShard('2/3', {})).toEqual({ index: 2, count: 3 });
    expect(parseShard('auto', { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '4' })).toEqual({ index: 1, count: 4 });
    expect(parseShard('auto', { SLURM_ARRAY_TASK_ID: '7', SLURM_ARRAY_TASK_MIN: '3', SLURM_ARRAY_TASK_STEP: '2', SLURM_ARRAY_TASK_COUNT: '3' })).toEqual({ index: 2, count: 3 });
    expect(parseShard('auto/4', { JOB_COMPLETION_INDEX: '3' })).toEqual({ index: 3, count: 4 });
  });

  it('refuses what names no shard, in one line that says what is missing', () => {
    expect(() => parseShard('3/3', {})).toThrow('--shard 3/3: shard 3 is not one of 0…2');
    expect(() => parseShard('1/0', {})).toThrow('--shard 1/0: expected I/N, auto or auto/N with N a whole number from 1');
    expect(() => parseShard('a/2', {})).toThrow(/expected I\/N/);
    expect(() => parseShard('1', {})).toThrow(/expected I\/N/);
    expect(() => parseShard('auto', {})).toThrow('--shard auto: neither SLURM_ARRAY_TASK_ID (a Slurm job array) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set');
    expect(() => parseShard('auto', { JOB_COMPLETION_INDEX: '0' })).toThrow(/carries no count; give it: --shard auto\/N/);
    expect(() => parseShard('auto/5', { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '4' })).toThrow('--shard auto/5: the Slurm array has 4 tasks, not 5');
    expect(() => parseShard('auto/4', { JOB_COMPLETION_INDEX: '4' })).toThrow(/shard 4 is not one of 0…3/);
  });
});
