/** syslog priorities (RFC 5424: facility × 8 + severity), with coturn's `syslog-facility` names. */
import type { LogLevel } from '../config/server-options.js';

const FACILITIES: Readonly<Record<string, number>> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};

const SEVERITY: Readonly<Record<LogLevel, number>> = { error: 3, warn: 4, info: 6, verbose: 7, debug: 7 };

/** The facility code of `LOG_LOCAL1`, `local1`, `daemon`…; undefined for a name syslog does not have. */
export function syslogFacility(name: string): number | undefined {
  return FACILITIES[name.toLowerCase().replace(/^log_/, '')];
}

export const USER_FACILITY = 1;

export function syslogPriority(facility: number, level: LogLevel): number {
  return facility * 8 + SEVERITY[level];
}
