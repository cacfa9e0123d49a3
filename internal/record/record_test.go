package record

import (
	"reflect"
	"testing"
	"time"
)

// The headers are a public contract read by other consumers: a line must
// survive Headers -> FromHeaders unchanged, and unknown headers are ignored.
func TestHeaders_RoundTrip(t *testing.T) {
	in := Line{
		Value: []byte("10.0.0.1 - - [25/Nov/2026:16:00:00 +0100] \"GET / HTTP/1.1\" 502 0 \"-\" \"curl\""),
		Host:  "proxy-1", Kind: "nginx_access", Path: "/var/log/nginx/access.log",
		FileID: "65024:1835011:9f3a0c1d2e4b5a69", Offset: 1048576,
		ReadTime: time.Date(2026, 11, 25, 16, 0, 0, 123456789, time.UTC), TZ: "Europe/Berlin",
		LogFormat: "$remote_addr - $remote_user [$time_local]", Truncated: true,
		BootTime: time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC),
		Labels:   map[string]string{"service": "edge", "env": "prod"},
	}
	hs := append(in.Headers(), Header{Key: "from-the-future", Value: []byte("x")})
	out, err := FromHeaders(in.Value, hs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip\n got %+v\nwant %+v", out, in)
	}
	if string(in.Key()) != "proxy-1:/var/log/nginx/access.log" || in.DedupKey() != "65024:1835011:9f3a0c1d2e4b5a69@1048576" {
		t.Errorf("key %q dedup %q", in.Key(), in.DedupKey())
	}
	if _, err := FromHeaders(nil, []Header{{Key: HeaderOffset, Value: []byte("12x")}}); err == nil {
		t.Error("a malformed offset header was accepted")
	}
}
