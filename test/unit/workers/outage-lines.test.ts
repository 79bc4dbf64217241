// A database outage that several relay workers notice is one line for the server each way.
import { describe, expect, it } from 'vitest';
import { OutageLines } from '../../../src/workers/outage-lines.js';
import { recordingLogger } from '../../support/recording-logger.js';

const PG = 'PostgreSQL user database postgresql://turn@db/turn';
const REDIS = 'Redis statistics database 127.0.0.1:6379';
const down = (database: string) => ({ database, reachable: false });
const up = (database: string) => ({ database, reachable: true });

describe('OutageLines', () => {
  it('says the first worker’s outage line and the last worker’s return, per database', () => {
    const { logger, lines } = recordingLogger();
    const outages = new OutageLines(logger);
    const [w0, w1] = [outages.loggerFor(0), outages.loggerFor(1)];
    w0.warn('pg down (0)', down(PG));
    w1.warn('pg down (1)', down(PG));
    w1.warn('redis down (1)', down(REDIS));
    w0.info('pg back (0)', up(PG));
    w1.info('redis back (1)', up(REDIS));
    w1.info('pg back (1)', up(PG));
    w0.info('allocation 1 created');
    w1.warn('other warning', { database: PG });
    expect(lines).toEqual(['warn pg down (0)', 'warn redis down (1)', 'info redis back (1)', 'info pg back (1)', 'info allocation 1 created', 'warn other warning']);
  });

  it('forgets a dead worker: the others’ return ends the outage, and the next outage is said again', () => {
    const { logger, lines } = recordingLogger();
    const outages = new OutageLines(logger);
    const [w0, w1] = [outages.loggerFor(0), outages.loggerFor(1)];
    w0.warn('down (0)', down(PG));
    w1.warn('down (1)', down(PG));
    outages.workerGone(0);
    w1.info('back (1)', up(PG));
    w1.warn('down again (1)', down(PG));
    expect(lines).toEqual(['warn down (0)', 'info back (1)', 'warn down again (1)']);
  });
});
