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
const nodeGypRebuild = (gypArgs) => spawnSync(process.execPath, [...args, ...gypArgs], { cwd: root, encoding: 'utf8' });

// Two builds. build/Release/adl_onednn.node compiles the addon's own loops for the architecture's
// baseline, so it runs on every CPU of it (oneDNN picks its kernels at run time either way).
// adl_onednn_native.node beside it is compiled for this CPU (-march=native: the 129² retraining
// step took 12% less time with AVX-512), and native-cpu.json lists this CPU's flags: @adl/onednn
// loads it only where the CPU reports every one of them, so an install copied to another machine
// never runs an instruction that machine lacks. ADL_ONEDNN_NATIVE=0 builds the first alone.
const release = path.join(root, 'build', 'Release');
const cpuFlags = require('./cpu-flags.cjs').cpuFlags();
let native = null;
if (process.env.ADL_ONEDNN_NATIVE !== '0' && cpuFlags) {
  if (nodeGypRebuild(['--', '-Dadl_march=native']).status === 0) native = fs.readFileSync(path.join(release, 'adl_onednn.node'));
  else console.warn('@adl/onednn: the build for this CPU (-march=native) failed; only the portable one is used.');
}

const result = nodeGypRebuild([]);
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
if (native) {
  fs.writeFileSync(path.join(release, 'adl_onednn_native.node'), native, { mode: 0o755 });
  fs.writeFileSync(path.join(release, 'native-cpu.json'), `${JSON.stringify({ flags: cpuFlags })}\n`);
}
fs.rmSync(reasonFile, { force: true });
console.log(`@adl/onednn: built${native ? ' (portable, and for this CPU)' : ''}`);
