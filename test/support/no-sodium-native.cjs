// Preloaded with `node --require` (NODE_OPTIONS) to stand for a machine where
// sodium-native's native binding cannot load (issue 18: "simulate it in a test
// by forcing the fallback"): resolving 'sodium-native' throws, as it does when
// the package is missing or has no binary for the platform.
'use strict';
const Module = require('node:module');

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'sodium-native' || request.startsWith('sodium-native/')) {
    const err = new Error(`Cannot find module '${request}' (simulated: no binding for this platform)\nRequire stack: …`);
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  }
  return resolve.call(this, request, ...rest);
};
