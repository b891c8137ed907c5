// `samsa start`: a broker in this process (a one-node KRaft cluster), stopped cleanly by SIGINT/SIGTERM.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BrokerConfig, parseProperties } from '../../broker/config.js';
import { type CliContext, collectPair, state } from '../shared.js';

export function addStartCommand(program: Command, _ctx: CliContext): void {
  program
    .command('start')
    .description('start a broker (a one-node KRaft cluster: broker and controller in one process)')
    .option('-c, --config <file>', 'a server.properties file (Kafka config names)')
    .option('--listeners <list>', 'e.g. PLAINTEXT://127.0.0.1:9092')
    .option('--log-dirs <dirs>', 'data directories (default ./samsa-data)')
    .option('--node-id <n>', 'node.id')
    .option('-o, --override <name=value>', 'set any broker config; repeatable', collectPair, [])
    .action(
      async (opts: {
        config?: string;
        listeners?: string;
        logDirs?: string;
        nodeId?: string;
        override: string[];
      }) => {
        const settings = opts.config
          ? parseProperties(readFileSync(opts.config, 'utf8'))
          : new Map<string, string>();
        if (opts.listeners) settings.set('listeners', opts.listeners);
        if (opts.logDirs) settings.set('log.dirs', opts.logDirs);
        if (opts.nodeId) settings.set('node.id', opts.nodeId);
        for (const o of opts.override) settings.set(o.slice(0, o.indexOf('=')), o.slice(o.indexOf('=') + 1));
        const { Broker } = await import('../../broker/broker.js');
        const broker = await Broker.start({ config: new BrokerConfig(settings), rawConfig: settings });
        state.brokerRunning = true;
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
}
