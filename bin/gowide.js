#!/usr/bin/env node
'use strict';
// The CLI is bundled into dist/ by `npm run build` (run automatically by `npm ci` through `prepare`).
const path = require('node:path');
const fs = require('node:fs');
const bundled = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(bundled)) {
  process.stderr.write(`gowide: ${bundled} is missing. Run "npm run build" in ${path.dirname(__dirname)} first.\n`);
  process.exit(2);
}
require(bundled).main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`gowide: ${err && err.stack ? err.stack : err}\n`); process.exitCode = 1; },
);
