import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addonLoadFailure } from './binding.js';

describe('why the addon did not load', () => {
  let root: string;
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const missing = new Error("Cannot find module '/x/build/Release/adl_onednn.node'\nRequire stack: …");

  it('the build script skipped it: its saved reason', () => {
    root = mkdtempSync(join(tmpdir(), 'adl-onednn-'));
    mkdirSync(join(root, 'build'));
    writeFileSync(join(root, 'build', 'skipped.txt'), 'dnnl.hpp not found\n');
    expect(addonLoadFailure(root, missing)).toBe('not built: dnnl.hpp not found');
  });

  it('the install script never ran (pnpm blocks it until approved): how to build it', () => {
    root = mkdtempSync(join(tmpdir(), 'adl-onednn-'));
    expect(addonLoadFailure(root, missing)).toBe('not built: its install script did not run (pnpm: `pnpm approve-builds`, then `pnpm rebuild @adl/onednn`)');
  });

  it('built but not loadable: the loader error, first line only', () => {
    root = mkdtempSync(join(tmpdir(), 'adl-onednn-'));
    mkdirSync(join(root, 'build', 'Release'), { recursive: true });
    expect(addonLoadFailure(root, new Error('libdnnl.so.2: cannot open shared object file\nmore'))).toBe('could not load the addon: libdnnl.so.2: cannot open shared object file');
  });
});
