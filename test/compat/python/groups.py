"""confluent-kafka-python consumer groups against Samsa. Each mode prints one JSON object with what it
observed; test/compat/confluent-kafka-groups.test.ts checks it.

Usage:
  groups.py share BOOTSTRAP TOPIC GROUP [ASSIGNOR]
      Produces 60,000 records to TOPIC (6 partitions, created here) in three waves while members
      of GROUP consume them: two members start, a third joins mid-stream, one leaves, a new one
      joins. Offsets are stored for the processed records only and committed synchronously after
      every processed batch, so no record may be processed twice and none may be missed. A member
      seeks back when librdkafka hands it a record past the one it expects on a partition it kept
      (a librdkafka < 2.5 bug on incremental rebalances, counted in client_gaps). ASSIGNOR is
      librdkafka's partition.assignment.strategy: range (eager, the default) or
      cooperative-sticky (incremental rebalances, KIP-429).
  commit BOOTSTRAP TOPIC GROUP COUNT
      Produces 1,000 records (3 partitions, created here), consumes COUNT of them in GROUP committing
      synchronously, and prints what the broker acknowledged as committed.
  resume BOOTSTRAP TOPIC GROUP EXPECTED
      Joins GROUP, prints the committed offsets it finds and the first offset it is given per
      partition, consumes EXPECTED records and checks that no more come.
  static BOOTSTRAP TOPIC GROUP
      Static membership (group.instance.id): members a and b share a 4-partition topic; b closes
      and a new b with the same instance id starts within the session timeout. Prints how often a
      saw its partitions assigned or revoked, and b's assignment before and after.
"""

import json
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

mode, bootstrap, topic, group = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
out = {}


def create_topic(partitions):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])[topic].result(timeout=30)


def produce(start, count, partitions):
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
    errors = []

    def report(err, msg):
        if err is not None:
            errors.append(str(err))

    for i in range(start, start + count):
        while True:
            try:
                p.produce(topic, key=str(i).encode(), value=("v%d" % i).encode(), partition=i % partitions, on_delivery=report)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    p.flush(60)
    if errors:
        raise RuntimeError("produce failed: %s" % errors[:3])


def consumer_config(member, extra=None):
    c = {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "client.id": member,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 500,
        "topic.metadata.refresh.interval.ms": 1000,
    }
    if extra:
        c.update(extra)
    return c


if mode == "share":
    assignor = sys.argv[5] if len(sys.argv) > 5 else "range"
    PARTITIONS = 6
    TOTAL = 60000
    create_topic(PARTITIONS)
    lock = threading.Lock()
    processed = {}  # (partition, offset) -> member
    duplicates = []
    errors = []
    client_gaps = []  # [member, partition, expected offset, offset librdkafka handed out]
    client_repeats = []
    commit_retries = []
    rebalances = []

    def commit(c):
        # A synchronous commit that meets a rebalance (the group in CompletingRebalance answers
        # REBALANCE_IN_PROGRESS, as Kafka) is retried once librdkafka has synced the new generation.
        for _ in range(100):
            try:
                c.commit(asynchronous=False)
                return
            except KafkaException as e:
                if e.args[0].code() != KafkaError.REBALANCE_IN_PROGRESS:
                    raise
                commit_retries.append(1)
                time.sleep(0.05)
        raise RuntimeError("commit kept meeting a rebalance")

    class Member(threading.Thread):
        def __init__(self, name):
            super().__init__(daemon=True)
            self.name_ = name
            self.stop = threading.Event()
            self.count = 0

        def run(self):
            # Offsets are stored by hand, for what was processed only (see the gap check below).
            c = Consumer(
                consumer_config(
                    self.name_,
                    {"partition.assignment.strategy": assignor, "enable.auto.offset.store": False},
                )
            )
            # The next offset this member expects on each partition it holds. librdkafka before 2.5
            # (Debian ships 2.0.2) can resume a partition it kept through an incremental rebalance
            # from a stale fetch position, skipping or repeating records it had fetched but not yet
            # handed out (confluentinc/librdkafka#4637, #4686). The member seeks back to the record
            # it expects on a gap and drops records it already processed, as an application would;
            # both are counted in the output, and the broker must still deliver every record.
            expected = {}

            def on_revoke(consumer, parts):
                rebalances.append([self.name_, "revoke", sorted(p.partition for p in parts)])
                for p in parts:
                    expected.pop(p.partition, None)

            def on_assign(consumer, parts):
                rebalances.append([self.name_, "assign", sorted(p.partition for p in parts)])
                for p in parts:
                    expected.pop(p.partition, None)

            c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
            try:
                while not self.stop.is_set():
                    msgs = c.consume(num_messages=500, timeout=0.2)
                    batch = []
                    sought = set()
                    for m in msgs:
                        if m.error():
                            if m.error().code() != KafkaError._PARTITION_EOF:
                                errors.append("%s: %s" % (self.name_, m.error()))
                            continue
                        p, o = m.partition(), m.offset()
                        if p in sought:
                            continue
                        e = expected.get(p)
                        if e is not None and o > e:
                            client_gaps.append([self.name_, p, e, o])
                            c.seek(TopicPartition(topic, p, e))
                            sought.add(p)
                            continue
                        if e is not None and o < e:
                            client_repeats.append([self.name_, p, o, e])
                            continue
                        expected[p] = o + 1
                        batch.append(m)
                    if not batch:
                        continue
                    with lock:
                        for m in batch:
                            k = (m.partition(), m.offset())
                            if k in processed:
                                duplicates.append([self.name_, processed[k], k[0], k[1]])
                            processed[k] = self.name_
                            self.count += 1
                    # Commit what this batch processed before fetching more: a partition that moves
                    # to another member after this point starts where this one left off.
                    last = {}
                    for m in batch:
                        last[m.partition()] = m.offset()
                    c.store_offsets(offsets=[TopicPartition(topic, p, o + 1) for p, o in last.items()])
                    commit(c)
            finally:
                c.close()

    def total():
        with lock:
            return len(processed)

    def wait_assigned(name, limit=60):
        # Until the group has rebalanced to give the member partitions.
        deadline = time.time() + limit
        while not any(r[0] == name and r[1] == "assign" and r[2] for r in list(rebalances)):
            if time.time() > deadline:
                raise RuntimeError("%s was never assigned partitions" % name)
            time.sleep(0.05)

    def wait_for(n, limit=120):
        deadline = time.time() + limit
        while total() < n:
            if time.time() > deadline:
                raise RuntimeError("stuck at %d of %d records" % (total(), n))
            time.sleep(0.05)

    produce(0, 20000, PARTITIONS)
    a, b = Member("a"), Member("b")
    a.start()
    b.start()
    wait_for(8000)
    c = Member("c")  # joins mid-stream
    c.start()
    wait_assigned("c")
    produce(20000, 20000, PARTITIONS)
    wait_for(30000)
    b.stop.set()  # leaves mid-stream
    b.join()
    d = Member("d")  # a new member joins after the leave
    d.start()
    wait_assigned("d")
    produce(40000, 20000, PARTITIONS)
    wait_for(TOTAL)
    for m in (a, c, d):
        m.stop.set()
    for m in (a, c, d):
        m.join()

    # What the group committed: every partition's committed offset is its end.
    check = Consumer(consumer_config("check"))
    committed = check.committed([TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=30)
    check.close()
    by_partition = {}
    for (p, o) in processed:
        by_partition.setdefault(p, []).append(o)
    out["processed"] = total()
    out["distinct_values_ok"] = all(sorted(v) == list(range(len(v))) for v in by_partition.values())
    out["per_member"] = {m.name_: m.count for m in (a, b, c, d)}
    out["duplicates"] = duplicates[:10]
    out["client_gaps"] = client_gaps[:10]
    out["client_repeats"] = len(client_repeats)
    out["commit_retries"] = len(commit_retries)
    out["errors"] = errors[:10]
    out["committed"] = sorted([tp.partition, tp.offset] for tp in committed)
    out["ends"] = sorted([p, len(v)] for p, v in by_partition.items())
    out["rebalances"] = len(rebalances)

elif mode == "commit":
    count = int(sys.argv[5])
    create_topic(3)
    produce(0, 1000, 3)
    c = Consumer(consumer_config("committer"))
    c.subscribe([topic])
    seen = 0
    acked = {}
    while seen < count:
        for m in c.consume(num_messages=min(100, count - seen), timeout=1.0):
            if m.error():
                continue
            seen += 1
        result = c.commit(asynchronous=False)
        for tp in result or []:
            if tp.error is None and tp.offset >= 0:
                acked[tp.partition] = tp.offset
    out["consumed"] = seen
    out["acked"] = sorted([p, o] for p, o in acked.items())
    # A static-less consumer leaves the group on close; its offsets stay.
    c.close()

elif mode == "resume":
    expected = int(sys.argv[5])
    c = Consumer(consumer_config("resumer"))
    first = {}
    c.subscribe([topic])
    committed = None
    seen = 0
    deadline = time.time() + 60
    while time.time() < deadline and seen < expected:
        for m in c.consume(num_messages=500, timeout=0.5):
            if m.error():
                continue
            first.setdefault(m.partition(), m.offset())
            seen += 1
        if committed is None and c.assignment():
            committed = c.committed([TopicPartition(topic, p) for p in range(3)], timeout=30)
    # Anything past the expected count would be a record consumed twice.
    for m in c.consume(num_messages=500, timeout=1.0):
        if not m.error():
            seen += 1
    out["committed"] = sorted([tp.partition, tp.offset] for tp in committed or [])
    out["first"] = sorted([p, o] for p, o in first.items())
    out["consumed"] = seen
    c.close()

elif mode == "static":
    create_topic(4)
    produce(0, 400, 4)
    events = {"a": [], "b1": [], "b2": []}

    def member(name, instance):
        c = Consumer(
            consumer_config(name, {"group.instance.id": instance, "session.timeout.ms": 20000})
        )
        c.subscribe(
            [topic],
            on_assign=lambda cons, parts: events[name].append(["assign", sorted(p.partition for p in parts)]),
            on_revoke=lambda cons, parts: events[name].append(["revoke", sorted(p.partition for p in parts)]),
        )
        return c

    def pump(consumers, seconds):
        end = time.time() + seconds
        while time.time() < end:
            for c in consumers:
                c.poll(0.05)

    a = member("a", "instance-a")
    pump([a], 1)
    b1 = member("b1", "instance-b")
    # Until both hold partitions (the group stabilised with two members).
    deadline = time.time() + 60
    while time.time() < deadline:
        pump([a, b1], 0.5)
        if events["b1"] and events["b1"][-1][0] == "assign" and events["b1"][-1][1]:
            break
    pump([a, b1], 2)
    a_before = len(events["a"])
    b_assignment = events["b1"][-1][1]
    # A static member's close does not leave the group (KIP-345): the coordinator keeps its slot.
    b1.close()
    pump([a], 2)
    b2 = member("b2", "instance-b")
    deadline = time.time() + 30
    while time.time() < deadline and not events["b2"]:
        pump([a, b2], 0.5)
    pump([a, b2], 3)
    out["a_events_before"] = a_before
    out["a_events_after"] = events["a"][a_before:]
    out["b_before"] = b_assignment
    out["b_after"] = events["b2"][-1][1] if events["b2"] else None
    a.close()
    b2.close()

else:
    raise SystemExit("unknown mode " + mode)

print(json.dumps(out))
