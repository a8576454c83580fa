// Builds the addon with node-gyp at install. A failed build never fails the install: the addon is
// optional, and @adl/ops then uses its wasm or cpu backend. The reason is printed and saved.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const reasonFile = path.join(root, 'build', 'skipped.txt');

function skip(reason) {
  fs.mkdirSync(path.dirname(reasonFile), { recursive: true });
  fs.writeFileSync(reasonFile, `${reason}\n`);
  console.warn(`@adl/onednn: not built (${reason}); the onednn backend is unavailable.`);
  console.warn('@adl/onednn: install g++, make, python3 and libdnnl-dev (Debian/Ubuntu), then run `pnpm rebuild @adl/onednn`.');
  process.exit(0);
}

if (process.env.ADL_ONEDNN === '0') skip('ADL_ONEDNN=0');
if (process.platform === 'win32') skip('Windows is not supported');

let nodeGyp;
try {
  nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  skip('node-gyp is not installed');
}

// Use the headers of the running Node where its installation has them (no download needed).
const prefix = path.resolve(path.dirname(process.execPath), '..');
const args = [nodeGyp, 'rebuild'];
if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
if (result.status !== 0) {
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  const missingHeader = /fatal error: (\S+): No such file/.exec(output);
  const reason = missingHeader
    ? `${missingHeader[1]} not found`
    : /cannot find -ldnnl/.test(output)
      ? 'libdnnl not found'
      : `node-gyp exited with ${result.status ?? result.signal}`;
  skip(reason);
}
fs.rmSync(reasonFile, { force: true });
console.log('@adl/onednn: built');
