import { packageTestConfig } from '../../vitest.shared.js';

// The DDP run starts two Python processes that import PyTorch: tens of seconds on 2 cores.
export default packageTestConfig({ setupFile: 'src/test-setup.ts', timeout: 600_000 });
