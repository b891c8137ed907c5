// What the request handlers can reach: the broker's parts, passed to every handler call.
// It grows as the broker does (log manager, metadata image, coordinators).

import type { ApiRegistry } from './api-handler.js';
import type { BrokerConfig } from './config.js';

export interface BrokerServices {
  readonly config: BrokerConfig;
  readonly registry: ApiRegistry<BrokerServices>;
  readonly nodeId: number;
  readonly clusterId: string;
}
