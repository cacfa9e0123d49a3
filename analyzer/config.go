package analyzer

import (
	"errors"
	"fmt"
	"time"
)

// Config tunes the engine. The zero value of a field means its default
// (see DefaultConfig); Validate rejects values that cannot work.
type Config struct {
	// Gap is the quiet time that separates two bursts of 5xx on the same
	// upstream: a 5xx within Gap of an incident extends it.
	Gap time.Duration
	// MinRequests is the smallest number of 5xx that makes an incident;
	// smaller bursts are dropped as noise.
	MinRequests int
	// Lateness is how far behind the newest event time (the watermark) an
	// event may arrive and still count as on time. Later evidence can still
	// revise a retained incident, which bumps its version.
	Lateness time.Duration
	// Skew is the clock difference between hosts tolerated when matching
	// evidence to a window and an error line to its access line.
	Skew time.Duration
	// Before and After are the margins around an incident in which
	// upstream-side events are considered as its cause (an OOM kill comes
	// before the first refused connection; a restart after the last).
	Before time.Duration
	After  time.Duration
	// Retention is how long (event time) a closed incident and the evidence
	// around it are kept so late evidence can revise it. It bounds memory.
	Retention time.Duration
	// MaxRecords caps the per-request records an incident keeps for late
	// linking; beyond it requests are only counted.
	MaxRecords int
	// MaxBuffered caps the upstream-side events and unlinked error lines
	// kept in the evidence window (oldest dropped first).
	MaxBuffered int
	// EmitOpen makes Drain return incidents that are still open (the
	// streaming path wants them early); explain only wants closed ones.
	EmitOpen bool
	// Links makes the engine report where it placed each 5xx (DrainLinks),
	// as EmitLinks does; the streaming path stores them in request_links.
	Links bool
	// Topology maps events to services; nil means infer what can be
	// inferred from the events themselves.
	Topology *Topology
	// Groups maps a server address to the nginx upstream{} block it belongs
	// to (from nginx's configuration): the 5xx of a group whose servers all
	// failed are one incident under the group's name, whether nginx logged
	// the group (no live upstreams) or the servers it tried. A group of one
	// server stays keyed by its address.
	Groups map[string]string
}

// DefaultConfig returns the defaults documented in docs/incidents.md.
func DefaultConfig() Config {
	return Config{
		Gap:         30 * time.Second,
		MinRequests: 3,
		Lateness:    10 * time.Second,
		Skew:        5 * time.Second,
		Before:      2 * time.Minute,
		After:       60 * time.Second,
		Retention:   5 * time.Minute,
		MaxRecords:  50000,
		MaxBuffered: 200000,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Gap == 0 {
		c.Gap = d.Gap
	}
	if c.MinRequests == 0 {
		c.MinRequests = d.MinRequests
	}
	if c.Lateness == 0 {
		c.Lateness = d.Lateness
	}
	if c.Skew == 0 {
		c.Skew = d.Skew
	}
	if c.Before == 0 {
		c.Before = d.Before
	}
	if c.After == 0 {
		c.After = d.After
	}
	if c.Retention == 0 {
		c.Retention = d.Retention
	}
	if c.MaxRecords == 0 {
		c.MaxRecords = d.MaxRecords
	}
	if c.MaxBuffered == 0 {
		c.MaxBuffered = d.MaxBuffered
	}
	return c
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	var errs []error
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"gap", c.Gap}, {"lateness", c.Lateness}, {"skew", c.Skew}, {"before", c.Before},
		{"after", c.After}, {"retention", c.Retention}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s %v is negative", d.name, d.v))
		}
	}
	if c.MinRequests < 0 {
		errs = append(errs, fmt.Errorf("min requests %d is negative", c.MinRequests))
	}
	if c.MaxRecords < 0 || c.MaxBuffered < 0 {
		errs = append(errs, errors.New("max records and max buffered must not be negative"))
	}
	if c.Topology != nil {
		if err := c.Topology.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("analyzer config: %w", err)
	}
	return nil
}
