# A transactional producer fenced by a second one with the same transactional.id: its next
# produce (to a partition already in its transaction, so no AddPartitionsToTxn comes first) must
# surface librdkafka's fatal "fenced" error, not an abortable one.
# Usage: fenced_producer.py <bootstrap> <topic> <transactional.id>
# Prints one JSON object: the delivery reports, and how the old producer's flush and commit failed.

import json
import sys

from confluent_kafka import KafkaError, KafkaException, Producer

bootstrap, topic, txn_id = sys.argv[1], sys.argv[2], sys.argv[3]
out = {"delivery": []}


def conf():
    return {
        "bootstrap.servers": bootstrap,
        "transactional.id": txn_id,
        "linger.ms": 0,
        "log_level": 0,
    }


def report(err, _msg):
    out["delivery"].append(None if err is None else err.name())


old = Producer(conf())
old.init_transactions(30)
old.begin_transaction()
old.produce(topic, b"first", partition=0, on_delivery=report)
old.flush(30)

new = Producer(conf())
new.init_transactions(30)  # bumps the epoch: the old producer is fenced

def outcome(action):
    try:
        action()
        return {"ok": True}
    except KafkaException as e:
        err = e.args[0]
        return {
            "name": err.name(),
            "code": err.code(),
            "fatal": err.fatal(),
            "abortable": err.txn_requires_abort(),
        }


out["fenced_code"] = KafkaError._FENCED
old.produce(topic, b"after-fence", partition=0, on_delivery=report)
out["flush"] = outcome(lambda: old.flush(30))
out["commit"] = outcome(lambda: old.commit_transaction(30))
# The new producer works on.
new.begin_transaction()
new.produce(topic, b"from-new", partition=0, on_delivery=report)
new.commit_transaction(30)
print(json.dumps(out))
