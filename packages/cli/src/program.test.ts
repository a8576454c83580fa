import { describe, expect, it } from 'vitest';
import { errorsOf } from './test-program.js';

describe('adl options', () => {
  it('bench: --warmup takes 0 (no untimed run), --runs needs at least one', async () => {
    expect(await errorsOf('bench', '--arch', '/nonexistent.json', '--warmup', '0')).not.toMatch(/warmup/);
    expect(await errorsOf('bench', '--arch', '/nonexistent.json', '--warmup', '-1')).toMatch(/'--warmup <count>' argument '-1' is invalid\. expected 0 or a positive integer/);
    expect(await errorsOf('bench', '--arch', '/nonexistent.json', '--runs', '0')).toMatch(/'--runs <count>' argument '0' is invalid\. expected a positive integer/);
  });
});
