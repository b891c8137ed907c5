"""A torture-run client on confluent-kafka-python (librdkafka). Writes the history of every operation
it makes as JSON lines on stdout (format in tools/torture/history.ts); the harness collects them.
Runs until SIGTERM, then finishes its current operation and exits.

Usage (SPEC is "topic:partitions,topic:partitions"):
  rdkafka_worker.py produce BOOTSTRAP PROCESS plain|idempotent SPEC RATE
      Values "<PROCESS>-<seq>", record seq to the seq-th partition of SPEC in turn, RATE a second,
      acks=all.
  rdkafka_worker.py consume BOOTSTRAP PROCESS SPEC GROUP|- read_committed|read_uncommitted
      A group member (subscribe) or, with "-", assign of every partition from offset 0.
  rdkafka_worker.py copy BOOTSTRAP PROCESS IN_SPEC OUT_TOPIC GROUP TXN_ID ABORT_EVERY
      Read-process-write: a read_committed group member reads IN, each batch is copied to OUT_TOPIC
      (same partition, value "<PROCESS>.<txn>:<input value>") in a transaction that also commits the
      consumer's offsets; every ABORT_EVERY-th transaction is aborted on purpose.
"""

import json
import signal
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

stopping = False


def on_term(_sig, _frame):
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)


def emit(op):
    op["time"] = int(time.time() * 1000)
    sys.stdout.write(json.dumps(op, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def parse_spec(spec):
    out = []
    for part in spec.split(","):
        topic, n = part.rsplit(":", 1)
        out.extend((topic, p) for p in range(int(n)))
    return out


COMMON = {
    "socket.timeout.ms": 10000,
    "reconnect.backoff.ms": 100,
    "reconnect.backoff.max.ms": 1000,
    "topic.metadata.refresh.interval.ms": 5000,
}


def produce(bootstrap, process, kind, spec, rate):
    tps = parse_spec(spec)
    p = Producer(
        {
            **COMMON,
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "enable.idempotence": kind == "idempotent",
            "linger.ms": 5,
            "message.timeout.ms": 15000,
        }
    )
    seq = 0

    def report(err, msg, op_id, value):
        if err is None:
            emit({"process": process, "type": "ok", "f": "send", "id": op_id, "topic": msg.topic(),
                  "partition": msg.partition(), "value": value, "offset": msg.offset(), "producer": kind})
        else:
            # A failed delivery may still have been appended (a lost answer): indeterminate.
            emit({"process": process, "type": "info", "f": "send", "id": op_id, "topic": msg.topic(),
                  "partition": msg.partition(), "value": value, "producer": kind, "error": err.name()})

    interval = 1.0 / rate
    next_at = time.time()
    while not stopping:
        topic, partition = tps[seq % len(tps)]
        value = f"{process}-{seq}"
        emit({"process": process, "type": "invoke", "f": "send", "id": seq, "topic": topic,
              "partition": partition, "value": value, "seq": seq, "producer": kind})
        op_id = seq
        while True:
            try:
                p.produce(topic, value=value.encode(), partition=partition,
                          on_delivery=lambda err, msg, i=op_id, v=value: report(err, msg, i, v))
                break
            except BufferError:
                p.poll(0.05)
        seq += 1
        next_at += interval
        p.poll(max(0.0, next_at - time.time()))
    p.flush(20)


def consume(bootstrap, process, spec, group, isolation):
    tps = parse_spec(spec)
    c = Consumer(
        {
            **COMMON,
            "bootstrap.servers": bootstrap,
            "group.id": group if group != "-" else f"{process}-unused",
            "isolation.level": isolation,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": True,
            "auto.commit.interval.ms": 1000,
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 1000,
        }
    )
    ids = iter(range(1 << 62))

    def on_assign(_c, partitions):
        emit({"process": process, "type": "ok", "f": "assign", "id": next(ids),
              "partitions": [[tp.topic, tp.partition] for tp in partitions]})

    def on_revoke(_c, partitions):
        emit({"process": process, "type": "ok", "f": "assign", "id": next(ids), "partitions": [],
              "detail": "revoked " + ",".join(f"{tp.topic}/{tp.partition}" for tp in partitions)})

    if group != "-":
        c.subscribe(sorted({t for t, _ in tps}), on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke)
    else:
        c.assign([TopicPartition(t, p, 0) for t, p in tps])
        emit({"process": process, "type": "ok", "f": "assign", "id": next(ids), "partitions": [list(tp) for tp in tps]})
    while not stopping:
        msgs = c.consume(500, 0.5)
        reads = []
        for m in msgs:
            err = m.error()
            if err is not None:
                if err.code() == KafkaError._AUTO_OFFSET_RESET:
                    # The position was reset (out of range): a seek the checker must know of.
                    emit({"process": process, "type": "ok", "f": "assign", "id": next(ids), "partitions": [],
                          "detail": f"offset reset: {err.str()}"})
                continue
            reads.append([m.topic(), m.partition(), m.offset(), m.value().decode()])
        if reads:
            i = next(ids)
            emit({"process": process, "type": "invoke", "f": "poll", "id": i})
            emit({"process": process, "type": "ok", "f": "poll", "id": i, "isolation": isolation, "reads": reads})
    c.close()


class Fatal(Exception):
    pass


def retry(action):
    """Runs a transactional call until it succeeds: True; False when the transaction must abort."""
    while True:
        try:
            action()
            return True
        except KafkaException as e:
            err = e.args[0]
            if err.fatal():
                raise Fatal(str(err)) from e
            if err.txn_requires_abort():
                return False
            if not err.retriable() and err.code() != KafkaError._TIMED_OUT:
                raise Fatal(str(err)) from e
            if stopping:
                raise Fatal("stopping during a retry") from e
            time.sleep(0.2)


def copy(bootstrap, process, in_spec, out_topic, group, txn_id, abort_every):
    ins = sorted({t for t, _ in parse_spec(in_spec)})
    c = Consumer(
        {
            **COMMON,
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 1000,
        }
    )
    ids = iter(range(1 << 62))

    def on_assign(_c, partitions):
        emit({"process": process, "type": "ok", "f": "assign", "id": next(ids),
              "partitions": [[tp.topic, tp.partition] for tp in partitions]})

    def on_revoke(_c, _partitions):
        emit({"process": process, "type": "ok", "f": "assign", "id": next(ids), "partitions": []})

    c.subscribe(ins, on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke)
    p = Producer({**COMMON, "bootstrap.servers": bootstrap, "transactional.id": txn_id,
                  "transaction.timeout.ms": 20000, "linger.ms": 5})
    retry(lambda: p.init_transactions(30))

    def rewind():
        # Back to the committed offsets: what an aborted transaction read is read again.
        while not stopping:
            try:
                assignment = c.assignment()
                for tp in c.committed(assignment, timeout=10) if assignment else []:
                    c.seek(TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else 0))
                break
            except KafkaException:
                time.sleep(0.5)
        emit({"process": process, "type": "ok", "f": "assign", "id": next(ids), "partitions": [],
              "detail": "rewound to the committed offsets"})

    n = 0
    while not stopping:
        msgs = [m for m in c.consume(200, 0.5) if m.error() is None]
        if not msgs:
            continue
        n += 1
        op_id = next(ids)
        tag = f"{process}.{n}"
        reads = [[m.topic(), m.partition(), m.offset(), m.value().decode()] for m in msgs]
        writes = []
        emit({"process": process, "type": "invoke", "f": "txn", "id": op_id, "group": group})

        def report(err, msg, w):
            if err is None:
                w[2] = msg.offset()

        outcome = "info"
        error = None
        try:
            p.begin_transaction()
            for m in msgs:
                w = [out_topic, m.partition(), None, f"{tag}:{m.value().decode()}"]
                writes.append(w)
                while True:
                    try:
                        p.produce(out_topic, value=w[3].encode(), partition=w[1],
                                  on_delivery=lambda err, msg, w=w: report(err, msg, w))
                        break
                    except BufferError:
                        p.poll(0.05)
            on_purpose = abort_every > 0 and n % abort_every == 0
            p.flush(30)
            ok = False
            if not on_purpose:
                ok = retry(lambda: p.send_offsets_to_transaction(
                    c.position(c.assignment()), c.consumer_group_metadata(), 30)) and retry(
                    lambda: p.commit_transaction(30))
            if ok:
                outcome = "ok"
            else:
                error = "aborted on purpose" if on_purpose else "abortable error"
                if retry(lambda: p.abort_transaction(30)):
                    outcome = "fail"
        except (Fatal, KafkaException) as e:
            error = str(e)
            outcome = "info"
        emit({"process": process, "type": outcome, "f": "txn", "id": op_id, "group": group,
              "reads": reads, "writes": writes, **({"error": error} if error else {})})
        if outcome == "fail":
            # After the transaction's own line: its reads came before the rewind.
            rewind()
        if outcome == "info":
            # Fenced or lost: this process is done; the harness starts a new one in its place.
            sys.exit(3)
    c.close()


def main():
    mode, bootstrap, process = sys.argv[1], sys.argv[2], sys.argv[3]
    args = sys.argv[4:]
    if mode == "produce":
        produce(bootstrap, process, args[0], args[1], float(args[2]))
    elif mode == "consume":
        consume(bootstrap, process, args[0], args[1], args[2])
    elif mode == "copy":
        copy(bootstrap, process, args[0], args[1], args[2], args[3], int(args[4]))
    else:
        raise SystemExit(f"unknown mode {mode}")


main()
