package ui

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/culprit-dev/culprit/internal/testenv"
)

// listenOurs listens on the first free port of the range this project's UI
// tests may use.
func listenOurs(t *testing.T) net.Listener {
	t.Helper()
	for port := 18810; port < 18900; port++ {
		if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			return ln
		}
	}
	t.Fatal("no free port in 127.0.0.1:18810-18899")
	return nil
}

// artifactsDir is where screenshots go: $CULPRIT_TEST_ARTIFACTS, else a
// folder under the system's temporary directory (never the repository).
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CULPRIT_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "culprit-artifacts")
	}
	dir = filepath.Join(dir, "ui")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestUI_Browser drives a real headless Chromium through the UI: the list,
// then the OOM-kill incident, checking what a person would read.
func TestUI_Browser(t *testing.T) {
	chromium := testenv.Binary(t, "chromium")
	e := setup(t)
	ln := listenOurs(t)
	srv := &http.Server{Handler: e.srv, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	base := "http://" + ln.Addr().String()

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	dir := artifactsDir(t)
	oom := e.byName["pm2-oom"][0]
	must := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("chromium: %s: %v", step, err)
		}
	}
	must("open the list", chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#incidents"))))
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("tr.incident").length`))
	must("count rows", err)
	listText, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#incidents")))
	must("read the list", err)
	listShot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	must("screenshot the list", err)
	// Open the OOM kill's incident the way a person would: its row's link.
	must("open the incident", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-id="%s"] td.ts a`, oom.ID))),
		chromedp.WaitVisible(chromedp.CSS("#cause"))))
	causeText, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#cause")))
	must("read the cause", err)
	evidenceText, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#evidence")))
	must("read the evidence", err)
	fixText, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#fix")))
	must("read the fix", err)
	marks, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.timeline line.mark").length`))
	must("count marks", err)
	pageShot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	must("screenshot the incident", err)

	if marks == 0 {
		t.Errorf("the timeline shows no upstream event")
	}
	if rows != len(e.incidents) {
		t.Errorf("the list shows %d rows, want %d", rows, len(e.incidents))
	}
	if !strings.Contains(listText, string(oom.Cause)) || !strings.Contains(listText, oom.Service) {
		t.Errorf("list text lacks %s / %s:\n%s", oom.Cause, oom.Service, listText)
	}
	if strings.TrimSpace(causeText) != string(oom.Cause) {
		t.Errorf("incident page cause %q, want %q", causeText, oom.Cause)
	}
	for _, ev := range oom.Evidence {
		// innerText collapses nothing inside pre-wrap cells: compare a
		// distinctive part of each line.
		if !strings.Contains(evidenceText, abbreviate(ev.Line, 60)[:min(60, len(ev.Line))]) {
			t.Errorf("evidence on the page lacks %q", ev.Line)
		}
	}
	if !strings.Contains(fixText, "Fix:") || len(fixText) < 20 {
		t.Errorf("fix on the page: %q", fixText)
	}
	for name, b := range map[string][]byte{"list.png": listShot, "incident-" + oom.ID + ".png": pageShot} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s (%d bytes)", p, len(b))
	}
}
