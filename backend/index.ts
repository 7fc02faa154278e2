/**
 * `fanout backend`: the WebSocket routes on an HTTP server of your own (docs/architecture.md, "Routes
 * on your own HTTP backend"). The CLI loads it from here by package name; `make build` bundles
 * bin.ts into dist/backend/index.mjs for containers.
 */
export { type BackendIo, backendMain } from './main.js';
