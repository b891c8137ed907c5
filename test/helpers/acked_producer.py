"""A librdkafka producer (confluent-kafka-python) for the durability tests: produces COUNT records
with acks=all to TOPIC, values PREFIX-<i>, record i to partition i % PARTITIONS, and prints one
line per delivery report as it arrives (flushed at once, so that a test reading stdout sees every
acknowledgement the moment the client has it):

    ack <partition> <offset> <value>
    err <partition> <value> <error name>

Retries are off and at most one request is in flight per partition, so acknowledged offsets of a
partition increase with i and a killed broker fails the outstanding records instead of having them
resent, possibly reordered, to its successor. After the first failure it stops producing, waits
for the outstanding reports, and exits.

Usage: acked_producer.py BOOTSTRAP TOPIC PARTITIONS PREFIX COUNT"""

import sys

from confluent_kafka import Producer

bootstrap, topic, partitions, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])

p = Producer(
    {
        "bootstrap.servers": bootstrap,
        "acks": "all",
        "enable.idempotence": False,
        "retries": 0,
        "max.in.flight.requests.per.connection": 1,
        "linger.ms": 2,
        "batch.num.messages": 200,
        "message.timeout.ms": 5000,
        "socket.timeout.ms": 5000,
        "reconnect.backoff.max.ms": 500,
    }
)
out = sys.stdout
failed = False


def on_delivery(err, msg):
    global failed
    value = msg.value().decode()
    if err is None:
        out.write(f"ack {msg.partition()} {msg.offset()} {value}\n")
    else:
        failed = True
        out.write(f"err {msg.partition()} {value} {err.name()}\n")
    out.flush()


for i in range(count):
    if failed:
        break
    while True:
        try:
            p.produce(topic, value=f"{prefix}-{i}", partition=i % partitions, on_delivery=on_delivery)
            break
        except BufferError:
            p.poll(0.05)
    p.poll(0)
p.flush(60)
out.write("done\n")
out.flush()
