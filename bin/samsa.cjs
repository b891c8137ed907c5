#!/usr/bin/env node
// Runs the CLI as bundled by `npm run build` (scripts/bundle.ts; npm ci builds through the
// prepare script): dist/cli/bin.cjs loads it through V8's code cache (src/cli/bin.ts).
require('../dist/cli/bin.cjs');
