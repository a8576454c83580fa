// The CPU's flags as Linux lists them in /proc/cpuinfo (`flags` on x86, `Features` on Arm), or null
// where there are none. One parser for the build (scripts/build.cjs records the build machine's) and
// the loader (src/addon-variant.ts compares this machine's with them).
'use strict';
const fs = require('node:fs');

function cpuFlags(cpuinfo) {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return null;
    }
  }
  const line = /^(?:flags|Features)\s*:(.*)$/m.exec(text);
  return line ? line[1].trim().split(/\s+/) : null;
}

module.exports = { cpuFlags };
