// docker/fleet/: the compose example of a three-node fleet, checked without Docker. Each node's
// configuration (the shared turnserver.conf plus the node's flags in compose.yml) loads as
// Turnpike loads it, and forms a fleet: every node is on the one alternate-server list (so it
// serves until it drains, then sends newcomers to the others), relay ranges do not collide, and
// the user database and Redis strings reach the postgres and redis services as compose sets
// them up. (`docker compose -f docker/fleet/compose.yml config` checks the YAML itself.)
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type ServerOptions } from '../../../src/config/index.js';
import { ROOT } from '../../support/turnpike-process.js';

const DIR = path.join(ROOT, 'docker/fleet');
const CONF = path.join(DIR, 'turnserver.conf');
const COMPOSE = fs.readFileSync(path.join(DIR, 'compose.yml'), 'utf8');

/** A service's block of compose.yml: its indented lines up to the next service (the file keeps one level of services). */
function service(name: string): string {
  const block = COMPOSE.match(new RegExp(`^  ${name}:\\n((?:(?:    .*)?\\n)*)`, 'm'))?.[1];
  if (block === undefined) throw new Error(`docker/fleet/compose.yml has no service ${name}`);
  return block;
}
/** `key: value` in a block (the example writes each on one line; a flow sequence is JSON). */
function field(block: string, key: string): string {
  const value = block.match(new RegExp(`^ +${key}: (.+)$`, 'm'))?.[1];
  if (value === undefined) throw new Error(`no ${key} in:\n${block}`);
  return value.replace(/ #.*$/, '').replace(/^"(.*)"$/, '$1');
}

const NODES = ['turnpike-1', 'turnpike-2', 'turnpike-3'];
const nodes = NODES.map((name) => {
  const block = service(name);
  const flags = JSON.parse(field(block, 'command')) as string[];
  const options: ServerOptions = loadConfig(['-c', CONF, ...flags], { cwd: DIR }).options;
  return { name, options, healthcheckHost: field(block, 'TURNPIKE_HEALTHCHECK_HOST') };
});

describe('docker/fleet: three nodes from one turnserver.conf and their flags', () => {
  it('each node listens and relays on its own address, in relay ranges that do not collide', () => {
    const addresses = nodes.map((n) => n.options.listeningIps);
    expect(addresses).toEqual([['127.0.0.1'], ['127.0.0.2'], ['127.0.0.3']]);
    for (const n of nodes) {
      expect(n.options.relayIps, n.name).toEqual(n.options.listeningIps);
      expect(n.healthcheckHost, n.name).toBe(n.options.listeningIps[0]);
    }
    const ranges = nodes.map((n) => [n.options.minPort, n.options.maxPort] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0], 'relay ranges overlap').toBeGreaterThan(ranges[i - 1]![1]);
  });

  it('every node is on the one alternate-server list: it serves, and draining sends newcomers to the others', () => {
    for (const n of nodes) {
      const here = { family: 4, address: n.options.listeningIps[0], port: n.options.listeningPort };
      expect(n.options.redirect.alternateServers, n.name).toContainEqual(here);
      expect(n.options.redirect.alternateServers, n.name).toEqual(nodes[0]!.options.redirect.alternateServers);
    }
    expect(nodes[0]!.options.redirect.alternateServers).toHaveLength(nodes.length);
  });

  it("reaches the postgres and redis services with the user, password, database and ports compose gives them", () => {
    const postgres = service('postgres');
    const published = (block: string) => Number(block.match(/- "127\.0\.0\.1:(\d+):\d+"/)?.[1]);
    for (const n of nodes) {
      const db = n.options.psqlUserDb!;
      expect({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.database }, n.name).toEqual({
        host: '127.0.0.1',
        port: published(postgres),
        user: field(postgres, 'POSTGRES_USER'),
        password: field(postgres, 'POSTGRES_PASSWORD'),
        database: field(postgres, 'POSTGRES_DB'),
      });
      expect(n.options.redisStatsDb?.port, n.name).toBe(published(service('redis')));
      expect(n.options.realm, n.name).toBe('fleet.example');
    }
    // PostgreSQL starts with coturn's schema, copied from Debian's coturn package.
    expect(service('schema')).toContain('/usr/share/coturn/schema.sql');
    expect(postgres).toContain('schema:/docker-entrypoint-initdb.d');
  });
});
