// The `samsa` command line: global options, one module per command group (commands/), and
// `main(argv, io)`, which runs one command line against the given streams and resolves to its exit
// code: 0 on success, 1 on a Kafka or usage error (a one-line message on stderr that says what to do).

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { COMPRESSION_NAMES } from '../protocol/compression/types.js';
import { addClusterCommands } from './commands/cluster.js';
import { addConsumeCommand } from './commands/consume.js';
import { addGroupCommands } from './commands/group.js';
import { addProduceCommand } from './commands/produce.js';
import { addStartCommand } from './commands/start.js';
import { addTopicCommands } from './commands/topic.js';
import type { CliIO } from './output.js';
import { addPerfCommands } from './perf.js';
import {
  type CliContext,
  clientOptions,
  describeError,
  globals,
  intArg,
  loadClient,
  UsageError,
} from './shared.js';

export { formatRecord } from './commands/consume.js';
export { describeError, progressLine, state, UsageError } from './shared.js';

/** Whether to colour output: on a terminal, unless NO_COLOR is set to anything (no-color.org). */
export function useColour(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}

/**
 * The version of the installed package: the nearest package.json named samsa above this module
 * (src/cli/ in development, dist/cli/ once bundled, a test's build directory). Read only when
 * --version is asked, so that no command pays for it.
 */
export function samsaVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'samsa' && pkg.version) return pkg.version;
    } catch {
      // none here: look further up
    }
    const up = dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}

/** "samsa topic create": the command's full name, for "see 'samsa topic create --help'". */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

export function buildProgram(io: CliIO): Command {
  const env = io.env ?? process.env;
  const colour = useColour(io.stdout, env);
  const out = (s: string) => io.stdout.write(s);
  const program = new Command('samsa')
    .description('Apache Kafka, rebuilt in TypeScript')
    .option('-V, --version', 'print the version and exit')
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
    .addOption(
      new Option(
        '--connect-timeout <ms>',
        'give up when no broker answers for this long (refused, unknown host)',
      )
        .default(5_000)
        .argParser(intArg('--connect-timeout', 1)),
    )
    .exitOverride()
    // Every subcommand's help lists these global options too (settings are inherited on creation).
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // One line, "samsa: ..." as every other error, instead of commander's "error: ...".
      outputError: (s, write) => write(s.replace(/^error: /, 'samsa: ')),
    });
  // Asked before any command runs (and without one): print and stop, as commander's .version()
  // does, but reading the version only now.
  program.on('option:version', () => {
    io.stdout.write(`${samsaVersion()}\n`);
    throw new CommanderError(0, 'commander.version', 'version');
  });

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

  // A usage error is one line plus where to read more (not the whole help): set on every command
  // once they all exist.
  const seeHelp = (cmd: Command) => {
    cmd.showHelpAfterError(`see '${commandPath(cmd)} --help'`);
    for (const sub of cmd.commands) seeHelp(sub);
  };
  seeHelp(program);
  return program;
}

/** Runs one command line (argv without node and script); resolves to the exit code. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const program = buildProgram(io);
  let context: { topic?: string; group?: string; command?: string; path?: string } = {};
  let running: Command = program;
  program.hook('preAction', (_root, action) => {
    running = action;
    const arg = action.args[0];
    const path = commandPath(action);
    if (path.startsWith('samsa group '))
      context = { group: arg, topic: action.opts().topic, command: action.name(), path };
    else context = { topic: arg ?? action.opts().topic, command: action.name(), path };
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 1;
    io.stderr.write(`samsa: ${describeError(err, program.opts(), context)}\n`);
    if (err instanceof UsageError || err instanceof InvalidArgumentError)
      io.stderr.write(`see '${commandPath(running)} --help'\n`);
    return 1;
  }
}
