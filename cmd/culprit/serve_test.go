package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/culprit-dev/culprit/dashboards/fixture"
	"github.com/culprit-dev/culprit/internal/testenv"
)

func TestServe_Usage(t *testing.T) {
	e := &env{stdout: io.Discard, stderr: io.Discard, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := runServe(context.Background(), e, []string{"extra"}); !errors.Is(err, errUsage) {
		t.Errorf("serve extra = %v, want a usage error", err)
	}
}

// TestServe_EmptyDatabase starts the real command on a migrated, empty
// database: the UI answers, says there is no incident, and stops cleanly.
func TestServe_EmptyDatabase(t *testing.T) {
	_, db := fixture.NewDatabase(t)
	var ln net.Listener
	for port := 18800; port < 18810 && ln == nil; port++ {
		ln, _ = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	}
	if ln == nil {
		t.Fatal("no free port in 127.0.0.1:18800-18809")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)),
			serveOptions{chAddr: testenv.ClickHouseAddr(t), database: db, user: "readonly"}, ln)
	}()
	base := "http://" + ln.Addr().String()
	var body string
	for i := 0; i < 50; i++ {
		resp, err := http.Get(base + "/")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("GET / = %d\n%s", resp.StatusCode, b)
			}
			body = string(b)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(body, "No incident") {
		t.Errorf("GET / on an empty database:\n%s", body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}
