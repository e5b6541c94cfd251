// The entry of dist/hull-undici.cjs: only the parts of undici that src/registry/transport.ts
// uses (Agent, Pool and Dispatcher.prototype.request). undici's index.js also loads fetch,
// WebSocket, its caches and its mocks, which doubled the bundle's load time (~50 ms to ~25 ms
// at every pull and push).
'use strict';
const Dispatcher = require('undici/lib/dispatcher/dispatcher');
const api = require('undici/lib/api');

// what undici's index.js does to give every dispatcher request(), stream() and the rest
Object.assign(Dispatcher.prototype, api);

module.exports = {
  Agent: require('undici/lib/dispatcher/agent'),
  Pool: require('undici/lib/dispatcher/pool'),
};
