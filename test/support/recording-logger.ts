// A Logger that keeps every line as "LEVEL message", for tests that check what was logged.
import type { Logger } from '../../src/log/logger-interface.js';

export function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  return { logger: { error: at('error'), warn: at('warn'), info: at('info'), verbose: at('verbose'), debug: at('debug') }, lines };
}
