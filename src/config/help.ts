/** `--help` text and the option list of docs/coturn-options.md, both from the option table. */
import { OPTION_TABLE, flagOf, type OptionSpec } from './option-table.js';
import { DEFAULT_SEARCH_PATH } from './search-path.js';

const ARG: Record<OptionSpec['type'], string> = {
  boolean: '',
  string: '<value>',
  integer: '<number>',
  port: '<port>',
  ip: '<ip>',
  'ip-range': '<ip[-ip]|ip/prefix>',
  address: '<ip[:port]>',
  'external-ip': '<public-ip[/private-ip]>',
  user: '<name:password>',
  file: '<file>',
  choice: '',
};

export function argOf(spec: OptionSpec): string {
  if (spec.arg !== undefined) return spec.arg;
  if (spec.type === 'choice') return `<${(spec.choices ?? []).join('|')}>`;
  return ARG[spec.type];
}

function flagsOf(spec: OptionSpec): string {
  const long = [spec.name, ...spec.aliases].filter((n) => n.length > 1).map((n) => `--${n}`);
  const short = spec.short !== undefined ? [`-${spec.short}`] : spec.name.length === 1 ? [flagOf(spec)] : [];
  return [...short, ...long].join(', ');
}

export function statusText(spec: OptionSpec): string {
  const s = spec.status;
  if (s.kind === 'applied') return 'applied';
  return `not planned: ${s.why}`;
}

function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.join(`\n${indent}`);
}

/** coturn-style usage text: every option with its flags, value, default and status. */
export function renderHelp(): string {
  const indent = ' '.repeat(8);
  const out = [
    'Usage: turnserver [options]',
    '',
    wrap(
      "Turnpike, a STUN/TURN server that reads coturn's turnserver.conf and flags. A config file holds " +
        'the same options without the dashes, one key[=value] per line. Without -c or -n, turnserver.conf ' +
        `is looked for in ${DEFAULT_SEARCH_PATH.join(' ')}`,
      88,
      '',
    ),
    '',
    'Options:',
  ];
  for (const spec of OPTION_TABLE) {
    const head = `  ${flagsOf(spec)} ${argOf(spec)}`.trimEnd();
    const notes: string[] = [spec.help];
    if (spec.default !== undefined && spec.type !== 'boolean') notes.push(`Default: ${String(spec.default)}.`);
    if (spec.list) notes.push('May be repeated.');
    if (spec.status.kind !== 'applied') notes.push(`[${statusText(spec)}]`);
    out.push(head, `${indent}${wrap(notes.join(' '), 80, indent)}`);
  }
  return `${out.join('\n')}\n`;
}

/** The migration table of docs/coturn-options.md. */
export function renderOptionsMarkdown(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const rows = OPTION_TABLE.map((spec) => {
    const flags = flagsOf(spec);
    const def = spec.default === undefined || spec.type === 'boolean' ? '' : `\`${String(spec.default)}\``;
    const value = argOf(spec) === '' ? (spec.type === 'boolean' ? 'flag' : '') : `\`${argOf(spec)}\``;
    return `| \`${flags}\` | ${cell(value)}${spec.list ? ' (repeatable)' : ''} | ${def} | ${cell(statusText(spec))} | ${cell(spec.help)} |`;
  });
  const counts = ['applied', 'not-planned'].map(
    (k) => OPTION_TABLE.filter((s) => s.status.kind === k).length,
  );
  return [
    `${OPTION_TABLE.length} options: ${counts[0]} applied, ${counts[1]} not planned.`,
    '',
    '| Option | Value | Default | Status | What it does |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
