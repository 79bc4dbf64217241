/** How `turnpike admin` prints answers for people (scripts take --json instead). */
import type { DrainReport, ReloadReport, SessionReport } from './server-control.js';

/** Columns padded to their widest cell, two spaces apart. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

/** 42s, 3m05s, 2h07m. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** 812 B, 1.5 KiB, 20.3 MiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function sessionsTable(sessions: readonly SessionReport[]): string[] {
  if (sessions.length === 0) return ['no sessions'];
  return renderTable(
    ['ID', 'USER', 'REALM', 'TRANSPORT', 'CLIENT', 'RELAYS', 'AGE', 'EXPIRES IN', 'PERMS', 'CHANNELS', 'FROM CLIENT', 'TO CLIENT'],
    sessions.map((s) => [
      String(s.id),
      s.user,
      s.realm,
      s.transport,
      s.client,
      s.relays.join(','),
      formatDuration(s.ageSeconds),
      formatDuration(s.expiresInSeconds),
      String(s.permissions),
      String(s.channels),
      formatBytes(s.bytesFromClient),
      formatBytes(s.bytesToClient),
    ]),
  );
}

export function statsLines(stats: Readonly<Record<string, number>>): string[] {
  return renderTable(['NAME', 'VALUE'], Object.entries(stats).map(([name, value]) => [name, String(value)]));
}

export function reloadLines(report: ReloadReport): string[] {
  if (!report.ok) return [`reload refused: ${report.error ?? 'no reason given'}`];
  return [
    'configuration reloaded',
    `applied: ${report.applied.length > 0 ? report.applied.join(', ') : 'nothing changed'}`,
    ...(report.needsRestart.length > 0 ? [`changed, but only a restart applies them: ${report.needsRestart.join(', ')}`] : []),
  ];
}

export function drainLines(report: DrainReport): string[] {
  if (!report.draining) return [`not draining; ${report.allocations} allocations are served as usual`];
  return [`draining: new allocations are refused; ${report.allocations} still served; the server exits when they end, or at ${new Date(report.deadline).toISOString()}`];
}
