// Builds the addon with node-gyp at install. A failed build never fails the install: the addon is
// optional, and @adl/ops then uses its wasm or cpu backend. The reason is printed and saved.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

// The package, or a folder given as the argument that holds a copy of its binding.gyp and src/ (the
// memory checks build their sanitizer and valgrind builds there, with CXXFLAGS and LDFLAGS).
const root = process.argv[2] ? path.resolve(process.argv[2]) : path.resolve(__dirname, '..');
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

// The addon's own loops are compiled for every CPU of the architecture (oneDNN picks its kernels at
// run time), so an install copied to another machine runs there. ADL_ONEDNN_MARCH=native compiles
// them for this CPU only: a few percent faster on the 129² retraining step with AVX-512, and SIGILL
// on a CPU without its instructions.
const march = process.env.ADL_ONEDNN_MARCH;
if (march) {
  if (!/^[\w.+-]+$/.test(march)) skip(`ADL_ONEDNN_MARCH="${march}" is not a -march value`);
  args.push('--', `-Dadl_march=${march}`);
}

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
