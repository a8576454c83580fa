// Where oneDNN's time goes in a command: runs it with ONEDNN_VERBOSE=1 (each primitive execution on
// one line with its time) and prints the top primitives by total time, grouped by kind,
// implementation, propagation and source layout, then the top single problems.
//
//   node bench/onednn-profile.mjs [--top 10] [--json out.json] -- node packages/trellis/bench/fixed-net.mjs retrain-step --size 769 --runs 1 --warmup 1
//   ONEDNN_MAX_CPU_ISA=AVX2 node bench/onednn-profile.mjs -- …       # the kernels of an AVX2 CPU
//
// The command's own stdout lines that are not oneDNN's are passed through; its stderr is untouched.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const separator = process.argv.indexOf('--');
if (separator < 0 || separator === process.argv.length - 1) {
  console.error('usage: node bench/onednn-profile.mjs [--top N] [--json FILE] -- COMMAND [ARGS…]');
  process.exit(2);
}
const { values: args } = parseArgs({ args: process.argv.slice(2, separator), options: { top: { type: 'string', default: '10' }, json: { type: 'string' } } });
const [command, ...commandArgs] = process.argv.slice(separator + 1);
const started = performance.now();
const result = spawnSync(command, commandArgs, { env: { ...process.env, ONEDNN_VERBOSE: '1', DNNL_VERBOSE: '1' }, encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'inherit'] });
const wallMs = performance.now() - started;
if (result.status !== 0) {
  console.error(`${command} exited ${result.status}`);
  process.exit(1);
}

const groups = new Map();
const problems = new Map();
let isa = 'unknown';
let totalMs = 0;
for (const line of result.stdout.split('\n')) {
  if (!/^(onednn|dnnl)_verbose,/.test(line)) {
    if (line) console.log(line);
    continue;
  }
  const fields = line.split(',');
  if (fields[1] === 'info' && fields[3]?.startsWith('isa:')) isa = fields[3].slice(4);
  if (fields[1] !== 'exec') continue;
  // exec,engine,primitive,implementation,prop_kind,memory_descriptors,attributes,auxiliary,problem_desc,time
  const [, , , primitive, implementation, prop, descriptors, , auxiliary, problem, time] = fields;
  const ms = Number(time);
  totalMs += ms;
  const layout = /src_f32::blocked:(\w+)/.exec(descriptors)?.[1] ?? /diff_src_f32::blocked:(\w+)/.exec(descriptors)?.[1] ?? '';
  const key = `${primitive} ${implementation} ${prop} ${layout}`.trim();
  const group = groups.get(key) ?? { key, calls: 0, ms: 0 };
  group.calls++;
  group.ms += ms;
  groups.set(key, group);
  const problemKey = `${primitive} ${implementation} ${prop} ${auxiliary} ${problem}`;
  const single = problems.get(problemKey) ?? { key: problemKey, calls: 0, ms: 0 };
  single.calls++;
  single.ms += ms;
  problems.set(problemKey, single);
}

const top = Number(args.top);
const table = (title, rows) => {
  console.log(`\n${title}\n\n| # | ms | share | calls | ms / call |\n| --- | ---: | ---: | ---: | ---: |`);
  for (const [i, row] of rows.slice(0, top).entries()) {
    console.log(`| ${i + 1}. \`${row.key}\` | ${row.ms.toFixed(0)} | ${((100 * row.ms) / totalMs).toFixed(1)}% | ${row.calls} | ${(row.ms / row.calls).toFixed(2)} |`);
  }
};
const byTime = (map) => [...map.values()].sort((a, b) => b.ms - a.ms);
console.log(`\noneDNN ISA ${isa}; oneDNN time ${totalMs.toFixed(0)} ms of the command's ${wallMs.toFixed(0)} ms wall time`);
table('By primitive, implementation, propagation and source layout:', byTime(groups));
table('By problem:', byTime(problems));
if (args.json) writeFileSync(args.json, JSON.stringify({ isa, totalMs, wallMs, groups: byTime(groups), problems: byTime(problems) }, null, 2));
