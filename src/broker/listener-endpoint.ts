// Which of a broker's endpoints a client is told about: the one of the listener its request came
// in on (Kafka's Metadata, DescribeCluster and FindCoordinator answer per listener, so a client
// of the SSL listener is sent to SSL ports only).

import type { BrokerEndpoint } from '../metadata/image.js';

/**
 * The endpoint of `listenerName` (names compared as Kafka's ListenerName.normalised does), or
 * undefined when the broker has none (Kafka then leaves the broker out). Without a listener name
 * (a request built in a test, not read from a socket), the broker's first endpoint.
 */
export function endpointForListener(
  endpoints: readonly BrokerEndpoint[],
  listenerName: string | undefined,
): BrokerEndpoint | undefined {
  if (listenerName === undefined) return endpoints[0];
  const name = listenerName.toUpperCase();
  return endpoints.find((e) => e.name.toUpperCase() === name);
}
