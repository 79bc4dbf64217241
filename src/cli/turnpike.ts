#!/usr/bin/env node
/** `turnpike [serve] [coturn flags…]`, `turnpike admin …` and `turnpike healthcheck …`. */
import { exitUnlessSupportedNode } from './supported-node.js';
import { runToExit } from './exit-when-written.js';
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
runToExit('turnpike', run);
