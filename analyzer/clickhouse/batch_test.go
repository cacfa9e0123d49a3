package clickhouse

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/culprit-dev/culprit/parser"
)

// The Batch encodes columns itself (native format, LowCardinality
// dictionaries, arrays); every value must read back as it was given. The
// rows are the real pm2-oom access lines, spread over hundreds of upstreams (a
// dictionary past 256 entries needs wider keys) with retried upstreams
// (arrays of two and of none) as nginx logs them.
func TestBatch_RoundTrip(t *testing.T) {
	conn, db := testDB(t)
	lines := loadAccess(t, filepath.Join("..", "..", "testdata", "scenarios", "pm2-oom", "access.log"))
	type row struct {
		Time             time.Time
		TimeMS           uint16
		Service, Host    string
		Upstream, Method string
		Status           uint16
		URI              string
		Body             int64
		Addr             []string
		UStatus          []uint16
		Connect          []float64
		Offset           uint64
		ReadTime         time.Time
	}
	var b Batch
	var want []row
	for i := range 1200 {
		l := lines[i%len(lines)]
		if l.ev.Kind != parser.KindRequest {
			continue
		}
		ev, o := l.ev, l.origin
		o.Offset = int64(i)
		o.Service = fmt.Sprintf("svc-%d", i%3)
		ev.Time = ev.Time.Add(time.Duration(i) * 7 * time.Millisecond)
		switch i % 3 {
		case 0: // no upstream (served by nginx itself)
			ev.UpstreamAddr, ev.UpstreamStatus, ev.UpstreamConnectTime = nil, nil, nil
		case 1: // one upstream of hundreds
			ev.UpstreamAddr = []string{fmt.Sprintf("10.0.%d.%d:8080", i%700/256, i%700%256)}
			ev.UpstreamStatus, ev.UpstreamConnectTime = []int{ev.Status}, []float64{float64(i) / 1000}
		case 2: // retried: the first refused
			ev.UpstreamAddr = []string{"10.1.0.1:8080", fmt.Sprintf("10.0.%d.%d:8080", i%700/256, i%700%256)}
			ev.UpstreamStatus, ev.UpstreamConnectTime = []int{502, ev.Status}, []float64{0, float64(i) / 1000}
		}
		b.Add(&ev, &o)
		r := row{Time: ev.Time.Truncate(time.Second).UTC(), TimeMS: uint16(ev.Time.Nanosecond() / 1e6),
			Service: o.Service, Host: o.Host, Method: ev.Method, Status: uint16(ev.Status), URI: ev.URI,
			Body: ev.BodyBytes, Addr: ev.UpstreamAddr, Connect: ev.UpstreamConnectTime, Offset: uint64(i),
			ReadTime: o.ReadTime}
		if n := len(ev.UpstreamAddr); n > 0 {
			r.Upstream = ev.UpstreamAddr[n-1]
		}
		for _, s := range ev.UpstreamStatus {
			r.UStatus = append(r.UStatus, uint16(s))
		}
		want = append(want, r)
	}
	if b.req.upstream.dict.Rows() <= 257 {
		t.Fatalf("%d distinct upstreams: the wide-key encoding is not exercised", b.req.upstream.dict.Rows())
	}
	rows := writeAndQuery(t, conn, db, &b, "SELECT time, time_ms, service, hostname, upstream, method, status, uri,"+
		" body_bytes, upstream_addr, upstream_status, upstream_connect_time, line_offset, read_time FROM "+db+
		".requests ORDER BY line_offset")
	n := 0
	for ; rows.Next(); n++ {
		var g row
		if err := rows.Scan(&g.Time, &g.TimeMS, &g.Service, &g.Host, &g.Upstream, &g.Method, &g.Status, &g.URI, &g.Body,
			&g.Addr, &g.UStatus, &g.Connect, &g.Offset, &g.ReadTime); err != nil {
			t.Fatal(err)
		}
		if n >= len(want) {
			continue
		}
		w := want[n]
		// Empty and nil arrays read back alike.
		for _, p := range []*[]string{&w.Addr, &g.Addr} {
			if len(*p) == 0 {
				*p = nil
			}
		}
		if len(w.UStatus) == 0 {
			w.UStatus, g.UStatus = nil, nil
		}
		if len(w.Connect) == 0 {
			w.Connect, g.Connect = nil, nil
		}
		g.Time, g.ReadTime = g.Time.UTC(), g.ReadTime.UTC()
		if !reflect.DeepEqual(g, w) {
			t.Errorf("row %d:\n got %+v\nwant %+v", n, g, w)
			if n > 5 {
				break
			}
		}
	}
	if n != len(want) {
		t.Errorf("read %d rows, wrote %d", n, len(want))
	}
}

// A garbled year must not stop the pipeline: DateTime holds 1970-2106.
func TestDateTime_Clamps(t *testing.T) {
	for _, c := range []struct {
		in   time.Time
		want uint32
	}{
		{time.Date(2026, 11, 25, 17, 0, 0, 999e6, time.UTC), 1795626000},
		{time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), 0},
		{time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), 1<<32 - 1},
	} {
		if got := dateTime(c.in); got != c.want {
			t.Errorf("dateTime(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}

// A table whose column types were altered (LowCardinality to String, a
// Nullable) still takes the batch: those columns go through the driver's
// conversions instead of the native encoding.
func TestStore_AlteredColumnTypes(t *testing.T) {
	conn, db := testDB(t)
	ctx := context.Background()
	for _, q := range []string{"ALTER TABLE " + db + ".requests MODIFY COLUMN method String",
		"ALTER TABLE " + db + ".requests MODIFY COLUMN referer Nullable(String)",
		"ALTER TABLE " + db + ".requests MODIFY COLUMN read_time Nullable(DateTime('UTC'))"} {
		if err := conn.Exec(ctx, q); err != nil {
			t.Skipf("%s: %v (this server cannot alter it)", q, err)
		}
	}
	lines := loadAccess(t, filepath.Join("..", "..", "testdata", "scenarios", "pm2-oom", "access.log"))
	var b Batch
	want := map[uint64]string{}
	for i, l := range lines {
		if l.ev.Kind != parser.KindRequest {
			continue
		}
		l.origin.Offset = int64(i)
		b.Add(&l.ev, &l.origin)
		want[uint64(i)] = l.ev.Method + " " + l.origin.ReadTime.UTC().Format(time.DateTime)
	}
	for _, c := range b.req.cols() {
		if v := reflect.ValueOf(c.values()); !v.IsValid() || v.Len() != len(want) {
			t.Errorf("column %s: values() is not %d rows", c.name, len(want))
		}
	}
	rows := writeAndQuery(t, conn, db, &b,
		"SELECT line_offset, concat(method, ' ', toString(assumeNotNull(read_time))), referer FROM "+db+".requests")
	n := 0
	for ; rows.Next(); n++ {
		var off uint64
		var got string
		var ref *string
		if err := rows.Scan(&off, &got, &ref); err != nil {
			t.Fatal(err)
		}
		if got != want[off] || ref == nil {
			t.Errorf("line %d: %q, referer %v; want %q and a referer", off, got, ref, want[off])
		}
	}
	if n != len(want) {
		t.Errorf("%d rows, want %d", n, len(want))
	}
}

// writeAndQuery stores b and returns the rows of q, closed with the test.
func writeAndQuery(t *testing.T, conn driver.Conn, db string, b *Batch, q string) driver.Rows {
	t.Helper()
	ctx := context.Background()
	if err := NewStore(conn, db).Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rows.Close() })
	return rows
}
