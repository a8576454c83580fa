export { createProgram } from './program.js';
export { summarize, formatSummary, loadArchitecture, CliError, type Summary, type SummaryOptions } from './summary.js';
export { runDecode, runRetrain, runSearch } from './commands.js';
export { runEval, resolveConfig, EvalConfigSchema, type EvalConfig } from './eval-command.js';
export { runPredict, type PredictOptions } from './predict-command.js';
export { runBench, type BenchOptions } from './bench-command.js';
export { runExport, type ExportOptions } from './export-command.js';
