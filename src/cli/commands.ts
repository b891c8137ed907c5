// The `samsa` command line: global options, one module per command group (commands/), and
// `main(argv, io)`, which runs one command line against the given streams and resolves to its exit
// code: 0 on success, 1 on a Kafka or usage error (a one-line message on stderr that says what to do).

import { Command, CommanderError, Option } from 'commander';
import { COMPRESSION_NAMES } from '../protocol/compression/types.js';
import { addClusterCommands } from './commands/cluster.js';
import { addConsumeCommand } from './commands/consume.js';
import { addGroupCommands } from './commands/group.js';
import { addProduceCommand } from './commands/produce.js';
import { addStartCommand } from './commands/start.js';
import { addTopicCommands } from './commands/topic.js';
import type { CliIO } from './output.js';
import { addPerfCommands } from './perf.js';
import { type CliContext, clientOptions, describeError, globals, intArg, loadClient } from './shared.js';

export { formatRecord } from './commands/consume.js';
export { describeError, progressLine, state, UsageError } from './shared.js';

export function buildProgram(io: CliIO): Command {
  const env = io.env ?? process.env;
  const colour = io.stdout.isTTY === true;
  const out = (s: string) => io.stdout.write(s);
  const program = new Command('samsa')
    .description('Apache Kafka, rebuilt in TypeScript')
    .option(
      '-b, --brokers <list>',
      'bootstrap brokers, host:port[,host:port] (env SAMSA_BROKERS)',
      env.SAMSA_BROKERS || '127.0.0.1:9092',
    )
    .option('--json', 'machine-readable output')
    .addOption(
      new Option('--request-timeout <ms>', 'how long a request may take')
        .default(30_000)
        .argParser(intArg('--request-timeout', 1)),
    )
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  const ctx: CliContext = { io, out, colour };
  addStartCommand(program, ctx);
  addTopicCommands(program, ctx);
  addProduceCommand(program, ctx);
  addConsumeCommand(program, ctx);
  addGroupCommands(program, ctx);
  addClusterCommands(program, ctx);

  // ---- perf ----
  addPerfCommands(program, {
    io,
    colour,
    loadClient,
    intArg,
    compressionNames: COMPRESSION_NAMES,
    clientOptions: (cmd) => {
      const g = globals(cmd);
      return { opts: { ...clientOptions(g), maxBlockMs: g.requestTimeout }, json: g.json === true };
    },
  });

  return program;
}

/** Runs one command line (argv without node and script); resolves to the exit code. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const program = buildProgram(io);
  let context: { topic?: string; group?: string; command?: string } = {};
  program.hook('preAction', (_root, action) => {
    const arg = action.args[0];
    const path = [];
    for (let c: Command | null = action; c; c = c.parent) path.unshift(c.name());
    if (path.includes('group')) context = { group: arg, topic: action.opts().topic, command: action.name() };
    else context = { topic: arg ?? action.opts().topic, command: action.name() };
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 1;
    io.stderr.write(`samsa: ${describeError(err, program.opts(), context)}\n`);
    return 1;
  }
}
