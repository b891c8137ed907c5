// MetadataManager: the one owner of the metadata image, the controller and the metadata log (the
// role of Kafka's QuorumController event queue on a single node). Operations run one at a time:
// the controller computes records and a response from the current image, the log makes the records
// durable, the image replays them, and only then does the caller get the response. So a response
// never describes metadata that a crash could lose, and every operation sees the previous one.

import type { BrokerConfig } from '../config/broker-config.js';
import type { Clock } from '../util/clock.js';
import type { StaticBrokerConfigs } from './configs.js';
import { type BootstrapOptions, Controller, type ControllerResult } from './controller.js';
import { type MetadataChange, MetadataImage } from './image.js';
import type { MetadataLog } from './metadata-log.js';
import type { ApiMessageAndVersion } from './records.js';

export interface MetadataManagerOptions {
  readonly log: MetadataLog;
  readonly nodeId: number;
  readonly config: BrokerConfig;
  readonly staticConfigs?: StaticBrokerConfigs;
  readonly time?: Clock;
  readonly randomUuid?: () => string;
  /** Called for every record replayed (at start and after each operation), with what it changed. */
  readonly onChange?: (change: MetadataChange, record: ApiMessageAndVersion) => void;
}

export class MetadataManager {
  readonly image = new MetadataImage();
  readonly controller: Controller;
  private readonly log: MetadataLog;
  private readonly onChange?: (change: MetadataChange, record: ApiMessageAndVersion) => void;
  private queue: Promise<unknown> = Promise.resolve();
  private started = false;
  private recordCount = 0n;

  constructor(opts: MetadataManagerOptions) {
    this.log = opts.log;
    this.onChange = opts.onChange;
    this.controller = new Controller({
      image: this.image,
      nodeId: opts.nodeId,
      config: opts.config,
      staticConfigs: opts.staticConfigs,
      time: opts.time,
      randomUuid: opts.randomUuid,
    });
  }

  /**
   * Replays the metadata log into the image, then bootstraps: finalized features on a new cluster,
   * this broker's registration when it is new or changed. Returns the broker epoch.
   */
  async start(bootstrap: BootstrapOptions): Promise<bigint> {
    if (this.started) throw new Error('MetadataManager already started');
    this.started = true;
    await this.log.replayAll((r) => this.apply(r));
    return this.submit((c) => c.bootstrap(bootstrap)).then((r) => r.brokerEpoch);
  }

  /**
   * Runs one controller operation: compute, append (durable), replay, then resolve with the
   * response. Operations queue behind each other. If the append fails the image is unchanged and
   * the promise rejects; the log refuses further appends (its state is unknown).
   */
  submit<T>(op: (controller: Controller) => ControllerResult<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const { records, response } = op(this.controller);
      if (records.length > 0) {
        await this.log.append(records);
        for (const r of records) this.apply(r);
      }
      return response;
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }

  /**
   * The metadata log's end offset as KRaft counts it: one offset per record, so the number of
   * records replayed at start and appended since. Every record is durable before it is applied,
   * and this node is the only voter, so it is also the high watermark (DescribeQuorum). (Unlike
   * Kafka's, the count has no control records; FileMetadataLog.rewrite, unused by the broker, would
   * restart it.)
   */
  get logEndOffset(): bigint {
    return this.recordCount;
  }

  /** Waits for queued operations, then closes the log. */
  async close(): Promise<void> {
    await this.queue;
    await this.log.close();
  }

  private apply(r: ApiMessageAndVersion): void {
    const change = this.image.replay(r);
    this.recordCount++;
    this.onChange?.(change, r);
  }
}
