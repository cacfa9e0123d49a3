// Package compose holds the files docker-compose.yml mounts into the demo
// stack (nginx, the flaky upstream, culprit's configs, ClickHouse users).
// No Docker engine runs where culprit is tested, so this test reads the
// compose file the way `docker compose` does (compose-go, the library the
// docker CLI uses) and checks that everything it refers to exists and
// agrees: mounted files, ports, users, passwords, topics, log paths and the
// log format.
package compose

import (
	"context"
	"encoding/xml"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"

	"github.com/culprit-dev/culprit/analyzer/consume"
	"github.com/culprit-dev/culprit/dashboards"
	"github.com/culprit-dev/culprit/ingest"
)

const root = "../.."

func load(t *testing.T) *types.Project {
	t.Helper()
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(abs, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  abs,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(abs, "docker-compose.yml"), Content: b}},
		Environment: types.Mapping{},
	}, func(o *loader.Options) { o.SetProjectName("culprit", true) })
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("no service %q", name)
	}
	return s
}

// flag returns the value after --name in a command.
func flag(cmd []string, name string) string {
	for i, a := range cmd {
		if a == "--"+name && i+1 < len(cmd) {
			return cmd[i+1]
		}
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

func env(s types.ServiceConfig, k string) string {
	if v := s.Environment[k]; v != nil {
		return *v
	}
	return ""
}

// mount returns the host source mounted at target in s (or the volume name).
func mount(s types.ServiceConfig, target string) (types.ServiceVolumeConfig, bool) {
	for _, v := range s.Volumes {
		if v.Target == target {
			return v, true
		}
	}
	return types.ServiceVolumeConfig{}, false
}

// mountOf finds the mount of s that holds path.
func mountOf(s types.ServiceConfig, path string) (types.ServiceVolumeConfig, bool) {
	var best types.ServiceVolumeConfig
	for _, v := range s.Volumes {
		if (path == v.Target || strings.HasPrefix(path, strings.TrimSuffix(v.Target, "/")+"/")) && len(v.Target) > len(best.Target) {
			best = v
		}
	}
	return best, best.Target != ""
}

func TestCompose_ServicesAndFiles(t *testing.T) {
	p := load(t)
	for _, name := range []string{"kafka", "clickhouse", "grafana", "migrate", "analyze", "ship", "serve", "nginx", "upstream", "load"} {
		service(t, p, name)
	}
	for name, s := range p.Services {
		if s.Build != nil {
			if _, err := os.Stat(filepath.Join(s.Build.Context, s.Build.Dockerfile)); err != nil {
				t.Errorf("%s: build: %v", name, err)
			}
		} else {
			// Pinned: a tag that names a version, never latest.
			i := strings.LastIndex(s.Image, ":")
			if i < 0 || s.Image[i+1:] == "latest" || !regexp.MustCompile(`\d`).MatchString(s.Image[i+1:]) {
				t.Errorf("%s: image %q is not pinned to a version", name, s.Image)
			}
		}
		for _, v := range s.Volumes {
			switch v.Type {
			case types.VolumeTypeBind:
				if _, err := os.Stat(v.Source); err != nil {
					t.Errorf("%s: mounts %s, which does not exist", name, v.Source)
				}
			case types.VolumeTypeVolume:
				if _, ok := p.Volumes[v.Source]; !ok {
					t.Errorf("%s: volume %q is not declared", name, v.Source)
				}
			}
		}
		for dep := range s.DependsOn {
			if _, ok := p.Services[dep]; !ok {
				t.Errorf("%s depends on %s, which is not a service", name, dep)
			}
		}
	}
	// The culprit services run the image the Dockerfile builds.
	for _, name := range []string{"migrate", "analyze", "ship", "serve"} {
		if s := service(t, p, name); s.Build == nil || s.Build.Dockerfile != "Dockerfile" {
			t.Errorf("%s: not built from the Dockerfile", name)
		}
	}
	df, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(regexp.MustCompile(`(?m)^FROM `).FindAll(df, -1)); n < 2 {
		t.Errorf("Dockerfile has %d stages, want a multi-stage build", n)
	}
	for _, want := range []string{"COPY go.mod go.sum", "./cmd/culprit", "CGO_ENABLED=0", "COPY --from="} {
		if !strings.Contains(string(df), want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}

func TestCompose_Ports(t *testing.T) {
	p := load(t)
	published := map[string]string{}
	for name, s := range p.Services {
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("%s: port %s published on %q; the demo stays on 127.0.0.1", name, port.Published, port.HostIP)
			}
			if prev, dup := published[port.Published]; dup {
				t.Errorf("%s and %s both publish port %s", prev, name, port.Published)
			}
			published[port.Published] = name
		}
	}
	// What each published port reaches is what the service listens on.
	target := func(name string) string {
		s := service(t, p, name)
		if len(s.Ports) != 1 {
			t.Fatalf("%s publishes %d ports, want 1", name, len(s.Ports))
		}
		return strconv.Itoa(int(s.Ports[0].Target))
	}
	serve := service(t, p, "serve")
	if _, port, _ := net.SplitHostPort(flag(serve.Command, "addr")); port != target("serve") {
		t.Errorf("serve listens on %s, publishes %s", flag(serve.Command, "addr"), target("serve"))
	}
	conf := readFile(t, "deploy/compose/nginx/nginx.conf")
	if m := regexp.MustCompile(`(?m)^\s*listen\s+(\d+);`).FindStringSubmatch(conf); m == nil || m[1] != target("nginx") {
		t.Errorf("nginx listens on %v, publishes %s", m, target("nginx"))
	}
	if target("grafana") != "3000" {
		t.Errorf("grafana publishes %s; it listens on 3000", target("grafana"))
	}
	// nginx proxies to the upstream service on the port the app listens on.
	m := regexp.MustCompile(`server\s+(\w+):(\d+);`).FindStringSubmatch(conf)
	if m == nil {
		t.Fatal("nginx.conf: no upstream server")
	}
	up := service(t, p, m[1])
	if env(up, "FLAKY_PORT") != m[2] {
		t.Errorf("nginx proxies to %s:%s; the upstream listens on %s", m[1], m[2], env(up, "FLAKY_PORT"))
	}
}

func readFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// chUsers reads deploy/compose/clickhouse/users.xml: user -> password,
// profile, and profile -> readonly level.
type chUser struct{ password, profile string }

func chUsers(t *testing.T) (map[string]chUser, map[string]string) {
	t.Helper()
	var doc struct {
		Profiles struct {
			Any []struct {
				XMLName  xml.Name
				Readonly string `xml:"readonly"`
			} `xml:",any"`
		} `xml:"profiles"`
		Users struct {
			Any []struct {
				XMLName  xml.Name
				Password string `xml:"password"`
				Profile  string `xml:"profile"`
			} `xml:",any"`
		} `xml:"users"`
	}
	if err := xml.Unmarshal([]byte(readFile(t, "deploy/compose/clickhouse/users.xml")), &doc); err != nil {
		t.Fatal(err)
	}
	users, profiles := map[string]chUser{}, map[string]string{}
	for _, u := range doc.Users.Any {
		users[u.XMLName.Local] = chUser{u.Password, u.Profile}
	}
	for _, pr := range doc.Profiles.Any {
		profiles[pr.XMLName.Local] = pr.Readonly
	}
	return users, profiles
}

func TestCompose_ClickHouseUsers(t *testing.T) {
	p := load(t)
	users, profiles := chUsers(t)
	ch := service(t, p, "clickhouse")
	if v, ok := mount(ch, "/etc/clickhouse-server/users.d/culprit.xml"); !ok || !strings.HasSuffix(v.Source, "deploy/compose/clickhouse/users.xml") {
		t.Errorf("clickhouse does not mount users.xml into users.d")
	}
	check := func(who, user, password, readonly string) {
		t.Helper()
		u, ok := users[user]
		if !ok {
			t.Errorf("%s uses ClickHouse user %q, which users.xml does not define", who, user)
			return
		}
		if u.password != password {
			t.Errorf("%s: password for %s does not match users.xml", who, user)
		}
		if got := profiles[u.profile]; got != readonly {
			t.Errorf("%s: user %s has readonly=%q, want %q", who, user, got, readonly)
		}
	}
	mig := service(t, p, "migrate")
	if flag(mig.Command, "addr") != "clickhouse:9000" || flag(mig.Command, "database") != "culprit" {
		t.Errorf("migrate: --addr %s --database %s", flag(mig.Command, "addr"), flag(mig.Command, "database"))
	}
	check("migrate", flag(mig.Command, "user"), flag(mig.Command, "password"), "")
	sv := service(t, p, "serve")
	check("serve", flag(sv.Command, "user"), flag(sv.Command, "password"), "1")
	if flag(sv.Command, "clickhouse") != "clickhouse:9000" || flag(sv.Command, "database") != "culprit" {
		t.Errorf("serve reads %s/%s", flag(sv.Command, "clickhouse"), flag(sv.Command, "database"))
	}

	// Grafana: the provisioned datasource's user and password come from
	// the grafana service's environment, and its host is the clickhouse
	// service.
	var ds struct {
		Datasources []struct {
			Type           string            `yaml:"type"`
			JSONData       map[string]any    `yaml:"jsonData"`
			SecureJSONData map[string]string `yaml:"secureJsonData"`
		} `yaml:"datasources"`
	}
	b, err := os.ReadFile(filepath.Join(root, "dashboards/provisioning/datasources/culprit.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &ds); err != nil {
		t.Fatal(err)
	}
	gf := service(t, p, "grafana")
	expand := func(v string) string {
		return os.Expand(v, func(k string) string {
			if _, ok := gf.Environment[k]; !ok {
				t.Errorf("datasource uses $%s; the grafana service does not set it", k)
			}
			return env(gf, k)
		})
	}
	d := ds.Datasources[0]
	check("grafana", expand(d.JSONData["username"].(string)), expand(d.SecureJSONData["password"]), "2")
	if h := d.JSONData["host"].(string); h != "clickhouse" {
		t.Errorf("datasource host %q is not the clickhouse service", h)
	}
	if port := d.JSONData["port"].(int); port != 9000 {
		t.Errorf("datasource port %d, want ClickHouse's native 9000", port)
	}
	if db := d.JSONData["defaultDatabase"]; db != flag(mig.Command, "database") {
		t.Errorf("datasource database %v, migrate creates %s", db, flag(mig.Command, "database"))
	}
	if !strings.Contains(env(gf, "GF_INSTALL_PLUGINS"), dashboards.DatasourceType) {
		t.Errorf("grafana does not install %s", dashboards.DatasourceType)
	}
}

func TestCompose_Grafana(t *testing.T) {
	p := load(t)
	gf := service(t, p, "grafana")
	var prov struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, "dashboards/provisioning/dashboards/culprit.yaml")), &prov); err != nil {
		t.Fatal(err)
	}
	dir := prov.Providers[0].Options.Path
	v, ok := mount(gf, dir)
	if !ok || !strings.HasSuffix(v.Source, "/dashboards/grafana") {
		t.Fatalf("grafana does not mount dashboards/grafana at the provider's path %s", dir)
	}
	for _, sub := range []string{"datasources", "dashboards"} {
		v, ok := mount(gf, "/etc/grafana/provisioning/"+sub)
		if !ok || !strings.HasSuffix(v.Source, "/dashboards/provisioning/"+sub) {
			t.Errorf("grafana does not mount dashboards/provisioning/%s", sub)
		}
	}
	home := env(gf, "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
	rel, err := filepath.Rel(dir, home)
	if err != nil || strings.HasPrefix(rel, "..") {
		t.Fatalf("home dashboard %s is outside the provisioned directory", home)
	}
	if _, err := os.Stat(filepath.Join(root, "dashboards/grafana", rel)); err != nil {
		t.Errorf("home dashboard: %v", err)
	}
}

func TestCompose_Pipeline(t *testing.T) {
	p := load(t)
	kafka := service(t, p, "kafka")
	advertised := env(kafka, "KAFKA_ADVERTISED_LISTENERS")

	// analyze: its config parses and validates, and points at the services.
	an := service(t, p, "analyze")
	cfgPath := flag(an.Command, "config")
	v, ok := mountOf(an, cfgPath)
	if !ok {
		t.Fatalf("analyze reads %s, which is not mounted", cfgPath)
	}
	acfg, err := consume.LoadConfig(v.Source)
	if err != nil {
		t.Fatalf("analyze.yaml: %v", err)
	}
	for _, b := range acfg.Kafka.Brokers {
		if !strings.Contains(advertised, b) {
			t.Errorf("analyze: broker %s is not what kafka advertises (%s)", b, advertised)
		}
	}
	users, _ := chUsers(t)
	if acfg.ClickHouse.Addr != "clickhouse:9000" || users[acfg.ClickHouse.User].password != acfg.ClickHouse.Password {
		t.Errorf("analyze: clickhouse %s as %s does not match the clickhouse service and users.xml", acfg.ClickHouse.Addr, acfg.ClickHouse.User)
	}
	mig := service(t, p, "migrate")
	if acfg.ClickHouse.Database != flag(mig.Command, "database") {
		t.Errorf("analyze writes %s, migrate creates %s", acfg.ClickHouse.Database, flag(mig.Command, "database"))
	}
	if _, ok := an.DependsOn["migrate"]; !ok {
		t.Errorf("analyze must wait for migrate")
	}
	// A consumer group that joins before its topic exists gets no
	// partition: analyze waits for the service that creates its topics.
	topics := map[string]bool{}
	for name, s := range p.Services {
		if dep, ok := an.DependsOn[name]; !ok || dep.Condition != types.ServiceConditionCompletedSuccessfully {
			continue
		}
		for _, m := range regexp.MustCompile(`--topic\s+(\S+)`).FindAllStringSubmatch(strings.Join(s.Command, " "), -1) {
			topics[m[1]] = true
		}
	}
	want := []string{acfg.Kafka.Topic}
	if acfg.Correlate.Enabled {
		want = append(want, acfg.Correlate.Topic)
	}
	for _, topic := range want {
		if !topics[topic] {
			t.Errorf("analyze does not wait for a service that creates topic %s", topic)
		}
	}

	// ship: its config parses, its topic is analyze's, and every log it
	// tails is in a volume the service that writes the log also mounts.
	sh := service(t, p, "ship")
	cfgPath = flag(sh.Command, "config")
	v, ok = mountOf(sh, cfgPath)
	if !ok {
		t.Fatalf("ship reads %s, which is not mounted", cfgPath)
	}
	scfg, err := ingest.LoadConfig(v.Source)
	if err != nil {
		t.Fatalf("ship.yaml: %v", err)
	}
	if scfg.Kafka.Topic != acfg.Kafka.Topic {
		t.Errorf("ship writes topic %s, analyze reads %s", scfg.Kafka.Topic, acfg.Kafka.Topic)
	}
	if !slices.Equal(scfg.Kafka.Brokers, acfg.Kafka.Brokers) {
		t.Errorf("ship brokers %v, analyze brokers %v", scfg.Kafka.Brokers, acfg.Kafka.Brokers)
	}
	if reg, ok := mountOf(sh, scfg.Registry); !ok || reg.ReadOnly || reg.Type != types.VolumeTypeVolume {
		t.Errorf("ship's registry %s must be on a writable named volume, or checkpoints die with the container", scfg.Registry)
	}
	nginx := service(t, p, "nginx")
	up := service(t, p, "upstream")
	conf := readFile(t, "deploy/compose/nginx/nginx.conf")
	writers := map[string]types.ServiceConfig{}
	for _, m := range regexp.MustCompile(`(?m)^\s*(?:access_log|error_log)\s+([^\s;]+)`).FindAllStringSubmatch(conf, -1) {
		if m[1] != "off" {
			writers[m[1]] = nginx
		}
	}
	writers[env(up, "FLAKY_LOG")] = up
	for _, src := range scfg.Sources {
		for _, path := range src.Paths {
			w, ok := writers[path]
			if !ok {
				t.Errorf("ship tails %s, which nothing in the stack writes", path)
				continue
			}
			sv, ok1 := mountOf(sh, path)
			wv, ok2 := mountOf(w, path)
			if !ok1 || !ok2 || sv.Source != wv.Source || sv.Type != types.VolumeTypeVolume {
				t.Errorf("%s: ship and its writer do not share a volume", path)
			}
			delete(writers, path)
		}
		if src.Kind == "nginx_access" && normalizeFormat(src.LogFormat) != nginxFormat(t, conf) {
			t.Errorf("ship's log_format for %s differs from nginx.conf's:\n%s\n%s", src.Name, normalizeFormat(src.LogFormat), nginxFormat(t, conf))
		}
	}
	for path := range writers {
		t.Errorf("%s is written but not shipped", path)
	}
}

// nginxFormat joins the quoted pieces of nginx.conf's log_format culprit.
func nginxFormat(t *testing.T, conf string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)log_format\s+culprit\s+(.*?);`).FindStringSubmatch(conf)
	if m == nil {
		t.Fatal("nginx.conf: no log_format culprit")
	}
	var b strings.Builder
	for _, q := range regexp.MustCompile(`'([^']*)'`).FindAllStringSubmatch(m[1], -1) {
		b.WriteString(q[1])
	}
	return normalizeFormat(b.String())
}

func normalizeFormat(s string) string { return strings.Join(strings.Fields(s), " ") }
