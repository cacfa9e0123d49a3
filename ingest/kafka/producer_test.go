package kafka

import (
	"reflect"
	"sort"
	"testing"
	"time"

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
