import { binding } from './binding.js';

/**
 * The instruction sets oneDNN's kernels may use, lowest first, as `ONEDNN_MAX_CPU_ISA` names them
 * (Xeon Phi's left out). oneDNN takes the highest the CPU has, at most the variable's.
 */
export const CPU_ISAS = ['SSE41', 'AVX', 'AVX2', 'AVX2_VNNI', 'AVX512_CORE', 'AVX512_CORE_VNNI', 'AVX512_CORE_BF16', 'AVX512_CORE_AMX'] as const;

/** The instruction set oneDNN's kernels use in this process, or null where the addon is not built. Speed and float summation order follow it. */
export function instructionSet(): string | null {
  return binding ? binding.cpuIsa() : null;
}
