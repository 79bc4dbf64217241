#!/usr/bin/env node
/** Drop-in for coturn's `turnadmin`. */
import { exitUnlessSupportedNode } from './supported-node.js';
import { runToExit } from './exit-when-written.js';

exitUnlessSupportedNode('turnadmin');
const { turnadmin } = await import('./admin.js');

runToExit('turnadmin', turnadmin(process.argv.slice(2)));
