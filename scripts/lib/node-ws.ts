import { createRequire } from 'node:module';
import type * as WsModule from 'ws';

// Loaded through Node's resolver on purpose: the test setup runs under Vite with the workerd
// plugin's resolve conditions, which would pick ws's browser stub instead of the Node server.
const require = createRequire(import.meta.url);
const ws = require('ws') as typeof WsModule;

export const WebSocket = ws.WebSocket;
export const WebSocketServer = ws.WebSocketServer;
