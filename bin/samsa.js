#!/usr/bin/env node
// Runs the CLI as bundled by `npm run build` (scripts/bundle.ts; npm ci builds through the
// prepare script), through V8's code cache (src/cli/bin.ts).
import '../dist/src/cli/bin.js';
