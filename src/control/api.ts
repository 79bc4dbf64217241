/**
 * The admin interface's HTTP API, shared by the server's routes and `turnpike admin`'s
 * client so that neither can drift: every body, request and response, is JSON.
 *
 *   GET  /sessions[?user=U]   SessionReport[]
 *   POST /disconnect          {"id":N} or {"user":"U"}  ->  {"disconnected":N}
 *   POST /reload              ReloadReport
 *   POST /drain               DrainReport
 *   GET  /stats               {"name":number,…}
 *   GET  /loglevel            {"level":L}
 *   PUT  /loglevel            {"level":L}  ->  {"level":L}
 *
 * Errors are {"error":"…"} with 400, 401 (HTTP without the right bearer token), 404, 405 or 413.
 */
import type { LogLevel } from '../config/server-options.js';

export const ADMIN_PATHS = Object.freeze({
  sessions: '/sessions',
  disconnect: '/disconnect',
  reload: '/reload',
  drain: '/drain',
  stats: '/stats',
  loglevel: '/loglevel',
});

export interface DisconnectResult {
  readonly disconnected: number;
}

export interface LogLevelBody {
  readonly level: LogLevel;
}

export interface ErrorBody {
  readonly error: string;
}
