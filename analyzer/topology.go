package analyzer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"gopkg.in/yaml.v3"
)

// Topology names the services behind the proxy and how to recognise their
// events. Its YAML keys are a contract (docs/incidents.md); more may be added.
type Topology struct {
	Services []Service `yaml:"services"`
}

// Service is one application the proxy forwards to.
type Service struct {
	Name       string   `yaml:"name"`
	Upstreams  []string `yaml:"upstreams"`  // "127.0.0.1:4000", "unix:/run/php/fpm.sock", an upstream{} name
	Hosts      []string `yaml:"hosts"`      // machines it runs on
	Processes  []string `yaml:"processes"`  // process names or titles ("node", "node /srv/app/server.js")
	PM2Apps    []string `yaml:"pm2_apps"`   // PM2 app names
	Units      []string `yaml:"units"`      // systemd units ("api" or "api.service")
	Containers []string `yaml:"containers"` // container names
}

// ParseTopology reads a topology from YAML; unknown keys are an error so a
// typo does not silently map nothing.
func ParseTopology(r io.Reader) (*Topology, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("topology: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var t Topology
	if err := dec.Decode(&t); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("topology: %w", err)
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &t, nil
}

// Validate checks that every service has a unique name and a way to be
// recognised.
func (t *Topology) Validate() error {
	seen := map[string]bool{}
	var errs []error
	for i, s := range t.Services {
		if s.Name == "" {
			errs = append(errs, fmt.Errorf("service #%d has no name", i+1))
			continue
		}
		if seen[s.Name] {
			errs = append(errs, fmt.Errorf("service %q defined twice", s.Name))
		}
		seen[s.Name] = true
		if len(s.Upstreams)+len(s.Hosts)+len(s.Processes)+len(s.PM2Apps)+len(s.Units)+len(s.Containers) == 0 {
			errs = append(errs, fmt.Errorf("service %q has nothing to recognise it by", s.Name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("topology: %w", err)
	}
	return nil
}

// commLen is how much of a process title the kernel keeps in comm
// (TASK_COMM_LEN 16, with the terminating NUL).
const commLen = 15

func truncComm(s string) string {
	if len(s) > commLen {
		return s[:commLen]
	}
	return s
}

// processMatches says whether a process name as an event reports it (often
// the kernel's truncated comm, or a PM2 title such as "node /srv/app/x.js")
// names the configured process want.
func processMatches(got, want string) bool {
	if got == "" || want == "" {
		return false
	}
	if got == want || truncComm(got) == truncComm(want) {
		return true
	}
	// A title "node /srv/app/server.js" reported as comm "node /srv/app/s",
	// or a configured "node" against the title's program word.
	if len(got) == commLen && strings.HasPrefix(want, got) {
		return true
	}
	return !strings.Contains(want, " ") && firstWord(got) == want
}

func firstWord(s string) string {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i]
	}
	return s
}

// NormalizeUpstream turns the many spellings of an upstream into the key
// incidents are grouped by: "http://127.0.0.1:4000/x" and "127.0.0.1:4000"
// give "127.0.0.1:4000"; "fastcgi://unix:/run/fpm.sock:" gives
// "unix:/run/fpm.sock"; a listen address ":4000", "0.0.0.0:4000",
// "[::]:4000" or "localhost:4000" gives the loopback address nginx would use.
func NormalizeUpstream(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || s == "-" {
		return ""
	}
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if strings.HasPrefix(s, "unix:") {
		s = strings.TrimSuffix(s, ":")
		// nginx appends the request path after the socket's ':' in
		// "unix:/run/fpm.sock:/index.php".
		if i := strings.Index(s[5:], ":"); i >= 0 {
			s = s[:5+i]
		}
		return s
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return s // an upstream{} group name or a bare host
	}
	switch host {
	case "", "0.0.0.0", "localhost", "127.0.0.1", "*", "::":
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
