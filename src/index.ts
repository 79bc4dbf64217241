/** The package's library API. */
export { createTurnServer, type TurnServer } from './server.js';
export type { ServerOptions, StaticUser } from './config/server-options.js';
export * as stun from './stun/index.js';
