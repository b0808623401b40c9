'use strict';
require('@aioloop/net');
const { probe } = require('./probe.cjs');

import('@aioloop/core')
  .then((core) => probe(core, 'require net, then import core'))
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
