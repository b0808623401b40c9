import { packageBuildConfig } from '../../tsup.shared.js';

export default packageBuildConfig(['src/index.ts', 'src/internal.ts']);
