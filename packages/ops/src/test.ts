/** Test helpers for code built on `@adl/ops`, runner-agnostic (they throw on failure). */
export { expectNoLeakedTensors } from './testing/leaks.js';
export { checkGradients, type GradientCheckOptions, type GradientCheckResult } from './testing/gradient-check.js';
export { useFastestTestBackend } from './testing/fastest-backend.js';
