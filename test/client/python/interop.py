"""confluent-kafka-python side of the Samsa client interop tests (test/client/*.test.ts).

Usage:
  interop.py consume BOOTSTRAP TOPIC COUNT
      Reads COUNT records from every partition of TOPIC from the beginning (assign, no group) and
      prints them as JSON lines: partition, offset, key/value as hex (null when absent), headers as
      [key, hex] pairs, timestamp type and timestamp.
  produce BOOTSTRAP TOPIC SPEC_FILE COMPRESSION
      Produces the records described in SPEC_FILE (a JSON list of {partition, key, value, headers,
      timestamp}; bytes as hex) with acks=all and the given compression.type; prints "ok".
  partitions BOOTSTRAP TOPIC KEYS_FILE
      Produces one record per key (JSON list of strings) without a partition and prints the
      partition librdkafka's murmur2_random partitioner chose for each (Java's default).
  member BOOTSTRAP TOPIC GROUP ASSIGNOR SECONDS
      A group member: consumes for SECONDS (committing synchronously after each message) and
      prints JSON lines of [partition, offset] it processed.
  committed BOOTSTRAP TOPIC ISOLATION
      Reads every partition of TOPIC from the beginning to its end (partition EOF) with
      isolation.level ISOLATION and prints one JSON line per record: partition, offset, value (text).
"""

import json
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition


def hx(b):
    return None if b is None else b.hex()


def unhex(s):
    return None if s is None else bytes.fromhex(s)


mode, bootstrap, topic = sys.argv[1], sys.argv[2], sys.argv[3]

if mode == "consume":
    count = int(sys.argv[4])
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "interop-reader", "enable.auto.commit": False})
    md = c.list_topics(topic, timeout=30)
    parts = sorted(md.topics[topic].partitions.keys())
    c.assign([TopicPartition(topic, p, 0) for p in parts])
    got = 0
    deadline = time.time() + 60
    while got < count and time.time() < deadline:
        m = c.poll(1.0)
        if m is None:
            continue
        if m.error():
            raise RuntimeError(str(m.error()))
        ts_type, ts = m.timestamp()
        print(json.dumps({
            "partition": m.partition(), "offset": m.offset(), "key": hx(m.key()), "value": hx(m.value()),
            "headers": [[k, hx(v)] for k, v in (m.headers() or [])], "tstype": ts_type, "ts": ts,
        }))
        got += 1
    c.close()
elif mode == "committed":
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "interop-committed", "enable.auto.commit": False,
                  "isolation.level": sys.argv[4], "enable.partition.eof": True})
    md = c.list_topics(topic, timeout=30)
    parts = sorted(md.topics[topic].partitions.keys())
    c.assign([TopicPartition(topic, p, 0) for p in parts])
    eof = set()
    deadline = time.time() + 60
    while len(eof) < len(parts) and time.time() < deadline:
        m = c.poll(1.0)
        if m is None:
            continue
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                eof.add(m.partition())
                continue
            raise RuntimeError(str(m.error()))
        eof.discard(m.partition())
        print(json.dumps({"partition": m.partition(), "offset": m.offset(), "value": m.value().decode()}))
    c.close()
elif mode == "produce":
    spec = json.load(open(sys.argv[4]))
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "compression.type": sys.argv[5], "linger.ms": 5})
    errors = []
    for r in spec:
        kwargs = {"value": unhex(r["value"]), "key": unhex(r["key"]), "partition": r["partition"],
                  "headers": [(k, unhex(v)) for k, v in r["headers"]]}
        if r.get("timestamp") is not None:
            kwargs["timestamp"] = r["timestamp"]
        p.produce(topic, on_delivery=lambda err, msg: errors.append(str(err)) if err else None, **kwargs)
    p.flush(60)
    if errors:
        raise RuntimeError(errors[:3])
    print("ok")
elif mode == "partitions":
    keys = json.load(open(sys.argv[4]))
    p = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"})
    out = {}

    def report(err, msg):
        if err:
            raise RuntimeError(str(err))
        out[msg.key().decode()] = msg.partition()

    for k in keys:
        p.produce(topic, key=k.encode(), value=b"x", on_delivery=report)
    p.flush(60)
    print(json.dumps(out))
elif mode == "member":
    group, assignor, seconds = sys.argv[4], sys.argv[5], float(sys.argv[6])
    c = Consumer({
        "bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
        "auto.offset.reset": "earliest", "partition.assignment.strategy": assignor,
        "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
    })
    c.subscribe([topic])
    end = time.time() + seconds
    while time.time() < end:
        m = c.poll(0.2)
        if m is None or m.error():
            continue
        print(json.dumps([m.partition(), m.offset()]), flush=True)
        c.commit(message=m, asynchronous=False)
    c.close()
