'use strict';
// The compiled addon, or why it is missing. Loading never throws.
const fs = require('node:fs');
const path = require('node:path');

let binding = null;
let reason = null;
try {
  binding = require('./build/Release/adl_onednn.node');
} catch (error) {
  const skipped = path.join(__dirname, 'build', 'skipped.txt');
  reason = fs.existsSync(skipped)
    ? `not built: ${fs.readFileSync(skipped, 'utf8').trim()}`
    : `could not load the addon: ${String(error && error.message).split('\n')[0]}`;
}

module.exports = { binding, reason };
