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
	return decode(value, headers, nil)
}

// Decoder rebuilds Lines as FromHeaders does, for a consumer of many
// records: the header values that repeat from record to record (host, kind,
// path, file id, zone, log format, labels) become strings once rather than
// once per record, which at 100 k records/s was most of what the analyzer
// allocated. The zero Decoder is ready; it is not safe for concurrent use.
type Decoder struct {
	strs   map[string]string
	labels map[string]string
}

// maxInterned bounds the strings a Decoder keeps: a fleet has few sources,
// but file ids change with every rotation.
const maxInterned = 1 << 14

// Decode is FromHeaders, except that the Line's Labels map is the Decoder's
// and changes with the next Decode.
func (d *Decoder) Decode(value []byte, headers []Header) (Line, error) {
	if d.strs == nil {
		d.strs, d.labels = map[string]string{}, map[string]string{}
	}
	clear(d.labels)
	return decode(value, headers, d)
}

// str returns b as a string, the same one every time for the same bytes.
func (d *Decoder) str(b []byte) string {
	if d == nil {
		return string(b)
	}
	if s, ok := d.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.strs) >= maxInterned {
		clear(d.strs)
	}
	d.strs[s] = s
	return s
}

// decode interns through d, which may be nil (then every value is a new
// string and Labels a new map).
func decode(value []byte, headers []Header, d *Decoder) (Line, error) {
	l := Line{Value: value}
	for _, h := range headers {
		switch h.Key {
		case HeaderHost:
			l.Host = d.str(h.Value)
		case HeaderKind:
			l.Kind = d.str(h.Value)
		case HeaderPath:
			l.Path = d.str(h.Value)
		case HeaderFileID:
			l.FileID = d.str(h.Value)
		case HeaderOffset:
			n, ok := parseDecimal(h.Value)
			if !ok {
				var err error
				if n, err = strconv.ParseInt(string(h.Value), 10, 64); err != nil {
					return l, fmt.Errorf("record header %s=%q: %w", h.Key, h.Value, err)
				}
			}
			l.Offset = n
		case HeaderReadTime, HeaderBootTime:
			t, err := time.Parse(time.RFC3339Nano, string(h.Value))
			if err != nil {
				return l, fmt.Errorf("record header %s=%q: %w", h.Key, h.Value, err)
			}
			if h.Key == HeaderReadTime {
				l.ReadTime = t
			} else {
				l.BootTime = t
			}
		case HeaderTZ:
			l.TZ = d.str(h.Value)
		case HeaderLogFormat:
			l.LogFormat = d.str(h.Value)
		case HeaderTruncated:
			l.Truncated = string(h.Value) == "1"
		default:
			if name, ok := strings.CutPrefix(h.Key, LabelPrefix); ok {
				if l.Labels == nil {
					if d != nil {
						l.Labels = d.labels
					} else {
						l.Labels = map[string]string{}
					}
				}
				l.Labels[name] = d.str(h.Value)
			}
		}
	}
	return l, nil
}

// parseDecimal reads the plain digits the shipper writes, without the
// string strconv needs; anything else (a sign, overflow) is left to strconv.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
