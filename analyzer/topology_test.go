package analyzer

import (
	"strings"
	"testing"

	"github.com/culprit-dev/culprit/parser"
)

func TestNormalizeUpstream(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:4000":                       "127.0.0.1:4000",
		"http://127.0.0.1:4000/api/x?y=1":      "127.0.0.1:4000",
		"fastcgi://unix:/run/php/fpm.sock:":    "unix:/run/php/fpm.sock",
		"unix:/run/php/fpm.sock":               "unix:/run/php/fpm.sock",
		"http://unix:/tmp/app.sock:/index.php": "unix:/tmp/app.sock",
		":4000":                                "127.0.0.1:4000",
		"0.0.0.0:4000":                         "127.0.0.1:4000",
		"[::]:4000":                            "127.0.0.1:4000",
		"localhost:4000":                       "127.0.0.1:4000",
		"[2001:db8::1]:8080":                   "[2001:db8::1]:8080",
		"http://[2001:db8::1]:8080/":           "[2001:db8::1]:8080",
		"backend":                              "backend",
		"catalog.svc.internal":                 "catalog.svc.internal",
		"-":                                    "",
		"":                                     "",
	} {
		if got := NormalizeUpstream(in); got != want {
			t.Errorf("NormalizeUpstream(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestProcessMatches(t *testing.T) {
	for _, c := range []struct {
		got, want string
		ok        bool
	}{
		{"node", "node", true},
		{"node /srv/app/s", "node /srv/app/server.js", true}, // comm: the title cut to 15 characters
		{"node /srv/app/w", "node /srv/app/server.js", false},
		{"node /srv/app/s", "node", true}, // the program word of a title
		{"gunicorn", "gunicorn: worker [app]", false},
		{"php-fpm8.2", "php-fpm", false},
		{"", "node", false},
	} {
		if got := processMatches(c.got, c.want); got != c.ok {
			t.Errorf("processMatches(%q, %q) = %v, want %v", c.got, c.want, got, c.ok)
		}
	}
}

func TestParseTopology(t *testing.T) {
	topo, err := ParseTopology(strings.NewReader(`
services:
  - name: api
    upstreams: ["127.0.0.1:4000"]
    hosts: [app-1]
    processes: ["node /srv/api/server.js"]
    pm2_apps: [api]
    units: [api.service]
    containers: [api]
`))
	if err != nil {
		t.Fatal(err)
	}
	inv := newInventory(topo)
	for _, ev := range []parser.Event{
		{Kind: parser.KindUpstreamEvent, App: "api"},
		{Kind: parser.KindUpstreamEvent, Unit: "api"},
		{Kind: parser.KindUpstreamEvent, Unit: "api.service"},
		{Kind: parser.KindUpstreamEvent, Container: "api"},
		{Kind: parser.KindUpstreamEvent, Process: "node /srv/api/s", Source: parser.SourceKernel},
		{Kind: parser.KindUpstreamEvent, Hostname: "app-1"},
	} {
		if s := inv.service(&ev, Origin{}); s != "api" {
			t.Errorf("%+v mapped to %q", ev, s)
		}
	}
	if s := inv.upstreamService("127.0.0.1:4000"); s != "api" {
		t.Errorf("upstream mapped to %q", s)
	}

	for name, bad := range map[string]string{
		"unknown key": "services:\n  - name: a\n    upstream: [x]\n",
		"no name":     "services:\n  - upstreams: [x]\n",
		"duplicate":   "services:\n  - name: a\n    upstreams: [x]\n  - name: a\n    upstreams: [y]\n",
		"no matcher":  "services:\n  - name: a\n",
		"not yaml":    "services: [",
	} {
		if _, err := ParseTopology(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: accepted %q", name, bad)
		}
	}
}

func TestInference_PM2AppAndLogFile(t *testing.T) {
	inv := newInventory(nil)
	out := Origin{Path: "/root/.pm2/logs/shop-api-out.log"}
	start := parser.Event{Kind: parser.KindUpstreamEvent, Class: parser.ClassOther, PID: 20352, Message: "starting pid 20352"}
	inv.learn(&start, out)
	listen := parser.Event{Kind: parser.KindUpstreamEvent, Class: parser.ClassStart, Upstream: "127.0.0.1:18411", Message: "listening on 127.0.0.1:18411"}
	inv.learn(&listen, out)
	if s := inv.upstreamService("127.0.0.1:18411"); s != "shop-api" {
		t.Fatalf("upstream service %q, want shop-api (from the PM2 log name)", s)
	}
	pm2 := parser.Event{Kind: parser.KindUpstreamEvent, Source: parser.SourcePM2, App: "shop-api", Class: parser.ClassProcessExit}
	if s := inv.service(&pm2, Origin{Path: "pm2.log"}); s != "shop-api" {
		t.Errorf("PM2 app line mapped to %q", s)
	}
	kill := parser.Event{Kind: parser.KindUpstreamEvent, Source: parser.SourceKernel, Class: parser.ClassOOMKill, PID: 20352, Process: "node /tmp/scena"}
	if s := inv.service(&kill, Origin{Path: "kern.log"}); s != "shop-api" {
		t.Errorf("kernel kill of pid 20352 mapped to %q", s)
	}
	if len(inv.notes) == 0 || !strings.Contains(inv.notes[0], "shop-api") {
		t.Errorf("inference not reported: %q", inv.notes)
	}
}
