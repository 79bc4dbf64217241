#!/usr/bin/env node
/** Drop-in for coturn's `turnadmin`. */
import { admin } from './admin.js';

admin(process.argv.slice(2)).then((code) => process.exit(code));
