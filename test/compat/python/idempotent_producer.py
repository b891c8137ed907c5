"""An idempotent librdkafka producer (confluent-kafka-python) for the exactly-once tests: produces
COUNT records to TOPIC, value "<i>" to partition i % PARTITIONS, with enable.idempotence=True
(acks=all, up to 5 requests in flight, retries until message.timeout.ms), and prints one line per
delivery report as it arrives, flushed at once:

    ack <partition> <offset> <value>
    err <partition> <value> <error name>

then "done" once every report is in. Reconnects fast (the tests cut connections and kill the
broker), and waits long for a broker that is restarting.

Usage: idempotent_producer.py BOOTSTRAP TOPIC PARTITIONS COUNT"""

import sys

from confluent_kafka import Producer

bootstrap, topic, partitions, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

p = Producer(
    {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "max.in.flight.requests.per.connection": 5,
        "linger.ms": 5,
        "batch.num.messages": 500,
        "message.timeout.ms": 120000,
        "socket.timeout.ms": 10000,
        "reconnect.backoff.ms": 10,
        "reconnect.backoff.max.ms": 200,
        "retry.backoff.ms": 20,
    }
)
out = sys.stdout


def on_delivery(err, msg):
    value = msg.value().decode()
    if err is None:
        out.write(f"ack {msg.partition()} {msg.offset()} {value}\n")
    else:
        out.write(f"err {msg.partition()} {value} {err.name()}\n")
    out.flush()


for i in range(count):
    while True:
        try:
            p.produce(topic, value=str(i), partition=i % partitions, on_delivery=on_delivery)
            break
        except BufferError:
            p.poll(0.05)
    p.poll(0)
remaining = p.flush(300)
out.write(f"done {remaining}\n")
out.flush()
