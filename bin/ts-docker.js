#!/usr/bin/env node
// The CLI as built by `npm run build`: the CommonJS bundle in dist/bundle/ (a few files to load
// instead of ~40 modules, and no ESM loader to start; see rolldown.config.mjs), or tsc's
// dist/cli/ when the bundle is missing or older than it (tsc was run alone), so that what runs is
// never stale. This file is CommonJS (bin/package.json) for the same reason.
'use strict';
const { statSync } = require('node:fs');
const { join } = require('node:path');

const mtime = (rel) => statSync(join(__dirname, rel), { throwIfNoEntry: false })?.mtimeMs ?? -1;
if (mtime('../dist/bundle/main.cjs') >= mtime('../dist/cli/main.js')) require('../dist/bundle/main.cjs').main(process.argv);
else import('../dist/cli/main.js').then((m) => m.main(process.argv));
