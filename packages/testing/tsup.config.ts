import { packageBuildConfig } from '../../tsup.shared.js';

export default packageBuildConfig(['src/index.ts'], { esmOnly: ['src/conformance.ts'] });
