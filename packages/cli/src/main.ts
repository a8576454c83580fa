#!/usr/bin/env node
import { createProgram } from './program.js';

createProgram()
  .parseAsync(process.argv)
  .catch((error: Error) => {
    process.stderr.write(`adl: ${error.message}\n`);
    process.exitCode = 1;
  });
