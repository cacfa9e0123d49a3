package kafka

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"
	"github.com/segmentio/kafka-go/protocol"

	"github.com/culprit-dev/culprit/internal/record"
)

// The cached encoding must carry exactly what record.Line.Headers says,
// line by line, including where provenance changes mid-batch.
func TestEncode_MatchesRecordContract(t *testing.T) {
	labels := map[string]string{"service": "web"}
	t0 := time.Date(2026, 11, 25, 16, 0, 0, 123456789, time.UTC)
	lines := []record.Line{
		{Value: []byte("a"), Host: "h", Kind: "nginx_access", Path: "/a", FileID: "1:2:x", Offset: 0, ReadTime: t0, Labels: labels},
		{Value: []byte("b"), Host: "h", Kind: "nginx_access", Path: "/a", FileID: "1:2:x", Offset: 2, ReadTime: t0, Labels: labels},
		{Value: []byte("c"), Host: "h", Kind: "nginx_access", Path: "/a", FileID: "1:2:x", Offset: 4, ReadTime: t0.Add(time.Second), Labels: labels, Truncated: true},
		{Value: []byte("d"), Host: "h", Kind: "kernel", Path: "/dev/kmsg", FileID: "0:0:kmsg.b", Offset: 77, ReadTime: t0, BootTime: t0.Add(-time.Hour)},
		{Value: []byte("e"), Host: "h", Kind: "app", Path: "/b", FileID: "1:3:y", Offset: 9, ReadTime: t0, TZ: "Europe/Berlin", LogFormat: "$a $b",
			Labels: map[string]string{"service": "api", "env": "prod"}},
	}
	msgs := encode(lines)
	for i, m := range msgs {
		var got []record.Header
		for _, h := range m.Headers {
			got = append(got, record.Header{Key: h.Key, Value: h.Value})
		}
		want := lines[i].Headers()
		sortHeaders(got)
		sortHeaders(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("line %d headers\n got %q\nwant %q", i, got, want)
		}
		if string(m.Key) != string(lines[i].Key()) || string(m.Value) != string(lines[i].Value) {
			t.Errorf("line %d key %q value %q", i, m.Key, m.Value)
		}
		back, err := record.FromHeaders(m.Value, got)
		if err != nil || back.Offset != lines[i].Offset || !back.ReadTime.Equal(lines[i].ReadTime) || back.Truncated != lines[i].Truncated {
			t.Errorf("line %d round trip: %+v, %v", i, back, err)
		}
	}
}

func sortHeaders(h []record.Header) {
	sort.Slice(h, func(i, j int) bool { return h[i].Key < h[j].Key })
}

// encodeBatch writes Kafka's v2 record batch itself: kafka-go's own reader
// (CRC, lengths, varints, every codec) must read back exactly the record
// contract, in order, with the read time as the record timestamp.
func TestEncodeBatch_KafkaGoReadsIt(t *testing.T) {
	labels := map[string]string{"service": "web"}
	t0 := time.Date(2026, 11, 25, 16, 0, 0, 123456789, time.UTC)
	lines := []record.Line{
		{Value: []byte("a"), Host: "h", Kind: "nginx_access", Path: "/a", FileID: "1:2:x", Offset: 0, ReadTime: t0, Labels: labels},
		{Value: []byte("b"), Host: "h", Kind: "nginx_access", Path: "/a", FileID: "1:2:x", Offset: 2, ReadTime: t0, Labels: labels},
		{Value: []byte(strings.Repeat("c", 70000)), Host: "h", Kind: "nginx_access", Path: "/a", FileID: "1:2:x", Offset: 4,
			ReadTime: t0.Add(time.Second), Labels: labels, Truncated: true},
		{Value: []byte("d"), Host: "h", Kind: "kernel", Path: "/dev/kmsg", FileID: "0:0:kmsg.b", Offset: 1 << 40, ReadTime: t0.Add(-time.Minute), BootTime: t0.Add(-time.Hour)},
		{Value: nil, Host: "h", Kind: "app", Path: "/b", FileID: "1:3:y", Offset: 9, ReadTime: t0, TZ: "Europe/Berlin", LogFormat: "$a $b",
			Labels: map[string]string{"service": "api", "env": "prod"}},
	}
	for _, c := range []compress.Compression{0, compress.Snappy, compress.Lz4, compress.Zstd, compress.Gzip} {
		raw, err := encodeBatch(lines, codecFor(c))
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		if got := binary.BigEndian.Uint32(raw); int(got) != len(raw)-4 {
			t.Fatalf("%v: size prefix %d, batch %d bytes", c, got, len(raw)-4)
		}
		var rs protocol.RecordSet
		if _, err := rs.ReadFrom(bytes.NewReader(raw)); err != nil {
			t.Fatalf("%v: kafka-go cannot read the batch: %v", c, err)
		}
		if got := rs.Attributes.Compression(); got != c {
			t.Errorf("%v: batch says codec %v", c, got)
		}
		i := 0
		for {
			r, err := rs.Records.ReadRecord()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Errorf("%v: record %d: %v", c, i, err)
				}
				break
			}
			l := lines[i]
			if r.Offset != int64(i) || !r.Time.Equal(l.ReadTime.Truncate(time.Millisecond)) {
				t.Errorf("%v line %d: offset %d time %v", c, i, r.Offset, r.Time)
			}
			key, _ := protocol.ReadAll(r.Key)
			value, _ := protocol.ReadAll(r.Value)
			if string(key) != string(l.Key()) || string(value) != string(l.Value) || (l.Value == nil) != (r.Value == nil) {
				t.Errorf("%v line %d: key %q value %.20q", c, i, key, value)
			}
			var got []record.Header
			for _, h := range r.Headers {
				got = append(got, record.Header{Key: h.Key, Value: h.Value})
			}
			want := l.Headers()
			sortHeaders(got)
			sortHeaders(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%v line %d headers\n got %q\nwant %q", c, i, got, want)
			}
			i++
		}
		if i != len(lines) {
			t.Errorf("%v: read %d of %d records", c, i, len(lines))
		}
	}
}

// BenchmarkEncode compares the shipper's batch encoder with kafka-go's
// RecordSet on the same real nginx lines (testdata/scenarios/busy-hour,
// recorded by scripts/scenarios/busy-hour) in 2048-line snappy batches:
//
//	go test -run XXX -bench Encode -benchtime 200x -count 5 ./ingest/kafka
func BenchmarkEncode(b *testing.B) {
	raw, err := os.ReadFile("../../testdata/scenarios/busy-hour/access.log")
	if err != nil {
		b.Skip(err)
	}
	values := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
	t0 := time.Now()
	lines := make([]record.Line, 2048)
	off := int64(0)
	for i := range lines {
		v := values[i%len(values)]
		lines[i] = record.Line{Value: v, Host: "proxy-1", Kind: "nginx_access", Path: "/var/log/nginx/access.log",
			FileID: "2049:1234:9f86d081884c7d65", Offset: off, ReadTime: t0.Add(time.Duration(i/300) * time.Millisecond)}
		off += int64(len(v)) + 1
	}
	b.Run("batch", func(b *testing.B) {
		codec := codecFor(compress.Snappy)
		for b.Loop() {
			out, err := encodeBatch(lines, codec)
			if err != nil {
				b.Fatal(err)
			}
			releaseBatch(out)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/line")
	})
	b.Run("kafka-go", func(b *testing.B) {
		for b.Loop() {
			msgs := encode(lines)
			recs := make([]kafkago.Record, len(msgs))
			for i, m := range msgs {
				recs[i] = kafkago.Record{Time: m.Time, Key: kafkago.NewBytes(m.Key), Value: kafkago.NewBytes(m.Value), Headers: m.Headers}
			}
			rs := protocol.RecordSet{Version: 2, Attributes: protocol.Attributes(compress.Snappy),
				Records: kafkago.NewRecordReader(recs...)}
			var buf bytes.Buffer
			if _, err := rs.WriteTo(&buf); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/line")
	})
}
