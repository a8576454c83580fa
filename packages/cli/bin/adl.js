#!/usr/bin/env node
// The `adl` command. A file of its own (not dist/main.js itself), so that package managers can link
// it before the package is built.
import '../dist/main.js';
