import { packageTestConfig } from '../../vitest.shared.js';

export default packageTestConfig({ setupFile: 'src/test-setup.ts' });
