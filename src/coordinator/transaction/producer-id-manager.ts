// Producer ids for InitProducerId (Kafka's RPCProducerIdManager on a KRaft broker): the controller
// hands out blocks of PRODUCER_ID_BLOCK_SIZE ids, each made durable as a ProducerIdsRecord in the
// metadata log before the block is used, so no id is ever given out twice, across restarts too
// (a restarted broker gets a fresh block; the rest of its old one is never used).
//
// The current block is kept in memory. When 90% of it is used (Kafka's PID_PREFETCH_THRESHOLD),
// the next block is fetched in the background, so an InitProducerId rarely waits for the metadata
// log's fsync; when a block runs out before the next arrived, callers wait for it (Kafka answers
// COORDINATOR_LOAD_IN_PROGRESS instead and lets the client retry; waiting is simpler for a
// single node whose controller is in-process). One fetch is in flight at a time.

/** A block of ids [start, start + length). */
export interface ProducerIdBlock {
  readonly start: bigint;
  readonly length: number;
}

/** The controller refused a block (its Kafka error code travels to the client). */
export class ProducerIdAllocationError extends Error {
  override name = 'ProducerIdAllocationError';
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Kafka's ProducerIdManager.PID_PREFETCH_THRESHOLD. */
const PREFETCH_THRESHOLD = 0.9;

export class ProducerIdManager {
  private next = 0n;
  private end = 0n;
  private blockLength = 0;
  private prefetched: ProducerIdBlock | null = null;
  private fetching: Promise<void> | null = null;

  /** `allocate` asks the controller for the next block (durably); it rejects on refusal. */
  constructor(private readonly allocate: () => Promise<ProducerIdBlock>) {}

  /** A producer id nobody has had, epoch 0 being the caller's. */
  async generate(): Promise<bigint> {
    for (;;) {
      if (this.next < this.end) {
        const id = this.next++;
        const used = Number(this.next - (this.end - BigInt(this.blockLength)));
        if (this.prefetched === null && used >= this.blockLength * PREFETCH_THRESHOLD) {
          this.startFetch().catch(() => {});
        }
        return id;
      }
      if (this.prefetched) {
        this.use(this.prefetched);
        this.prefetched = null;
        continue;
      }
      await this.startFetch();
    }
  }

  private use(block: ProducerIdBlock): void {
    this.next = block.start;
    this.end = block.start + BigInt(block.length);
    this.blockLength = block.length;
  }

  private startFetch(): Promise<void> {
    this.fetching ??= this.allocate()
      .then((block) => {
        if (block.length <= 0) throw new Error(`empty producer id block at ${block.start}`);
        this.prefetched = block;
      })
      .finally(() => {
        this.fetching = null;
      });
    return this.fetching;
  }
}
