// `samsa cluster`: cluster id, controller and brokers.

import type { Command } from 'commander';
import { keyValues, table, toJson } from '../output.js';
import { type CliContext, globals, withAdmin } from '../shared.js';

export function addClusterCommands(program: Command, ctx: CliContext): void {
  const { out, colour } = ctx;
  program
    .command('cluster')
    .description('the cluster')
    .command('info')
    .description('cluster id, controller and brokers')
    .action(async (_o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const info = await withAdmin(g, (admin) => admin.describeCluster());
      const brokers = [...info.brokers].sort((a, b) => a.nodeId - b.nodeId);
      if (g.json) {
        out(`${toJson({ clusterId: info.clusterId, controller: info.controllerId, brokers })}\n`);
        return;
      }
      out(
        keyValues(
          [
            ['CLUSTER', info.clusterId],
            ['CONTROLLER', info.controllerId],
          ],
          colour,
        ),
      );
      out('\n');
      out(
        table(
          ['ID', 'HOST', 'PORT', 'RACK'],
          brokers.map((b) => [b.nodeId, b.host, b.port, b.rack ?? '-']),
          colour,
        ),
      );
    });
}
