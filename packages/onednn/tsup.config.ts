import { packageConfig } from '../../tsup.shared.js';

// `shims`: the CommonJS build finds the addon from `import.meta.url` too.
export default packageConfig(['src/index.ts'], { shims: true });
