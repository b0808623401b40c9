'use strict';
const core = require('@aioloop/core');
const { probe } = require('./probe.cjs');

import('@aioloop/net')
  .then(() => probe(core, 'require core, then import net'))
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
