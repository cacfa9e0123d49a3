package ingest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/culprit-dev/culprit/internal/nginxconf"
	"github.com/culprit-dev/culprit/parser"
)

// TestNginxAccessFormat_Scenarios: the real nginx.conf of every scenario
// capture gives, for the access log it wrote, the log_format its truth.json
// records.
func TestNginxAccessFormat_Scenarios(t *testing.T) {
	confs, _ := filepath.Glob("../testdata/scenarios/*/nginx.conf")
	n := 0
	for _, conf := range confs {
		data, err := os.ReadFile(filepath.Join(filepath.Dir(conf), "truth.json"))
		if err != nil {
			continue
		}
		var tr struct {
			LogFormat string `json:"log_format"`
		}
		if json.Unmarshal(data, &tr) != nil || tr.LogFormat == "" {
			continue
		}
		dirs, err := nginxconf.Load(conf)
		if err != nil {
			t.Fatal(err)
		}
		for _, dir := range dirs {
			d := dir.Args
			if d[0] != "access_log" || d[1] == "off" {
				continue
			}
			got, err := NginxAccessFormat(conf, []string{d[1]})
			if err != nil {
				t.Errorf("%s: %v", conf, err)
				continue
			}
			n++
			if got != tr.LogFormat {
				t.Errorf("%s: %s\n got  %q\n want %q", conf, d[1], got, tr.LogFormat)
			}
			break
		}
	}
	if n == 0 {
		t.Fatal("no scenario nginx.conf with an access_log")
	}
}

// TestNginxAccessFormat_DebianLayout: log_format in nginx.conf, access_log
// in an included site, a source glob over the log directory; escape=json
// and a format split over quoted pieces, as people write them.
func TestNginxAccessFormat_DebianLayout(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"nginx.conf": `user www-data;
http {
    # the format the site uses, in pieces
    log_format main_ext '$remote_addr - $remote_user [$time_local] "$request" '
                        '$status $body_bytes_sent "$http_referer" '
                        "\"$http_user_agent\" rt=$request_time ua=\"$upstream_addr\"";
    log_format json escape=json '{"t":"$time_iso8601","s":$status,"r":"$request"}';
    access_log /var/log/nginx/access.log;
    include sites-enabled/*;
}
`,
		"sites-enabled/app": `server {
    listen 80;
    access_log /var/log/nginx/app.access.log main_ext buffer=32k;
    access_log /var/log/nginx/app.json.log json;
    location /health { access_log off; }
}
`,
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(dir, "nginx.conf")
	for _, tc := range []struct{ path, want string }{
		{"/var/log/nginx/*.access.log", `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time ua="$upstream_addr"`},
		{"/var/log/nginx/app.json.log", `escape=json {"t":"$time_iso8601","s":$status,"r":"$request"}`},
		{"/var/log/nginx/access.log", parser.DefaultLogFormat},
	} {
		got, err := NginxAccessFormat(conf, []string{tc.path})
		if err != nil {
			t.Errorf("%s: %v", tc.path, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s:\n got  %q\n want %q", tc.path, got, tc.want)
		}
		if _, err := parser.CompileAccessFormat(got); err != nil {
			t.Errorf("%s: %v", tc.path, err)
		}
	}
	if _, err := NginxAccessFormat(conf, []string{"/var/log/other/*.log"}); err == nil || !strings.Contains(err.Error(), "no access_log writes") {
		t.Errorf("unmatched path: err %v", err)
	}

	// Through the config: nginx_conf fills log_format.
	yaml := "kafka: {brokers: [b:1]}\nsources: [{paths: [/var/log/nginx/app.access.log], kind: nginx_access, nginx_conf: " + conf + "}]\n"
	c, err := ParseConfig([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Sources[0].LogFormat, `ua="$upstream_addr"`) {
		t.Errorf("log_format from nginx_conf: %q", c.Sources[0].LogFormat)
	}
	bad := "kafka: {brokers: [b:1]}\nsources: [{paths: [/srv/x.log], nginx_conf: " + conf + "}]\n"
	if _, err := ParseConfig([]byte(bad)); err == nil || !strings.Contains(err.Error(), "nginx_conf") {
		t.Errorf("a source no access_log writes: err %v", err)
	}
}
