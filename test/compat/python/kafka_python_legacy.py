"""kafka-python (Debian's python3-kafka 2.0.2) with api_version pinned, against a Samsa broker.

Usage: kafka_python_legacy.py BOOTSTRAP MAJOR.MINOR TOPIC_PREFIX
Prints one JSON object with what it saw; exits non-zero on any failure.
Pinning api_version makes kafka-python skip version probing and use that Kafka release's
request versions (e.g. (0, 10): Produce v2, Fetch v2 with magic 1 message sets, OffsetCommit v2,
ListOffsets v0, CreateTopics v0/v1, DescribeConfigs v0).
"""

import json
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.codec import has_gzip, has_lz4, has_snappy, has_zstd

bootstrap, version, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
api_version = tuple(int(x) for x in version.split("."))
out = {"api_version": list(api_version)}
topic = prefix + "-data"
group = prefix + "-group"

admin = KafkaAdminClient(bootstrap_servers=bootstrap, api_version=api_version, client_id="legacy-admin")
admin.create_topics([NewTopic(name=topic, num_partitions=2, replication_factor=1, topic_configs={"retention.ms": "3600000"})])
out["topics"] = sorted(t for t in admin.list_topics() if t.startswith(prefix))
described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
configs = {}
for resp in described:
    for res in resp.resources:
        for entry in res[4]:
            configs[entry[0]] = entry[1]
out["retention.ms"] = configs.get("retention.ms")

# The codecs whose Python libraries are installed (Debian's python3-kafka brings gzip only;
# snappy, lz4 and zstd need python3-snappy, python3-lz4, python3-zstandard).
codecs = ["none"] + [c for c, ok in (("gzip", has_gzip()), ("snappy", has_snappy()), ("lz4", has_lz4())) if ok]
if api_version >= (2, 1) and has_zstd():
    codecs.append("zstd")
out["codecs"] = codecs
sent = []
for codec in codecs:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        api_version=api_version,
        compression_type=None if codec == "none" else codec,
        acks="all",
        linger_ms=5,
    )
    for i in range(20):
        key = ("%s-%d" % (codec, i)).encode()
        value = (("%s value %d " % (codec, i)) * 20).encode()
        ts = 1_700_000_000_000 + len(sent)
        producer.send(topic, key=key, value=value, partition=i % 2, timestamp_ms=ts)
        sent.append((key.decode(), len(value), ts))
    producer.flush(30)
    producer.close()


def consume(expected):
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        api_version=api_version,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=20000,
    )
    got = []
    for msg in consumer:
        got.append((msg.key.decode(), len(msg.value), msg.timestamp, msg.partition, msg.offset))
        if len(got) == expected:
            break
    consumer.commit()
    committed = {p: consumer.committed(TopicPartition(topic, p)) for p in (0, 1)}
    consumer.close()
    return got, committed


half = len(sent) // 2
first, committed = consume(len(sent))
out["consumed"] = len(first)
out["keys_match"] = sorted(k for k, _, _ in sent) == sorted(k for k, _, _, _, _ in first)
out["sizes_match"] = sorted((k, n) for k, n, _ in sent) == sorted((k, n) for k, n, _, _, _ in first)
# (0, 10) and later produce magic 1 or 2: the timestamps given are kept.
out["timestamps_match"] = sorted((k, ts) for k, _, ts in sent) == sorted((k, ts) for k, _, ts, _, _ in first)
out["committed"] = {str(p): o for p, o in committed.items()}

# Resume: more records, then the same group continues from its commits.
producer = KafkaProducer(bootstrap_servers=bootstrap, api_version=api_version, acks="all")
for i in range(6):
    producer.send(topic, key=b"after-%d" % i, value=b"v", partition=i % 2)
producer.flush(30)
producer.close()
resumed, committed2 = consume(6)
out["resumed_keys"] = sorted(k for k, _, _, _, _ in resumed)
out["committed_after"] = {str(p): o for p, o in committed2.items()}

groups = [g[0] for g in admin.list_consumer_groups()]
out["group_listed"] = group in groups
admin.delete_topics([topic])
admin.close()
print(json.dumps(out))
