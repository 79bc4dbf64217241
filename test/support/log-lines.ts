// Reading what a server process writes to its log file, as an operator would.
import fs from 'node:fs';

/** The file's text so far ('' until it exists). */
export const readLog = (file: string): string => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');

/** Polls the file every 100 ms until `re` matches; bounded. */
export async function waitForLine(file: string, re: RegExp, tries = 100): Promise<RegExpMatchArray> {
  for (let i = 0; i < tries; i++) {
    const m = readLog(file).match(re);
    if (m) return m;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${file} has no line matching ${re}:\n${readLog(file)}`);
}
