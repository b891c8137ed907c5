// The `samsa` command. The commands live in commands.ts (`main(argv, io)`, which tests call
// in-process); this file wires them to the real process.

import { main, state } from './commands.js';

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
});
if (!state.brokerRunning) {
  // Let stdout drain, then leave: no client timer may keep a finished command alive.
  process.exitCode = code;
  process.stdout.write('', () => process.exit(code));
}
