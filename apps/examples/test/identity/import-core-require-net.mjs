import { createRequire } from 'node:module';
import * as core from '@aioloop/core';
import probeModule from './probe.cjs';

createRequire(import.meta.url)('@aioloop/net');
await probeModule.probe(core, 'import core, then require net');
