"""confluent-kafka-python transactions (exactly-once) against Samsa. Each mode prints one JSON object
with what it observed; test/compat/transactions.test.ts checks it.

Usage:
  transactions.py setup BOOTSTRAP IN OUT COUNT PARTITIONS
      Creates IN and OUT with PARTITIONS partitions each and produces COUNT records to IN: record i
      has key and value "i", and goes to partition i % PARTITIONS.
  transactions.py copy BOOTSTRAP IN OUT GROUP TXN_ID COUNT
      The consume-transform-produce loop of exactly-once processing: a read_committed consumer in
      GROUP reads IN; each batch is copied to OUT (same partition, value "<i>:<attempt>") inside a
      transaction that also commits the consumer's offsets (send_offsets_to_transaction). Every
      third transaction is aborted on purpose after its records were flushed to the broker, and
      its input is processed again. Broker failures are handled as a Kafka application must:
      retriable errors are retried, abortable ones abort and rewind to the committed offsets, a
      fatal one (fencing) starts a new producer. Prints "progress N" lines (committed input
      records) on stderr, so the test can kill the broker at chosen points, and the attempts it
      aborted on purpose. Stops once the committed offsets cover all COUNT input records.
  transactions.py verify BOOTSTRAP OUT COUNT PARTITIONS ISOLATION
      Reads OUT from the beginning to its end with isolation.level ISOLATION and prints, per
      partition, the values seen.
"""

import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

mode, bootstrap = sys.argv[1], sys.argv[2]


def setup(in_topic, out_topic, count, partitions):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics(
        [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in (in_topic, out_topic)]
    )
    for f in futures.values():
        f.result(timeout=30)
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
    errors = []

    def report(err, _msg):
        if err is not None:
            errors.append(str(err))

    for i in range(count):
        while True:
            try:
                p.produce(in_topic, key=str(i), value=str(i), partition=i % partitions, on_delivery=report)
                break
            except BufferError:
                p.poll(0.1)
        if i % 1000 == 0:
            p.poll(0)
    p.flush(60)
    return {"errors": errors}


def new_producer(txn_id):
    p = Producer(
        {
            "bootstrap.servers": bootstrap,
            "transactional.id": txn_id,
            "transaction.timeout.ms": 30000,
            "linger.ms": 5,
        }
    )
    while True:
        try:
            p.init_transactions(30)
            return p
        except KafkaException as e:
            if not e.args[0].retriable():
                raise
            time.sleep(0.5)


def retry(action, what, log):
    """Runs a transactional API call until it succeeds; returns False when the transaction must be
    aborted (the error says so), raises on a fatal error."""
    while True:
        try:
            action()
            return True
        except KafkaException as e:
            err = e.args[0]
            log.append(f"{what}: {err}")
            if err.fatal():
                raise
            if err.txn_requires_abort():
                return False
            if not err.retriable():
                raise
            time.sleep(0.2)


def copy(in_topic, out_topic, group, txn_id, count):
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 45000,
        }
    )
    consumer.subscribe([in_topic])
    producer = new_producer(txn_id)
    log = []
    aborted_attempts = []
    attempt = 0
    committed_txns = 0
    fatal_restarts = 0
    deadline = time.time() + 600

    def committed_offsets():
        # Retried: the broker may be down (killed by the test) for a moment.
        while True:
            assignment = consumer.assignment()
            if not assignment:
                return []
            try:
                return consumer.committed(assignment, timeout=30)
            except KafkaException as e:
                log.append(f"committed: {e.args[0]}")
                time.sleep(0.5)

    def rewind():
        # Back to the last committed offsets: what the aborted transaction read is read again.
        for tp in committed_offsets():
            consumer.seek(TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else 0))

    def done():
        committed = committed_offsets()
        if not committed:
            return False
        total = sum(tp.offset for tp in committed if tp.offset >= 0)
        print(f"progress {total}", file=sys.stderr, flush=True)
        return total >= count

    while time.time() < deadline:
        msgs = consumer.consume(500, 1.0)
        msgs = [m for m in msgs if m.error() is None]
        if not msgs:
            if done():
                break
            continue
        attempt += 1
        on_purpose = attempt % 3 == 0
        try:
            producer.begin_transaction()
            for m in msgs:
                while True:
                    try:
                        producer.produce(
                            out_topic,
                            key=m.key(),
                            value=m.value() + f":{attempt}".encode(),
                            partition=m.partition(),
                        )
                        break
                    except BufferError:
                        producer.poll(0.1)
            if on_purpose:
                producer.flush(30)
                if retry(lambda: producer.abort_transaction(30), "abort", log):
                    aborted_attempts.append(attempt)
                rewind()
                continue
            ok = retry(
                lambda: producer.send_offsets_to_transaction(
                    consumer.position(consumer.assignment()), consumer.consumer_group_metadata(), 30
                ),
                "send_offsets",
                log,
            ) and retry(lambda: producer.commit_transaction(30), "commit", log)
            if ok:
                committed_txns += 1
                if done():
                    break
            else:
                retry(lambda: producer.abort_transaction(30), "abort after error", log)
                rewind()
        except KafkaException as e:
            log.append(f"fatal: {e.args[0]}")
            fatal_restarts += 1
            producer = new_producer(txn_id)
            rewind()
    consumer.close()
    producer.flush(30)
    return {
        "committed_txns": committed_txns,
        "aborted_attempts": aborted_attempts,
        "fatal_restarts": fatal_restarts,
        "log": log[-50:],
        "timed_out": time.time() >= deadline,
    }


def verify(out_topic, count, partitions, isolation):
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"verify-{isolation}-{time.time()}",
            "isolation.level": isolation,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": True,
        }
    )
    consumer.assign([TopicPartition(out_topic, p, 0) for p in range(partitions)])
    seen = {p: [] for p in range(partitions)}
    eof = set()
    deadline = time.time() + 120
    while len(eof) < partitions and time.time() < deadline:
        for m in consumer.consume(1000, 1.0):
            if m.error() is not None:
                if m.error().code() == -191:  # _PARTITION_EOF
                    eof.add(m.partition())
                continue
            eof.discard(m.partition())
            seen[m.partition()].append(m.value().decode())
    consumer.close()
    return {"seen": {str(p): v for p, v in seen.items()}, "eof": len(eof) == partitions}


if mode == "setup":
    out = setup(sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
elif mode == "copy":
    out = copy(sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], int(sys.argv[7]))
elif mode == "verify":
    out = verify(sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
else:
    raise SystemExit(f"unknown mode {mode}")
print(json.dumps(out))
