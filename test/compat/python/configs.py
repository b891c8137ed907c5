"""confluent-kafka-python against Samsa: what DescribeConfigs reports of the config registry (a
topic config's value, source and broker synonyms in Kafka's order; broker configs' read-only
flags). Prints one JSON object; test/compat/configs.test.ts checks it. Usage: configs.py BOOTSTRAP"""

import json
import sys

from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

bootstrap = sys.argv[1]
admin = AdminClient({"bootstrap.servers": bootstrap})
out = {}

admin.create_topics([NewTopic("cfg-topic", num_partitions=1, replication_factor=1)])["cfg-topic"].result(timeout=30)


def entry(e):
    return {
        "value": e.value,
        "source": e.source,
        "read_only": e.is_read_only,
        "sensitive": e.is_sensitive,
        "synonyms": [[s.name, s.value, s.source] for s in e.synonyms.values()],
    }


topic = ConfigResource(ConfigResource.Type.TOPIC, "cfg-topic")
entries = admin.describe_configs([topic])[topic].result(timeout=30)
out["topic"] = {k: entry(entries[k]) for k in ("retention.ms", "flush.messages", "segment.ms")}

broker = ConfigResource(ConfigResource.Type.BROKER, "1")
entries = admin.describe_configs([broker])[broker].result(timeout=30)
out["broker"] = {
    k: entry(entries[k])
    for k in (
        "log.retention.minutes",
        "log.flush.interval.messages",
        "listeners",
        "listener.security.protocol.map",
        "zookeeper.connect",
    )
}
print(json.dumps(out))
