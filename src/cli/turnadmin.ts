#!/usr/bin/env node
/** Drop-in for coturn's `turnadmin`. */
import { exitUnlessSupportedNode } from './supported-node.js';

exitUnlessSupportedNode('turnadmin');
const { turnadmin } = await import('./admin.js');

turnadmin(process.argv.slice(2)).then((code) => process.exit(code));
