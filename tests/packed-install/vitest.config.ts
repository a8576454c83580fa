import { packageTestConfig } from '../../vitest.shared.js';

// npm installs from the registry and builds the onednn addon: minutes, not seconds.
export default packageTestConfig({ timeout: 900_000 });
