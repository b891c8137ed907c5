// The `samsa` command. `samsa start` runs a broker; the client commands arrive with the client issue.

import { Command, InvalidArgumentError } from 'commander';
import { Broker } from '../broker/broker.js';
import { BrokerConfig, parseProperties } from '../broker/config.js';

function collect(value: string, previous: string[]): string[] {
  if (!value.includes('=')) throw new InvalidArgumentError(`expected name=value, got "${value}"`);
  return [...previous, value];
}

export function buildProgram(): Command {
  const program = new Command('samsa')
    .description('Apache Kafka, rebuilt in TypeScript')
    .showHelpAfterError();

  program
    .command('start')
    .description('start a broker (a one-node KRaft cluster: broker and controller in one process)')
    .option('-c, --config <file>', 'a server.properties file (Kafka config names)')
    .option('--listeners <list>', 'e.g. PLAINTEXT://127.0.0.1:9092')
    .option('--log-dirs <dirs>', 'data directories (default ./samsa-data)')
    .option('--node-id <n>', 'node.id')
    .option('-o, --override <name=value>', 'set any broker config; repeatable', collect, [])
    .action(
      async (opts: {
        config?: string;
        listeners?: string;
        logDirs?: string;
        nodeId?: string;
        override: string[];
      }) => {
        const settings = opts.config
          ? parseProperties((await import('node:fs')).readFileSync(opts.config, 'utf8'))
          : new Map();
        if (opts.listeners) settings.set('listeners', opts.listeners);
        if (opts.logDirs) settings.set('log.dirs', opts.logDirs);
        if (opts.nodeId) settings.set('node.id', opts.nodeId);
        for (const o of opts.override) settings.set(o.slice(0, o.indexOf('=')), o.slice(o.indexOf('=') + 1));
        const broker = await Broker.start({ config: new BrokerConfig(settings), rawConfig: settings });
        let stopping = false;
        const stop = async (signal: string) => {
          if (stopping) return;
          stopping = true;
          broker.log.info({ signal }, 'shutting down');
          await broker.stop();
          process.exit(0);
        };
        process.on('SIGINT', () => void stop('SIGINT'));
        process.on('SIGTERM', () => void stop('SIGTERM'));
      },
    );

  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((err: Error) => {
    console.error(`samsa: ${err.message}`);
    process.exit(1);
  });
