// segmentio kafka-go 0.2 (Debian's golang-github-segmentio-kafka-go-dev) against a Samsa broker.
// kafka-go 0.2 speaks fixed, old request versions whatever the broker offers (CreateTopics v0,
// Produce v2 with magic 1 message sets, Fetch v2, ListOffsets v1, JoinGroup v1, OffsetCommit v2,
// DeleteTopics v1, Metadata v1): create a topic, produce in each codec, group consume with commits, and a
// resume from them. Prints one JSON object; exits non-zero on failure.
//
// Usage: GO111MODULE=off GOPATH=/usr/share/gocode go run main.go BOOTSTRAP PREFIX
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	kafka "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/gzip"
	"github.com/segmentio/kafka-go/lz4"
	"github.com/segmentio/kafka-go/snappy"
)

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
	os.Exit(1)
}

// consume reads `want` messages as a member of `group`, committing each, and returns them.
func consume(bootstrap, group, topic string, want int) []string {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:        []string{bootstrap},
		GroupID:        group,
		Topic:          topic,
		MinBytes:       1,
		MaxBytes:       1 << 20,
		MaxWait:        200 * time.Millisecond,
		CommitInterval: 0, // synchronous commits
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var got []string
	for len(got) < want {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			fail(fmt.Sprintf("fetch (after %d of %d)", len(got), want), err)
		}
		got = append(got, fmt.Sprintf("%s|%d|%d", string(m.Key), len(m.Value), m.Time.UnixNano()/1e6))
		if err := r.CommitMessages(ctx, m); err != nil {
			fail("commit", err)
		}
	}
	if err := r.Close(); err != nil {
		fail("close reader", err)
	}
	return got
}

func main() {
	bootstrap, prefix := os.Args[1], os.Args[2]
	topic := prefix + "-data"
	group := prefix + "-group"
	out := map[string]interface{}{}

	conn, err := kafka.Dial("tcp", bootstrap)
	if err != nil {
		fail("dial", err)
	}
	if err := conn.CreateTopics(kafka.TopicConfig{Topic: topic, NumPartitions: 1, ReplicationFactor: 1,
		ConfigEntries: []kafka.ConfigEntry{{ConfigName: "retention.ms", ConfigValue: "3600000"}}}); err != nil {
		fail("create topic", err)
	}
	parts, err := conn.ReadPartitions(topic)
	if err != nil {
		fail("read partitions", err)
	}
	out["partitions"] = len(parts)

	codecs := []struct {
		name  string
		codec kafka.CompressionCodec
	}{{"none", nil}, {"gzip", gzip.NewCompressionCodec()}, {"snappy", snappy.NewCompressionCodec()}, {"lz4", lz4.NewCompressionCodec()}}
	var sent []string
	for _, c := range codecs {
		w := kafka.NewWriter(kafka.WriterConfig{Brokers: []string{bootstrap}, Topic: topic, CompressionCodec: c.codec,
			BatchSize: 10, BatchTimeout: 50 * time.Millisecond, RequiredAcks: -1})
		var msgs []kafka.Message
		for i := 0; i < 10; i++ {
			key := fmt.Sprintf("%s-%d", c.name, i)
			value := strings.Repeat(key+" ", 30)
			ts := int64(1700000000000 + len(sent))
			msgs = append(msgs, kafka.Message{Key: []byte(key), Value: []byte(value), Time: time.Unix(0, ts*1e6)})
			sent = append(sent, fmt.Sprintf("%s|%d|%d", key, len(value), ts))
		}
		if err := w.WriteMessages(context.Background(), msgs...); err != nil {
			fail("write "+c.name, err)
		}
		if err := w.Close(); err != nil {
			fail("close writer", err)
		}
	}
	got := consume(bootstrap, group, topic, len(sent))
	sort.Strings(got)
	sort.Strings(sent)
	out["consumed"] = len(got)
	out["match"] = strings.Join(got, ",") == strings.Join(sent, ",")

	w := kafka.NewWriter(kafka.WriterConfig{Brokers: []string{bootstrap}, Topic: topic, BatchTimeout: 50 * time.Millisecond})
	for i := 0; i < 3; i++ {
		if err := w.WriteMessages(context.Background(), kafka.Message{Key: []byte(fmt.Sprintf("after-%d", i)), Value: []byte("v")}); err != nil {
			fail("write after", err)
		}
	}
	w.Close()
	resumed := consume(bootstrap, group, topic, 3)
	var keys []string
	for _, r := range resumed {
		keys = append(keys, strings.Split(r, "|")[0])
	}
	out["resumed"] = keys

	if err := conn.DeleteTopics(topic); err != nil {
		fail("delete topic", err)
	}
	conn.Close()
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}
