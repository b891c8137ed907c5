// The `samsa` command. The commands live in commands.ts (`main(argv, io)`, which tests call
// in-process); this file wires them to the real process. No top-level await: scripts/bundle.ts
// bundles this file as CommonJS (see bin.ts).

import { main, state } from './commands.js';

// A reader that went away (`samsa consume t | head -1`) is how a pipeline ends, not an error: on
// EPIPE leave quietly with 0, as `cat` would be ended by SIGPIPE, without a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

void main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
}).then((code) => {
  if (!state.brokerRunning) {
    // Let stdout drain, then leave: no client timer may keep a finished command alive.
    process.exitCode = code;
    process.stdout.write('', () => process.exit(code));
  }
});
