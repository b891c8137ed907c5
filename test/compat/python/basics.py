"""confluent-kafka-python against Samsa: admin, produce with acks=all, consume by assign,
offsets_for_times, list_topics. Prints one JSON object with what it observed; the vitest test
(test/compat/confluent-kafka.test.ts) checks it. Usage: basics.py BOOTSTRAP"""

import json
import sys

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

bootstrap = sys.argv[1]
out = {}
admin = AdminClient({"bootstrap.servers": bootstrap})


def wait(futures):
    return {k: f.result(timeout=30) for k, f in futures.items()}


# Create: one good topic, one invalid name, one with a bad config.
fs = admin.create_topics(
    [
        NewTopic("py-topic", num_partitions=3, replication_factor=1, config={"retention.ms": "3600000"}),
        NewTopic("bad/name", num_partitions=1, replication_factor=1),
        NewTopic("py-badconf", num_partitions=1, replication_factor=1, config={"cleanup.policy": "sideways"}),
    ]
)
out["create"] = {}
for name, f in fs.items():
    try:
        f.result(timeout=30)
        out["create"][name] = "ok"
    except KafkaException as e:
        out["create"][name] = e.args[0].name()

# Creating it again fails with TOPIC_ALREADY_EXISTS.
try:
    admin.create_topics([NewTopic("py-topic", 1, 1)])["py-topic"].result(timeout=30)
    out["create_again"] = "ok"
except KafkaException as e:
    out["create_again"] = e.args[0].name()

# Describe configs: the override and a default.
res = ConfigResource(ConfigResource.Type.TOPIC, "py-topic")
entries = admin.describe_configs([res])[res].result(timeout=30)
out["describe"] = {
    "retention.ms": [entries["retention.ms"].value, entries["retention.ms"].source],
    "cleanup.policy": [entries["cleanup.policy"].value, entries["cleanup.policy"].source],
}

# Alter configs (the legacy whole-set API), then read back.
res2 = ConfigResource(ConfigResource.Type.TOPIC, "py-topic", set_config={"retention.ms": "7200000", "segment.bytes": "1048576"})
wait(admin.alter_configs([res2]))
entries = admin.describe_configs([res])[res].result(timeout=30)
out["altered"] = {k: entries[k].value for k in ("retention.ms", "segment.bytes")}

# Create partitions: 3 -> 5, then an attempt to shrink.
wait(admin.create_partitions([NewPartitions("py-topic", 5)]))
try:
    admin.create_partitions([NewPartitions("py-topic", 2)])["py-topic"].result(timeout=30)
    out["shrink"] = "ok"
except KafkaException as e:
    out["shrink"] = e.args[0].name()

md = admin.list_topics(timeout=30)
out["partitions"] = len(md.topics["py-topic"].partitions)
out["brokers"] = [[b.id, b.host, b.port] for b in md.brokers.values()]

# Produce with acks=all; each delivery report carries the assigned offset.
p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
delivered = []


def on_delivery(err, msg):
    delivered.append([None if err is None else err.name(), msg.partition(), msg.offset()])


for i in range(1000):
    p.produce("py-topic", key=f"k{i}", value=f"v{i}", partition=i % 5, timestamp=1_700_000_000_000 + i, on_delivery=on_delivery)
p.flush(30)
out["delivered"] = len(delivered)
out["delivery_errors"] = [d for d in delivered if d[0] is not None]
out["offsets_per_partition"] = sorted({d[1]: max(x[2] for x in delivered if x[1] == d[1]) for d in delivered}.items())

# Consume by assign from a given offset.
c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False})
c.assign([TopicPartition("py-topic", 2, 150)])
got = []
while len(got) < 50:
    m = c.poll(10)
    if m is None:
        break
    if m.error():
        out["consume_error"] = m.error().name()
        break
    got.append([m.offset(), m.key().decode(), m.value().decode(), m.timestamp()[1]])
out["consumed_from_150"] = got[:3]
out["consumed_count"] = len(got)

# offsets_for_times: the first record at or after a timestamp; the future gives -1 (end).
times = c.offsets_for_times([TopicPartition("py-topic", 0, 1_700_000_000_000 + 500), TopicPartition("py-topic", 1, 1_800_000_000_000)], timeout=30)
out["offsets_for_times"] = [t.offset for t in times]
lo, hi = c.get_watermark_offsets(TopicPartition("py-topic", 0), timeout=30)
out["watermarks"] = [lo, hi]
c.close()

# Delete, then list.
wait(admin.delete_topics(["py-topic"]))
try:
    admin.delete_topics(["py-topic"])["py-topic"].result(timeout=30)
    out["delete_again"] = "ok"
except KafkaException as e:
    out["delete_again"] = e.args[0].name()
out["after_delete"] = "py-topic" in admin.list_topics(timeout=30).topics

print(json.dumps(out))
