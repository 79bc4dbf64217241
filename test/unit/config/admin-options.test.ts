// The admin interface's options: off by default, HTTP never without a token, loopback unless
// the operator insists (and is warned), a socket path both the server and the CLI can find.
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { check, load, loadArgs, removeTempDirs, tempDir, writeConf } from './helpers.js';

afterAll(removeTempDirs);

const TOKEN = '0123456789abcdef0123';

describe('admin options', () => {
  it('are off by default', () => {
    expect(loadArgs([]).options.admin).toBeUndefined();
  });

  it('serve HTTP on loopback with the token, and a socket at its absolute path', () => {
    const { options, warnings } = load(`admin-port=9701\nadmin-token=${TOKEN}\nadmin-socket=/run/turnpike/admin.sock\n`);
    expect(options.admin).toEqual({ socket: '/run/turnpike/admin.sock', http: { address: '127.0.0.1', port: 9701, token: TOKEN } });
    expect(warnings.join('\n')).not.toMatch(/admin/);
  });

  it('refuse HTTP without a token, with a short one, or with both kinds', () => {
    expect(check('admin-port=9701\n').errors.map((e) => e.message)).toEqual([expect.stringMatching(/:1: admin-port: .*needs admin-token or admin-token-file/)]);
    expect(check('admin-port=9701\nadmin-token=short\n').errors[0]?.message).toMatch(/:2: admin-token: .*16 characters or more/);
    const file = writeConf(`${TOKEN}\n`, 'token');
    expect(check(`admin-port=9701\nadmin-token=${TOKEN}\nadmin-token-file=${file}\n`).errors[0]?.message).toMatch(/not both/);
  });

  it('read the token from admin-token-file, without its newline', () => {
    const file = writeConf(`${TOKEN}\n`, 'token');
    expect(load(`admin-port=9701\nadmin-token-file=${file}\n`).options.admin?.http?.token).toBe(TOKEN);
    expect(check(`admin-port=9701\nadmin-token-file=${writeConf('\n', 'empty')}\n`).errors[0]?.message).toMatch(/16 characters or more/);
  });

  it('warn loudly about an address other than loopback, and not about ::1 or 127.x', () => {
    const open = load(`admin-port=9701\nadmin-token=${TOKEN}\nadmin-ip=0.0.0.0\n`);
    expect(open.options.admin?.http?.address).toBe('0.0.0.0');
    expect(open.warnings.join('\n')).toMatch(/:3: WARNING: admin-ip 0\.0\.0\.0 is not a loopback address/);
    for (const ip of ['::1', '127.0.0.2', '::ffff:127.0.0.1']) {
      expect(load(`admin-port=9701\nadmin-token=${TOKEN}\nadmin-ip=${ip}\n`).warnings.join('\n'), ip).not.toMatch(/admin-ip/);
    }
  });

  it('want an absolute socket path that fits a Unix socket address', () => {
    expect(check('admin-socket=admin.sock\n').errors[0]?.message).toMatch(/admin-socket: "admin\.sock" is not an absolute path/);
    const long = path.join(tempDir(), 'x'.repeat(120));
    expect(check(`admin-socket=${long}\n`).errors[0]?.message).toMatch(/longer than a Unix socket path can be/);
  });

  it('say that the HTTP settings do nothing without admin-port', () => {
    const { options, warnings } = load(`admin-token=${TOKEN}\nadmin-ip=127.0.0.1\n`);
    expect(options.admin).toBeUndefined();
    expect(warnings).toEqual(expect.arrayContaining([expect.stringMatching(/:1: admin-token has no effect without admin-port/)]));
  });

});
