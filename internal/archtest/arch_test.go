// Package archtest holds the dependency rules of the module (STYLE.md): the
// parser imports only the standard library, and ingest and analyzer never
// import each other, so the shipper stays light and the analyzer can change
// without touching proxy hosts.
package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/culprit-dev/culprit"

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", module+"/"+pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestParserImportsOnlyTheStandardLibrary(t *testing.T) {
	for _, d := range deps(t, "parser") {
		if d != module+"/parser" {
			t.Errorf("parser depends on %s", d)
		}
	}
}

func TestIngestAndAnalyzerStayApart(t *testing.T) {
	for _, rule := range []struct{ pkg, forbidden string }{
		{"ingest/...", module + "/analyzer"},
		{"analyzer/...", module + "/ingest"},
	} {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", module+"/"+rule.pkg).Output()
		if err != nil {
			// The pattern matches nothing until the package exists.
			continue
		}
		for _, d := range strings.Fields(string(out)) {
			if d == rule.forbidden || strings.HasPrefix(d, rule.forbidden+"/") {
				t.Errorf("%s depends on %s", rule.pkg, d)
			}
		}
	}
}
