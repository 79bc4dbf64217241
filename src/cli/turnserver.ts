#!/usr/bin/env node
/** Drop-in for coturn's `turnserver`: the same flags and configuration file. */
import { exitUnlessSupportedNode } from './supported-node.js';
import { runToExit } from './exit-when-written.js';
import { setServingV8Flags } from './v8-flags.js';

exitUnlessSupportedNode('turnserver');
setServingV8Flags();
const { serve } = await import('./serve.js');

runToExit('turnserver', serve(process.argv.slice(2)));
