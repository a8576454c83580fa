import { packageTestConfig } from '../../vitest.shared.js';

export default packageTestConfig({ timeout: 300_000 });
