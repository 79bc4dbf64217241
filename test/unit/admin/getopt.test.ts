// turnadmin's command line read as coturn's getopt_long reads it.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/admin/errors.js';
import { getopt, type FlagSpec } from '../../../src/admin/getopt.js';

const SPECS: FlagSpec[] = [
  { name: 'key', short: 'k', takesValue: false },
  { name: 'list', short: 'l', takesValue: false },
  { name: 'list-admin', short: 'L', takesValue: false },
  { name: 'user', short: 'u', takesValue: true },
  { name: 'userdb', short: 'b', aliases: ['db'], takesValue: true },
  { name: 'set-secret', short: 's', takesValue: true },
];

const read = (...argv: string[]) => getopt(argv, SPECS).map((f) => [f.spec.name, f.value]);

describe('getopt', () => {
  it('groups short flags; a value-taking flag ends the group and takes the rest of the word', () => {
    expect(read('-klualice')).toEqual([['key', ''], ['list', ''], ['user', 'alice']]);
    expect(read('-ku', 'alice')).toEqual([['key', ''], ['user', 'alice']]);
  });

  it('takes the next word as the value even when it starts with a dash', () => {
    expect(read('-u', '-alice', '--user', '--bob')).toEqual([['user', '-alice'], ['user', '--bob']]);
  });

  it('takes --name=value (the value may be empty or hold "=") and aliases', () => {
    expect(read('--user=a=b', '--db=', '--set-secret', 's')).toEqual([['user', 'a=b'], ['userdb', ''], ['set-secret', 's']]);
  });

  it('takes an unambiguous prefix of a long name; an exact name wins over longer ones', () => {
    expect(read('--ke', '--list')).toEqual([['key', ''], ['list', '']]);
    expect(() => read('--li')).toThrow(/--li is ambiguous \(--list, --list-admin\)/);
  });

  it('refuses words that are not options, also after --', () => {
    expect(() => read('-k', 'word')).toThrow(UsageError);
    expect(() => read('-k', '--', 'word')).toThrow('unexpected argument "word"');
    expect(read('-k', '--')).toEqual([['key', '']]);
  });

  it('refuses a missing value, a value on a flag, and unknown options', () => {
    expect(() => read('-u')).toThrow('option -u needs a value');
    expect(() => read('--key=1')).toThrow('option --key takes no value');
    expect(() => read('-kz')).toThrow('unknown option -z');
    expect(() => read('--zzz')).toThrow('unknown option --zzz');
  });
});
