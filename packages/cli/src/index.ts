export { createProgram } from './program.js';
export { summarize, formatSummary, loadArchitecture, CliError, type Summary, type SummaryOptions } from './summary.js';
export { runDecode, runRetrain, runSearch } from './commands.js';
