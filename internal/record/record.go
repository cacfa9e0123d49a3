// Package record owns the Kafka record format that `culprit ship` produces
// and `culprit analyze` consumes: the value is the raw line (a multi-line
// group joined by '\n'), the key keeps one file's lines in one partition, and
// headers carry where the line came from. Other consumers (kcat, ClickHouse's
// Kafka engine) read the same format; docs/record-format.md documents it.
package record

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultTopic is the raw lines topic.
const DefaultTopic = "culprit.lines"

// Header names. They are a public contract: change them only additively.
const (
	HeaderHost      = "host"       // machine that wrote the line
	HeaderKind      = "kind"       // parser source ("nginx_access", "kernel", ...; "auto" or absent: detect)
	HeaderPath      = "path"       // file path, "/dev/kmsg" or "-" for stdin
	HeaderFileID    = "file_id"    // file identity: "dev:inode:fingerprint" (see ingest)
	HeaderOffset    = "offset"     // decimal byte offset of the line's first byte in that file
	HeaderReadTime  = "read_time"  // RFC 3339 (nanoseconds) when the shipper read the line
	HeaderTZ        = "tz"         // IANA zone for the source's zone-less timestamps
	HeaderLogFormat = "log_format" // nginx log_format string, for nginx_access sources
	HeaderTruncated = "truncated"  // "1" when the line exceeded the shipper's limit and was cut
	HeaderBootTime  = "boot_time"  // RFC 3339 boot time of the host, for kernel sources
	LabelPrefix     = "label."     // "label.service", "label.env": user labels of the source
)

// Line is one shipped line with its provenance.
type Line struct {
	Value     []byte
	Host      string
	Kind      string
	Path      string
	FileID    string
	Offset    int64
	ReadTime  time.Time
	TZ        string
	LogFormat string
	Truncated bool
	BootTime  time.Time
	Labels    map[string]string
}

// Key is the partitioning key: one file's lines keep their order.
func (l *Line) Key() []byte { return []byte(l.Host + ":" + l.Path) }

// DedupKey identifies the line across re-deliveries: at-least-once delivery
// may repeat a record, never with a different identity or offset.
func (l *Line) DedupKey() string { return l.FileID + "@" + strconv.FormatInt(l.Offset, 10) }

// Header is a transport-neutral header, so this package needs no Kafka client.
type Header struct {
	Key   string
	Value []byte
}

// Headers encodes l's provenance.
func (l *Line) Headers() []Header {
	h := []Header{
		{HeaderHost, []byte(l.Host)},
		{HeaderKind, []byte(l.Kind)},
		{HeaderPath, []byte(l.Path)},
		{HeaderFileID, []byte(l.FileID)},
		{HeaderOffset, strconv.AppendInt(nil, l.Offset, 10)},
		{HeaderReadTime, []byte(l.ReadTime.UTC().Format(time.RFC3339Nano))},
	}
	if l.TZ != "" {
		h = append(h, Header{HeaderTZ, []byte(l.TZ)})
	}
	if l.LogFormat != "" {
		h = append(h, Header{HeaderLogFormat, []byte(l.LogFormat)})
	}
	if l.Truncated {
		h = append(h, Header{HeaderTruncated, []byte("1")})
	}
	if !l.BootTime.IsZero() {
		h = append(h, Header{HeaderBootTime, []byte(l.BootTime.UTC().Format(time.RFC3339Nano))})
	}
	for k, v := range l.Labels {
		h = append(h, Header{LabelPrefix + k, []byte(v)})
	}
	return h
}

// FromHeaders rebuilds a Line from a record's value and headers. Unknown
// headers are ignored so that newer shippers work with older analyzers.
func FromHeaders(value []byte, headers []Header) (Line, error) {
	l := Line{Value: value}
	for _, h := range headers {
		v := string(h.Value)
		switch h.Key {
		case HeaderHost:
			l.Host = v
		case HeaderKind:
			l.Kind = v
		case HeaderPath:
			l.Path = v
		case HeaderFileID:
			l.FileID = v
		case HeaderOffset:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return l, fmt.Errorf("record header %s=%q: %w", h.Key, v, err)
			}
			l.Offset = n
		case HeaderReadTime, HeaderBootTime:
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return l, fmt.Errorf("record header %s=%q: %w", h.Key, v, err)
			}
			if h.Key == HeaderReadTime {
				l.ReadTime = t
			} else {
				l.BootTime = t
			}
		case HeaderTZ:
			l.TZ = v
		case HeaderLogFormat:
			l.LogFormat = v
		case HeaderTruncated:
			l.Truncated = v == "1"
		default:
			if name, ok := strings.CutPrefix(h.Key, LabelPrefix); ok {
				if l.Labels == nil {
					l.Labels = map[string]string{}
				}
				l.Labels[name] = v
			}
		}
	}
	return l, nil
}
