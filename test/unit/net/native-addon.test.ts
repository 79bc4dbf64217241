// Where an addon is missing or broken, the server must get a reason to log and go on with its
// JS path, never an exception at start. Real files in a temporary folder.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAddon } from '../../../src/net/native-addon.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function buildDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-addon-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  return dir;
}

const useIt = (exports: object) => ({ exports });

describe('loading a native addon', () => {
  it("gives the build's own reason when it could not build", () => {
    const dir = buildDir({ 'dtls-aead.unavailable.txt': 'gcc failed: no such file\n' });
    expect(loadAddon('dtls-aead', useIt, dir)).toEqual({ unavailable: 'gcc failed: no such file' });
  });

  it('says how to build it when there is neither the addon nor a reason', () => {
    expect(loadAddon('dtls-aead', useIt, buildDir({}))).toEqual({ unavailable: 'not built (run `node native/build.mjs`)' });
  });

  it('says why a file that is not a loadable addon did not load', () => {
    const dir = buildDir({ 'dtls-aead.node': 'not an ELF file' });
    const state = loadAddon('dtls-aead', useIt, dir);
    expect('unavailable' in state && state.unavailable).toMatch(/^cannot load .*dtls-aead\.node: /);
  });

  it('says why when the addon loads but cannot be used', () => {
    const state = loadAddon('dtls-aead', () => {
      throw new Error('start() refused');
    });
    expect(state).toEqual({ unavailable: expect.stringMatching(/dtls-aead\.node: start\(\) refused$/) });
  });

  it('hands over the built addon', () => {
    const state = loadAddon('dtls-aead', (exports: Record<string, unknown>) => ({ exports }));
    if (!('exports' in state)) throw new Error(state.unavailable);
    expect(['createContext', 'seal', 'open'].map((name) => typeof state.exports[name])).toEqual(['function', 'function', 'function']);
  });
});
