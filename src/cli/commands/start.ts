// `samsa start`: a broker in this process (a one-node KRaft cluster), stopped cleanly by SIGINT/SIGTERM.
//
// Under a supervisor. `node_modules/.bin/samsa start` (bin/samsa.cjs) is one process: the
// supervisor's signal reaches the broker itself. `npx samsa start` and `npm start` are not: npm
// runs `sh -c "samsa start"`, and a SIGTERM to npm ends npm (and the shell) but not the broker,
// which is left running with parent 1 (SIGKILL to npm leaves even the shell behind). So a broker
// started by npm (npm sets npm_lifecycle_event for what it runs) watches its parent, and its
// grandparent when the parent is a shell, and stops cleanly when one of them is gone
// (--exit-with-parent forces this on, --no-exit-with-parent off). --exit-on-stdin-close is for a
// supervisor that holds a pipe to the broker's stdin: the broker stops when the pipe closes,
// which happens whenever the supervisor dies, however it dies.

import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Broker } from '../../broker/broker.js';
import { BrokerConfig, parseProperties } from '../../broker/config.js';
import { envLogLevel, isLogLevel, LOG_LEVELS, type LogLevel } from '../../logging/levels.js';
import type { LogFormat } from '../../logging/logger.js';
import { type CliContext, collectPair, state } from '../shared.js';

/** How often a broker that exits with its parent checks that the parent is still there. */
const PARENT_POLL_MS = 500;

const SHELLS = new Set(['sh', 'dash', 'bash', 'zsh', 'ash', 'busybox']);

interface ProcessStat {
  comm: string;
  ppid: number;
}

/** A process's name and parent from /proc (Linux); null where there is no /proc or no process. */
function procStat(pid: number): ProcessStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split at the last ')'.
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return { comm, ppid };
  } catch {
    return null;
  }
}

/**
 * Calls `onGone` once the parent of this process exits (the kernel then gives this process a new
 * parent), or, when the parent is a shell (npm's `sh -c`), once the shell's parent exits. Polls;
 * the timer never keeps the process alive by itself.
 */
export function watchParent(onGone: (reason: string) => void): void {
  const parent = process.ppid;
  const parentStat = procStat(parent);
  const grandparent =
    parentStat && SHELLS.has(parentStat.comm) && parentStat.ppid > 1 ? parentStat.ppid : undefined;
  const timer = setInterval(() => {
    let reason: string | undefined;
    if (process.ppid !== parent) reason = `parent process ${parent} exited`;
    else if (grandparent !== undefined && procStat(parent)?.ppid !== grandparent)
      reason = `process ${grandparent} (the parent of the shell that started this broker) exited`;
    if (reason) {
      clearInterval(timer);
      onGone(reason);
    }
  }, PARENT_POLL_MS);
  timer.unref();
}

/** Whether npm or npx started this process (directly or through its shell). */
function startedByNpm(env: NodeJS.ProcessEnv): boolean {
  return env.npm_lifecycle_event !== undefined;
}

function logLevelArg(value: string): LogLevel {
  const level = value.toLowerCase();
  if (!isLogLevel(level)) throw new InvalidArgumentError(`one of ${LOG_LEVELS.join(', ')}`);
  return level;
}

export function addStartCommand(program: Command, ctx: CliContext): void {
  program
    .command('start')
    .description('start a broker (a one-node KRaft cluster: broker and controller in one process)')
    .option('-c, --config <file>', 'a server.properties file (Kafka config names)')
    .option('--listeners <list>', 'e.g. PLAINTEXT://127.0.0.1:9092')
    .option('--log-dirs <dirs>', 'data directories (default ./samsa-data)')
    .option('--node-id <n>', 'node.id')
    .option('-o, --override <name=value>', 'set any broker config; repeatable', collectPair, [])
    .addOption(
      new Option(
        '--log-level <level>',
        `${LOG_LEVELS.join('|')} (default: $SAMSA_LOG_LEVEL, else info)`,
      ).argParser(logLevelArg),
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'log lines for people or machines (default: pretty on a terminal, else json)',
      ).choices(['pretty', 'json']),
    )
    .option(
      '--exit-with-parent',
      'stop when the process that started the broker exits (default when started by npm/npx)',
    )
    .option('--no-exit-with-parent', 'keep running when the parent exits, even when started by npm/npx')
    .option('--exit-on-stdin-close', 'stop when stdin is closed (for a supervisor holding a pipe to it)')
    .action(
      async (opts: {
        config?: string;
        listeners?: string;
        logDirs?: string;
        nodeId?: string;
        override: string[];
        logLevel?: LogLevel;
        logFormat?: LogFormat;
        exitWithParent?: boolean;
        exitOnStdinClose?: boolean;
      }) => {
        const env = ctx.io.env ?? process.env;
        const settings = opts.config
          ? parseProperties(readFileSync(opts.config, 'utf8'))
          : new Map<string, string>();
        if (opts.listeners) settings.set('listeners', opts.listeners);
        if (opts.logDirs) settings.set('log.dirs', opts.logDirs);
        if (opts.nodeId) settings.set('node.id', opts.nodeId);
        for (const o of opts.override) settings.set(o.slice(0, o.indexOf('=')), o.slice(o.indexOf('=') + 1));
        // Loaded here, not at the top: pino is part of the broker's start, not of every command.
        const { createLogger, defaultLogFormat } = await import('../../logging/logger.js');
        const logger = createLogger({
          level: opts.logLevel ?? envLogLevel() ?? 'info',
          format: opts.logFormat ?? defaultLogFormat(1),
        });
        // The signal handlers go in before the start: a SIGTERM that arrives while the broker
        // starts (a supervisor's stop, or a test that saw the "listening" line) would otherwise
        // meet Node's default action and kill the process without a clean shutdown. One that
        // arrives during the start stops the broker as soon as the start completes.
        let broker: Broker | undefined;
        let stopRequest: Record<string, string> | undefined;
        let stopping = false;
        const stop = async (fields: Record<string, string>) => {
          stopRequest ??= fields;
          if (stopping || broker === undefined) return;
          stopping = true;
          broker.log.info(stopRequest, 'shutting down');
          await broker.stop();
          process.exit(0);
        };
        process.on('SIGINT', () => void stop({ signal: 'SIGINT' }));
        process.on('SIGTERM', () => void stop({ signal: 'SIGTERM' }));
        const { Broker } = await import('../../broker/broker.js');
        broker = await Broker.start({ config: new BrokerConfig(settings), rawConfig: settings, logger });
        state.brokerRunning = true;
        if (stopRequest) void stop(stopRequest);
        if (opts.exitWithParent ?? startedByNpm(env)) watchParent((reason) => void stop({ reason }));
        if (opts.exitOnStdinClose) {
          const stdin = process.stdin;
          stdin.on('end', () => void stop({ reason: 'stdin closed' }));
          stdin.on('error', () => void stop({ reason: 'stdin closed' }));
          stdin.resume(); // read and drop: only its end matters
        }
      },
    );
}
