/** The admin interface: what a running server exposes, and `turnpike admin`'s commands for it. */
export { startAdminInterface, type AdminInterface } from './admin-server.js';
export { createServerControl, type ServerLifecycle } from './create-server-control.js';
export { ADMIN_COMMANDS, isAdminCommand, runAdminCommand } from './admin-cli.js';
export type { DrainReport, ReloadReport, ServerControl, SessionReport } from './server-control.js';
