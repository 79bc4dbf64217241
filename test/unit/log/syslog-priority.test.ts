import { describe, expect, it } from 'vitest';
import { syslogFacility, syslogPriority } from '../../../src/log/syslog-priority.js';
import { loadConfig } from '../../../src/config/index.js';

describe('syslog-facility', () => {
  it('names facilities as coturn does (LOG_LOCAL1) or as syslog does (local1)', () => {
    expect(syslogFacility('LOG_LOCAL1')).toBe(17);
    expect(syslogFacility('local7')).toBe(23);
    expect(syslogFacility('LOG_DAEMON')).toBe(3);
    expect(syslogFacility('LOG_NOWHERE')).toBeUndefined();
  });

  it('puts the facility in each line’s priority: <facility × 8 + severity>', () => {
    expect(syslogPriority(1, 'error')).toBe(11);
    expect(syslogPriority(17, 'warn')).toBe(140);
    expect(syslogPriority(17, 'info')).toBe(142);
    expect(syslogPriority(3, 'debug')).toBe(31);
  });

  it('is read from the configuration, and a name syslog does not have is an error', () => {
    const load = (...args: string[]) => loadConfig(['-n', '-a', '-r', 'r', ...args]);
    expect(load().options.syslogFacility).toBe(1);
    expect(load('--syslog-facility', 'LOG_LOCAL2').options.syslogFacility).toBe(18);
    expect(() => load('--syslog-facility', 'LOG_NOWHERE')).toThrow(/syslog-facility.*not a syslog facility/);
  });
});
