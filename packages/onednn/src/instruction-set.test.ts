import { describe, expect, it } from 'vitest';
import { CPU_ISAS, instructionSet } from './instruction-set.js';

// The test groups that cap oneDNN (`test:avx2`, `test:sse41`) run the kernels users' older CPUs get:
// this says which ran, and fails where the cap did not take.
describe.runIf(instructionSet())('the instruction set oneDNN runs', () => {
  it('is at most the one ONEDNN_MAX_CPU_ISA allows', () => {
    const isa = instructionSet()!;
    const cap = process.env.ONEDNN_MAX_CPU_ISA;
    console.log(`oneDNN kernels: ${isa} (ONEDNN_MAX_CPU_ISA ${cap ? `= ${cap}` : 'unset'})`);
    expect(CPU_ISAS).toContain(isa);
    if (cap) expect(CPU_ISAS.indexOf(isa as (typeof CPU_ISAS)[number])).toBeLessThanOrEqual(CPU_ISAS.indexOf(cap.toUpperCase() as (typeof CPU_ISAS)[number]));
  });
});
