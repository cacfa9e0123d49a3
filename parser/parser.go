package parser

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// MaxLineBytes bounds what one line (or one multi-line group) may hold.
// Longer input is reported as unparsed rather than parsed partially.
const MaxLineBytes = 1 << 20

// DefaultLogFormat is nginx's built-in "combined" format.
const DefaultLogFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`

// Options configure a Parser. The zero value parses any source, detected per
// line, with nginx's combined access format and UTC for zone-less times.
type Options struct {
	// Source fixes the kind of every line; "" or SourceAuto detects it per line.
	Source Source
	// LogFormat is the nginx log_format string of the access log, without the
	// "log_format name" prefix. A leading "escape=json " selects JSON escaping.
	LogFormat string
	// Location is the zone of timestamps that carry none (nginx error log,
	// syslog, dmesg --time-format iso without offset, many app logs).
	Location *time.Location
	// BootTime anchors kernel timestamps that count from boot (/dev/kmsg,
	// raw dmesg). Zero leaves such events at the boot-relative time from the
	// Unix epoch and marks nothing; callers that know the boot time set it.
	BootTime time.Time
	// Now is the reference for inferring the year of syslog-style stamps that
	// omit it; nil means time.Now.
	Now func() time.Time
}

// Parser turns lines into events. It is not safe for concurrent use: each
// goroutine needs its own (they are cheap to create from the same Options).
type Parser struct {
	opts   Options
	access *AccessFormat
	now    time.Time // reference for year inference, refreshed per Parse call batch
}

// New validates opts and compiles the access log format once.
func New(opts Options) (*Parser, error) {
	if opts.Source == "" {
		opts.Source = SourceAuto
	}
	if !validSource(opts.Source) {
		return nil, fmt.Errorf("parser: unknown source %q", opts.Source)
	}
	if opts.LogFormat == "" {
		opts.LogFormat = DefaultLogFormat
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	af, err := CompileAccessFormat(opts.LogFormat)
	if err != nil {
		return nil, fmt.Errorf("parser: log_format: %w", err)
	}
	return &Parser{opts: opts, access: af, now: opts.Now()}, nil
}

// Sources lists every source a Parser understands, auto first.
var Sources = []Source{SourceAuto, SourceNginxAccess, SourceNginxError, SourceKernel, SourceSystemd,
	SourceDocker, SourceKubernetes, SourcePM2, SourceGunicorn, SourceUWSGI, SourcePHPFPM, SourceNode,
	SourcePython, SourceJava, SourceGo, SourceApp}

func validSource(s Source) bool {
	for _, k := range Sources {
		if k == s {
			return true
		}
	}
	return false
}

// errNotThisSource is returned by a source parser that does not recognise the
// line at all; with auto detection the next candidate is tried.
var errNotThisSource = errors.New("line does not look like this source")

// Parse fills ev from one line (or multi-line group, lines joined by '\n')
// without its trailing newline. It never fails: a line it cannot read becomes
// a KindUnparsed event carrying the reason and the raw line.
func (p *Parser) Parse(line []byte, ev *Event) {
	ev.Reset()
	if len(line) > MaxLineBytes {
		ev.Unparsed(p.opts.Source, line[:MaxLineBytes], fmt.Sprintf("line of %d bytes exceeds the %d byte limit", len(line), MaxLineBytes))
		return
	}
	validUTF8 := utf8.Valid(line)
	env := p.unwrap(line, ev)
	src := p.opts.Source
	if src == SourceAuto {
		src = detect(env.inner, env.program)
	}
	// nginx's escape=json writes bytes >= 0x80 raw, so a real access line
	// may be invalid UTF-8 and still match its format. Anything else that is
	// not UTF-8 is binary junk or a wrong encoding: say so rather than guess.
	if !validUTF8 && src != SourceNginxAccess {
		ev.Unparsed(src, line, "invalid UTF-8")
		return
	}
	err := p.parseAs(src, env.inner, ev)
	if err != nil && src == SourceNginxAccess && len(env.inner) != len(line) {
		// What looked like a wrapper may be the format's own first field
		// (log_format '$time_iso8601 $remote_addr ...' reads like a
		// timestamped envelope): the whole line, as nginx wrote it, decides.
		if p.parseAs(src, line, ev) == nil {
			env = envelope{inner: line}
			err = nil
		}
	}
	if err != nil {
		ev.Unparsed(src, line, err.Error())
		return
	}
	ev.Source = src
	if ev.Time.IsZero() && !env.time.IsZero() {
		ev.Time = env.time
	}
	// Source parsers start from a clean event, so what the envelope knew is
	// applied afterwards, never over what the line itself said.
	if ev.Hostname == "" {
		ev.Hostname = env.hostname
	}
	if ev.Unit == "" {
		ev.Unit = env.unit
	}
	if ev.Container == "" {
		ev.Container = env.container
	}
	if ev.Time.IsZero() {
		// Every event must be placeable in time; the analyzer fills the
		// shipper's read time when the line itself had none.
		return
	}
	ev.Time = ev.Time.UTC()
}

func (p *Parser) parseAs(src Source, line []byte, ev *Event) error {
	switch src {
	case SourceNginxAccess:
		// Parse reset ev, and unwrap's Unit and Container are re-applied below.
		return p.access.parseReset(line, p.opts.Location, ev)
	case SourceNginxError:
		return p.parseNginxError(line, ev)
	case SourceKernel:
		return p.parseKernel(line, ev)
	case SourceSystemd:
		return p.parseSystemd(line, ev)
	case SourceDocker:
		return p.parseDocker(line, ev)
	case SourceKubernetes:
		return p.parseKubernetes(line, ev)
	case SourcePM2:
		return p.parsePM2(line, ev)
	case SourceGunicorn:
		return p.parseGunicorn(line, ev)
	case SourceUWSGI:
		return p.parseUWSGI(line, ev)
	case SourcePHPFPM:
		return p.parsePHPFPM(line, ev)
	case SourceNode:
		return p.parseNode(line, ev)
	case SourcePython:
		return p.parsePython(line, ev)
	case SourceJava:
		return p.parseJava(line, ev)
	case SourceGo:
		return p.parseGo(line, ev)
	case SourceApp:
		return p.parseApp(line, ev)
	}
	return fmt.Errorf("unknown source %q", src)
}
