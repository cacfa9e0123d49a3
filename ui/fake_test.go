package ui

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// fakeReader serves fixed answers, or fails, without ClickHouse.
type fakeReader struct {
	incs []Incident
	d    *Detail
	err  error
}

func (f *fakeReader) Incidents(ctx context.Context, flt Filter) ([]Incident, error) {
	return f.incs, f.err
}
func (f *fakeReader) Incident(ctx context.Context, id string) (*Detail, error) {
	if f.err != nil {
		return nil, f.err
	}
	if f.d == nil || f.d.ID != id {
		return nil, ErrNotFound
	}
	return f.d, nil
}
func (f *fakeReader) Facets(ctx context.Context) ([]string, []string, error) { return nil, nil, f.err }

func newFake(t *testing.T, r Reader) *Server {
	t.Helper()
	s, err := New(r, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A store that does not answer gives a 502 page that says so, and the
// error itself only reaches the log.
func TestUI_StoreDown(t *testing.T) {
	s := newFake(t, &fakeReader{err: errors.New("dial tcp 10.1.2.3:9000: connection refused")})
	for _, p := range []string{"/", "/incidents/abc"} {
		code, body := get(t, s, p)
		if code != 502 || !strings.Contains(body, "did not answer") || strings.Contains(body, "10.1.2.3") {
			t.Errorf("GET %s with the store down = %d\n%s", p, code, body)
		}
	}
}

// An incident without service, upstream, evidence or 5xx rows (the proxy
// answered by itself and the rows are not stored yet) still renders, and
// what a log line holds is escaped, never markup.
func TestUI_SparseIncidentAndEscaping(t *testing.T) {
	start := time.Date(2026, 11, 25, 16, 57, 3, 0, time.UTC)
	d := &Detail{Incident: Incident{ID: "0123abcd", Server: "api.local", Cause: "rate_limit", Confidence: 0.95,
		Start: start, End: start.Add(8 * time.Second), Requests: 164, Summary: `<script>alert(1)</script>`,
		Fix: "raise limit_req's burst"},
		Marks: []Line{{Time: start, Class: "restart", Line: `"><img src=x onerror=alert(1)>`}}}
	d.narrow()
	s := newFake(t, &fakeReader{incs: []Incident{d.Incident}, d: d})
	code, body := get(t, s, "/incidents/0123abcd")
	if code != 200 {
		t.Fatalf("GET = %d\n%s", code, body)
	}
	for _, want := range []string{"service unknown", "server api.local", ">rate_limit<", "&lt;script&gt;", "no evidence line stored"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script>alert", "<img src=x"} {
		if strings.Contains(body, bad) {
			t.Errorf("page carries %q unescaped", bad)
		}
	}
	code, body = get(t, s, "/")
	if code != 200 || !strings.Contains(body, "server api.local") || !strings.Contains(body, "unknown") {
		t.Errorf("list = %d\n%s", code, body)
	}
}

func TestHasPort(t *testing.T) {
	for in, want := range map[string]bool{
		"127.0.0.1:4000": true, "unix:/run/php.sock": true, "[::1]:80": true,
		"catalog.svc.internal": false, "backend": false, "": false, "host:": false,
	} {
		if got := hasPort(in); got != want {
			t.Errorf("hasPort(%q) = %v, want %v", in, got, want)
		}
	}
}
