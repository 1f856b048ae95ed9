// Preloaded into Portkey's gateway by sluice-bench (`node --require`); see bench/src/peers/portkey.rs.
'use strict';
// 1. The server listens on all interfaces and has no host option: bind it to 127.0.0.1.
const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number') {
    if (args.length > 1 && args[1] === undefined) args[1] = '127.0.0.1';
    else if (args.length === 1 || typeof args[1] === 'function') args.splice(1, 0, '127.0.0.1');
  }
  return listen.apply(this, args);
};
// 2. Portkey-AI/gateway#1389 and #1550: @hono/node-server installs its own global Response, whose
// `new Response(body, upstreamResponse)` keeps the upstream's immutable headers; the gateway then
// appends its x-portkey-* headers and every streamed chat completion fails with
// `TypeError: immutable`. Copy the headers instead (what the proposed fix, PR #1551, does).
const FetchResponse = globalThis.Response;
const define = Object.defineProperty;
Object.defineProperty = function (obj, key, desc) {
  if (obj === globalThis && key === 'Response' && desc && typeof desc.value === 'function') {
    const Hono = desc.value;
    desc = {
      ...desc,
      value: class Response extends Hono {
        constructor(body, init) {
          if (init instanceof FetchResponse) {
            init = { status: init.status, statusText: init.statusText, headers: new Headers(init.headers) };
          }
          super(body, init);
        }
      },
    };
  }
  return define.call(this, obj, key, desc);
};
