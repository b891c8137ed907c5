// Sarama 1.22 (Debian's golang-github-shopify-sarama-dev) against a Samsa broker: admin with the
// protocol of Kafka 0.11 (CreateTopics v1, DescribeConfigs v0, DeleteTopics v1: Sarama refuses
// DescribeConfigs below 0.11 itself), data with Kafka 0.10.2's (Produce v2 with magic 1 message
// sets, Fetch v3, ListOffsets v1, OffsetCommit v2, JoinGroup v1): produce in each codec, group
// consume with commits, and a resume from them. Prints one JSON object; exits non-zero on failure.
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

	"github.com/Shopify/sarama"
)

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
	os.Exit(1)
}

type handler struct {
	want int
	got  []string
	done chan struct{}
}

func (h *handler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *handler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		h.got = append(h.got, fmt.Sprintf("%s|%d|%d", string(m.Key), len(m.Value), m.Timestamp.UnixNano()/1e6))
		s.MarkMessage(m, "")
		if len(h.got) == h.want {
			close(h.done)
			return nil
		}
	}
	return nil
}

func consume(brokers []string, cfg *sarama.Config, group, topic string, want int) []string {
	g, err := sarama.NewConsumerGroup(brokers, group, cfg)
	if err != nil {
		fail("consumer group", err)
	}
	h := &handler{want: want, done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	go func() {
		for ctx.Err() == nil {
			if err := g.Consume(ctx, []string{topic}, h); err != nil && ctx.Err() == nil {
				fmt.Fprintln(os.Stderr, "consume:", err)
				time.Sleep(200 * time.Millisecond)
			}
			select {
			case <-h.done:
				return
			default:
			}
		}
	}()
	select {
	case <-h.done:
	case <-ctx.Done():
		fail("consume", fmt.Errorf("got %d of %d", len(h.got), want))
	}
	cancel()
	if err := g.Close(); err != nil { // commits the marked offsets
		fail("close group", err)
	}
	return h.got
}

func main() {
	brokers := []string{os.Args[1]}
	prefix := os.Args[2]
	topic := prefix + "-data"
	group := prefix + "-group"
	out := map[string]interface{}{}

	cfg := sarama.NewConfig()
	cfg.Version = sarama.V0_10_2_0
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Return.Errors = true

	adminCfg := *cfg
	adminCfg.Version = sarama.V0_11_0_0
	admin, err := sarama.NewClusterAdmin(brokers, &adminCfg)
	if err != nil {
		fail("admin", err)
	}
	retention := "3600000"
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1,
		ConfigEntries: map[string]*string{"retention.ms": &retention}}, false); err != nil {
		fail("create topic", err)
	}
	entries, err := admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic})
	if err != nil {
		fail("describe config", err)
	}
	for _, e := range entries {
		if e.Name == "retention.ms" {
			out["retention.ms"] = e.Value
		}
	}

	codecs := map[string]sarama.CompressionCodec{"none": sarama.CompressionNone, "gzip": sarama.CompressionGZIP,
		"snappy": sarama.CompressionSnappy, "lz4": sarama.CompressionLZ4}
	names := []string{"none", "gzip", "snappy", "lz4"}
	var sent []string
	for _, name := range names {
		pc := *cfg
		pc.Producer.Compression = codecs[name]
		p, err := sarama.NewSyncProducer(brokers, &pc)
		if err != nil {
			fail("producer", err)
		}
		var msgs []*sarama.ProducerMessage
		for i := 0; i < 10; i++ {
			key := fmt.Sprintf("%s-%d", name, i)
			value := strings.Repeat(key+" ", 30)
			ts := time.Unix(0, int64(1700000000000+len(sent))*1e6)
			msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(key),
				Value: sarama.StringEncoder(value), Timestamp: ts})
			sent = append(sent, fmt.Sprintf("%s|%d|%d", key, len(value), 1700000000000+len(sent)))
		}
		if err := p.SendMessages(msgs); err != nil {
			fail("send "+name, err)
		}
		p.Close()
	}
	got := consume(brokers, cfg, group, topic, len(sent))
	sort.Strings(got)
	sort.Strings(sent)
	out["consumed"] = len(got)
	out["match"] = strings.Join(got, ",") == strings.Join(sent, ",")

	p, err := sarama.NewSyncProducer(brokers, cfg)
	if err != nil {
		fail("producer", err)
	}
	for i := 0; i < 3; i++ {
		if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(fmt.Sprintf("after-%d", i)),
			Value: sarama.StringEncoder("v"), Timestamp: time.Unix(1700000100, 0)}); err != nil {
			fail("send after", err)
		}
	}
	p.Close()
	resumed := consume(brokers, cfg, group, topic, 3)
	var keys []string
	for _, r := range resumed {
		keys = append(keys, strings.Split(r, "|")[0])
	}
	out["resumed"] = keys

	client, err := sarama.NewClient(brokers, cfg)
	if err != nil {
		fail("client", err)
	}
	om, err := sarama.NewOffsetManagerFromClient(group, client)
	if err != nil {
		fail("offset manager", err)
	}
	pom, err := om.ManagePartition(topic, 0)
	if err != nil {
		fail("manage partition", err)
	}
	committed, _ := pom.NextOffset()
	out["committed"] = committed
	pom.Close()
	om.Close()
	client.Close()
	if err := admin.DeleteTopic(topic); err != nil {
		fail("delete topic", err)
	}
	admin.Close()
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}
