/**
 * Preloaded (`node --import`) where Node.js has no WebSocket of its own (Node.js 18): gives it the `ws` package's,
 * as a Node.js 18 user of the walk-through would (docs/sdk.md).
 */

import { WebSocket } from "ws";

const scope = globalThis as { WebSocket?: unknown };
scope.WebSocket ??= WebSocket;
