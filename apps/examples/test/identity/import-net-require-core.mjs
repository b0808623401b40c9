import { createRequire } from 'node:module';
import '@aioloop/net';
import probeModule from './probe.cjs';

const core = createRequire(import.meta.url)('@aioloop/core');
await probeModule.probe(core, 'import net, then require core');
