#!/usr/bin/env node
/** Drop-in for coturn's `turnadmin`. */
import { turnadmin } from './admin.js';

turnadmin(process.argv.slice(2)).then((code) => process.exit(code));
