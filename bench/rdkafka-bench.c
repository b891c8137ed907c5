/*
 * A small librdkafka driver for the broker benchmarks (bench/broker.ts compiles and runs it).
 *
 *   rdkafka-bench produce BROKERS TOPIC COUNT SIZE [key=value librdkafka config ...]
 *   rdkafka-bench consume BROKERS TOPIC COUNT [key=value ...]
 *   rdkafka-bench latency BROKERS TOPIC MB_PER_SEC SIZE SECONDS [key=value ...]
 *
 * Each prints one JSON line. produce counts delivery reports (acknowledged records) and reports
 * the CPU time the driver itself used (all its threads: librdkafka's included); consume
 * reads partition 0 from the beginning; latency produces at a fixed rate with the send time in
 * each payload and consumes in the same process, reporting end-to-end percentiles.
 */
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* User + system CPU seconds of this process so far, every thread included. */
static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void set(rd_kafka_conf_t *conf, const char *k, const char *v) {
  char err[512];
  if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) {
    fprintf(stderr, "config %s=%s: %s\n", k, v, err);
    exit(2);
  }
}

static void set_extra(rd_kafka_conf_t *conf, int argc, char **argv, int from) {
  for (int i = from; i < argc; i++) {
    char *eq = strchr(argv[i], '=');
    if (!eq) continue;
    *eq = 0;
    set(conf, argv[i], eq + 1);
    *eq = '=';
  }
}

static long delivered = 0, failed = 0;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  (void)opaque;
  if (m->err) failed++;
  else delivered++;
}

static rd_kafka_t *producer(const char *brokers, int argc, char **argv, int from) {
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", brokers);
  set(conf, "acks", "all");
  set(conf, "linger.ms", "5");
  set(conf, "batch.size", "1000000");
  set(conf, "queue.buffering.max.messages", "2000000");
  set(conf, "queue.buffering.max.kbytes", "2097151");
  set_extra(conf, argc, argv, from);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    fprintf(stderr, "producer: %s\n", err);
    exit(2);
  }
  return rk;
}

static rd_kafka_t *consumer(const char *brokers, const char *topic, int argc, char **argv, int from) {
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", brokers);
  set(conf, "group.id", "rdkafka-bench");
  set(conf, "enable.auto.commit", "false");
  set(conf, "fetch.wait.max.ms", "100");
  set_extra(conf, argc, argv, from);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) {
    fprintf(stderr, "consumer: %s\n", err);
    exit(2);
  }
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  return rk;
}

static int produce(int argc, char **argv) {
  const char *brokers = argv[2], *topic = argv[3];
  long count = atol(argv[4]);
  int size = atoi(argv[5]);
  rd_kafka_t *rk = producer(brokers, argc, argv, 6);
  char *payload = malloc(size);
  memset(payload, 'p', size);
  /* Warm up: metadata and a first round trip, outside the timing. */
  rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_VALUE(payload, size), RD_KAFKA_V_END);
  rd_kafka_flush(rk, 30000);
  delivered = 0;
  int64_t start = now_us();
  double cpu_start = cpu_seconds();
  for (long i = 0; i < count; i++) {
    while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_VALUE(payload, size),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
      rd_kafka_poll(rk, 10);
    if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
  }
  rd_kafka_flush(rk, 120000);
  double secs = (now_us() - start) / 1e6;
  printf("{\"records\":%ld,\"failed\":%ld,\"seconds\":%.3f,\"records_per_sec\":%.0f,\"mb_per_sec\":%.1f,\"cpu_seconds\":%.2f}\n",
         delivered, failed, secs, delivered / secs, delivered * (double)size / secs / 1e6, cpu_seconds() - cpu_start);
  rd_kafka_destroy(rk);
  return failed ? 1 : 0;
}

static long consumed = 0;
static double consumed_bytes = 0;
static int64_t consume_start = 0;

static void on_message(rd_kafka_message_t *m, void *opaque) {
  (void)opaque;
  if (m->err) return;
  if (consumed == 0) consume_start = now_us();
  consumed++;
  consumed_bytes += m->len;
}

static int consume(int argc, char **argv) {
  const char *brokers = argv[2], *topic = argv[3];
  long count = atol(argv[4]);
  rd_kafka_t *rk = consumer(brokers, topic, argc, argv, 5);
  /* The callback API (as librdkafka's own rdkafka_performance uses): messages are handed over
   * in batches from the consumer queue, without an application round trip per message. */
  rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
  int idle = 0;
  while (consumed < count && idle < 5) {
    int n = rd_kafka_consume_callback_queue(q, 1000, on_message, NULL);
    idle = n > 0 ? 0 : idle + 1;
  }
  double secs = (now_us() - consume_start) / 1e6;
  printf("{\"records\":%ld,\"seconds\":%.3f,\"records_per_sec\":%.0f,\"mb_per_sec\":%.1f}\n", consumed, secs,
         consumed / secs, consumed_bytes / secs / 1e6);
  rd_kafka_queue_destroy(q);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return consumed >= count ? 0 : 1;
}

static int cmp64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static int latency(int argc, char **argv) {
  const char *brokers = argv[2], *topic = argv[3];
  double mbps = atof(argv[4]);
  int size = atoi(argv[5]);
  double seconds = atof(argv[6]);
  rd_kafka_t *p = producer(brokers, argc, argv, 7);
  rd_kafka_t *c = consumer(brokers, topic, argc, argv, 7);
  char *payload = malloc(size);
  memset(payload, 'l', size);
  /* Create the topic and let the consumer reach the end before timing. */
  rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_VALUE(payload, size), RD_KAFKA_V_END);
  rd_kafka_flush(p, 30000);
  for (int i = 0; i < 20; i++) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
    if (m) rd_kafka_message_destroy(m);
  }
  long total = (long)(mbps * 1e6 * seconds / size);
  int64_t *lat = malloc(sizeof(int64_t) * total);
  long sent = 0, got = 0;
  int64_t start = now_us(), interval = (int64_t)(size / (mbps * 1e6) * 1e6 * 1000); /* ns per message */
  while (got < total) {
    int64_t t = now_us();
    long due = (long)((t - start) * 1000 / (interval > 0 ? interval : 1));
    while (sent < total && sent <= due) {
      memcpy(payload, &t, sizeof t);
      rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_VALUE(payload, size),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      sent++;
    }
    rd_kafka_poll(p, 0);
    /* Block for up to 1 ms rather than spin: a spinning loop takes a core from librdkafka's
     * threads and the broker on a 2-core machine and shows up as tail latency. */
    rd_kafka_message_t *m;
    int wait_ms = 1;
    while ((m = rd_kafka_consumer_poll(c, wait_ms)) != NULL) {
      wait_ms = 0;
      if (!m->err && m->len >= sizeof(int64_t) && got < total) {
        int64_t s;
        memcpy(&s, m->payload, sizeof s);
        if (s >= start) lat[got++] = now_us() - s;
      }
      rd_kafka_message_destroy(m);
    }
    if (now_us() - start > (int64_t)(seconds * 3e6)) break;
  }
  double secs = (now_us() - start) / 1e6;
  qsort(lat, got, sizeof(int64_t), cmp64);
  printf("{\"records\":%ld,\"seconds\":%.3f,\"mb_per_sec\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n", got,
         secs, got * (double)size / secs / 1e6, got ? lat[got / 2] / 1e3 : -1, got ? lat[(long)(got * 0.99)] / 1e3 : -1,
         got ? lat[got - 1] / 1e3 : -1);
  rd_kafka_flush(p, 10000);
  rd_kafka_destroy(p);
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 6 && !strcmp(argv[1], "produce")) return produce(argc, argv);
  if (argc >= 5 && !strcmp(argv[1], "consume")) return consume(argc, argv);
  if (argc >= 7 && !strcmp(argv[1], "latency")) return latency(argc, argv);
  fprintf(stderr, "usage: see the comment at the top of rdkafka-bench.c\n");
  return 2;
}
