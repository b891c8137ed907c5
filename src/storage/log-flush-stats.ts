// Kafka's LogFlushStats (kafka.log:type=LogFlushStats,name=LogFlushRateAndTimeMs): the time of
// each log flush, one fdatasync of the segments written since the previous one. Like Kafka's, one
// process-wide instance: flushes are recorded whether or not anything exposes them (a counter
// bump per fsync costs nothing beside the fsync).

import { FLUSH_TIME_BUCKETS_MS, LatencyHistogram } from '../metrics/histogram.js';

export const LOG_FLUSH_STATS = new LatencyHistogram(FLUSH_TIME_BUCKETS_MS);
