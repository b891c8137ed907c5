#!/usr/bin/env node
// Runs the CLI as bundled by `npm run build` (scripts/bundle.ts; npm ci builds through the
// prepare script): one file and a few chunks load much faster than the ~200 compiled modules.
import '../dist/cli/samsa.js';
