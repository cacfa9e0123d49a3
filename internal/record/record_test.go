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

// A Decoder reads what FromHeaders reads, record after record, without
// carrying one record's labels into the next and without allocating for the
// header values that repeat.
func TestDecoder_MatchesFromHeaders(t *testing.T) {
	var d Decoder
	lines := []Line{
		{Value: []byte("a"), Host: "proxy-1", Kind: "nginx_access", Path: "/var/log/nginx/access.log", FileID: "1:2:ab",
			Offset: 10, ReadTime: time.Date(2026, 11, 25, 16, 0, 0, 5, time.UTC), LogFormat: "$remote_addr [$time_local]",
			Labels: map[string]string{"service": "edge", "env": "prod"}},
		{Value: []byte("b"), Host: "app-1", Kind: "kernel", Path: "/dev/kmsg", FileID: "kmsg", Offset: 99,
			BootTime: time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC), Labels: map[string]string{"service": "shop"}},
		{Value: []byte("c"), Kind: "auto", Offset: 123456789012345678},
	}
	for i := range 2 {
		for _, in := range lines {
			want, err := FromHeaders(in.Value, in.Headers())
			if err != nil {
				t.Fatal(err)
			}
			got, err := d.Decode(in.Value, in.Headers())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(got, in) {
				t.Errorf("pass %d: Decode\n got %+v\nwant %+v", i, got, want)
			}
		}
	}
	for _, bad := range []string{"12x", "-", "99999999999999999999"} {
		if _, err := d.Decode(nil, []Header{{Key: HeaderOffset, Value: []byte(bad)}}); err == nil {
			t.Errorf("offset %q accepted", bad)
		}
	}
	if l, err := d.Decode(nil, []Header{{Key: HeaderOffset, Value: []byte("+7")}}); err != nil || l.Offset != 7 {
		t.Errorf("offset +7: %d, %v (strconv's reading)", l.Offset, err)
	}
	hs := lines[0].Headers()
	hs = append(hs[:5], hs[6:]...) // without read_time, the one value that is new every record
	if n := testing.AllocsPerRun(100, func() { d.Decode(nil, hs) }); n != 0 {
		t.Errorf("Decode allocates %.0f times per record of repeated headers, want 0", n)
	}
}
