#!/usr/bin/env node
/** `turnpike [serve] [coturn flags…]`, `turnpike admin …` and `turnpike healthcheck …`. */
import { exitUnlessSupportedNode } from './supported-node.js';
import { setServingV8Flags } from './v8-flags.js';

exitUnlessSupportedNode('turnpike');
setServingV8Flags();
const [{ admin }, { healthcheck }, { serve }] = await Promise.all([
  import('./admin.js'),
  import('./healthcheck.js'),
  import('./serve.js'),
]);

const [first, ...rest] = process.argv.slice(2);
const run = first === 'admin' ? admin(rest) : first === 'healthcheck' ? healthcheck(rest) : first === 'serve' ? serve(rest) : serve(process.argv.slice(2));
run.then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`turnpike: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
