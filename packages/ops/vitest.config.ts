import { packageTestConfig } from '../../vitest.shared.js';

export default packageTestConfig({ setupFile: 'src/testing/setup.ts' });
