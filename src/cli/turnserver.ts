#!/usr/bin/env node
/** Drop-in for coturn's `turnserver`: the same flags and configuration file. */
import { exitUnlessSupportedNode } from './supported-node.js';
import { setServingV8Flags } from './v8-flags.js';

exitUnlessSupportedNode('turnserver');
setServingV8Flags();
const { serve } = await import('./serve.js');

serve(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`turnserver: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
