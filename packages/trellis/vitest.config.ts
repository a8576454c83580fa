import { packageTestConfig } from '../../vitest.shared.js';

// Supernet forward and backward passes on 2 cores take minutes when the WebGPU group (software
// adapter) and other packages' tests run beside them.
export default packageTestConfig({ setupFile: 'src/test-setup.ts', timeout: 600_000 });
