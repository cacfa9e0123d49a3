package parser

// Temporary stub: the platform helper (kernel, systemd, docker, kubernetes,
// envelopes, detection) replaces this file.

import (
	"errors"
	"time"
)

// envelope is what a wrapper around the real line told us: a syslog header,
// a container runtime's timestamp, a compose prefix, a grep file name.
type envelope struct {
	inner    []byte
	time     time.Time
	hostname string
	program  string
}

func unwrap(line []byte) envelope { return envelope{inner: line} }

func detect(line []byte, program string) Source { return SourceApp }

func (p *Parser) parseKernel(line []byte, ev *Event) error     { return errors.New("not built yet") }
func (p *Parser) parseSystemd(line []byte, ev *Event) error    { return errors.New("not built yet") }
func (p *Parser) parseDocker(line []byte, ev *Event) error     { return errors.New("not built yet") }
func (p *Parser) parseKubernetes(line []byte, ev *Event) error { return errors.New("not built yet") }
