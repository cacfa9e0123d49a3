package analyzer

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestEngineIsPure holds two rules of the design: the engine's clock is the
// events' time (no wall clock in this package), and analyzer never imports
// ingest.
func TestEngineIsPure(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, banned := range []string{"time.Now(", "time.Sleep(", "time.Since(", "time.After("} {
			if strings.Contains(string(data), banned) {
				t.Errorf("%s uses %s: the engine's clock is event time", f, banned)
			}
		}
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	out, err := exec.Command(gobin, "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/culprit-dev/culprit/") && dep != "github.com/culprit-dev/culprit/analyzer" &&
			dep != "github.com/culprit-dev/culprit/parser" {
			t.Errorf("analyzer depends on %s; it may only use parser", dep)
		}
	}
}
