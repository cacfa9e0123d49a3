package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/culprit-dev/culprit/internal/nginxconf"
	"github.com/culprit-dev/culprit/parser"
)

// inputFile is one log file explain reads, with what sniffing found.
type inputFile struct {
	path   string
	size   int64
	kind   parser.Source // "" when skipped
	forced bool
	format string // nginx log_format of an access log
	// inferred: format was built from the file's own lines
	// (parser.InferAccessFormat), not found in a conf or given.
	inferred bool
	why      string // why it was skipped
	// upstreamView: an application server's own log, whose request lines
	// repeat what the proxy logged: they are dropped, the rest is read.
	upstreamView bool
	offset       int // zone offset (seconds) its access times carry
	hasOff       bool
	lines        int64
}

// Files a directory walk never reads as logs: sources, configs, notes.
var notLogExt = map[string]bool{".md": true, ".sh": true, ".js": true, ".py": true, ".php": true, ".yaml": true,
	".yml": true, ".html": true, ".go": true, ".lua": true, ".xml": true, ".toml": true, ".ini": true,
	".conf": true, ".service": true, ".pem": true, ".key": true, ".crt": true, ".sql": true}

// collectInputs expands the command line into files (directories walked,
// rotated .1 and .gz kept) and returns the nginx log_format strings found in
// *.conf files among or next to them.
func collectInputs(args []string) ([]*inputFile, []string, map[string]string, error) {
	var files []*inputFile
	seen := map[string]bool{}
	var confs []string
	confSeen := map[string]bool{}
	addConf := func(p string) {
		if !confSeen[p] {
			confSeen[p] = true
			confs = append(confs, p)
		}
	}
	for _, arg := range args {
		kind := parser.Source("")
		path := arg
		if i := strings.IndexByte(arg, '='); i > 0 {
			if k := parser.Source(arg[:i]); validSource(k) {
				kind, path = k, arg[i+1:]
			}
		}
		st, err := os.Stat(path)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("explain: %w", err)
		}
		if !st.IsDir() {
			if strings.HasSuffix(path, ".conf") && kind == "" {
				addConf(path)
				continue
			}
			if !seen[path] {
				seen[path] = true
				files = append(files, &inputFile{path: path, size: st.Size(), kind: kind, forced: kind != ""})
			}
			if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.conf")); len(m) > 0 {
				for _, c := range m {
					addConf(c)
				}
			}
			continue
		}
		err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("explain: %w", err)
			}
			if d.IsDir() {
				if p != path && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			name := d.Name()
			ext := strings.ToLower(filepath.Ext(strings.TrimSuffix(strings.TrimSuffix(name, ".gz"), ".1")))
			if ext == ".conf" {
				addConf(p)
				return nil
			}
			if !d.Type().IsRegular() || notLogExt[ext] || name == "truth.json" || strings.HasPrefix(name, ".") ||
				strings.HasPrefix(strings.ToUpper(name), "README") {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return fmt.Errorf("explain: %w", err)
			}
			if !seen[p] {
				seen[p] = true
				files = append(files, &inputFile{path: p, size: info.Size(), kind: kind, forced: kind != ""})
			}
			return nil
		})
		if err != nil {
			return nil, nil, nil, err
		}
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i].path < files[j].path })
	var formats []string
	groups := map[string]string{}
	for _, c := range confs {
		data, err := os.ReadFile(c)
		if err != nil {
			continue // a conf we cannot read only loses a hint
		}
		ds := nginxconf.Parse(data)
		for _, f := range nginxconf.LogFormats(ds) {
			formats = append(formats, f.Format)
		}
		for addr, name := range nginxconf.UpstreamServers(ds) {
			groups[addr] = name
		}
	}
	return files, formats, groups, nil
}

func validSource(s parser.Source) bool {
	for _, k := range parser.Sources {
		if k == s {
			return true
		}
	}
	return false
}

// commonFormats are tried when no configuration says which one the access
// log uses: nginx's combined and the upstream-extended variants people
// commonly copy.
var commonFormats = []string{
	parser.DefaultLogFormat,
	`$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for"`,
	`$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time uct="$upstream_connect_time" uht="$upstream_header_time" urt="$upstream_response_time"`,
	`$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for" $request_time $upstream_response_time $upstream_addr $upstream_status`,
	`$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $upstream_addr $upstream_status $upstream_connect_time $upstream_header_time $upstream_response_time`,
}

const sniffLines = 200

// openLog opens a file, transparently decompressing gzip (rotated .gz).
func openLog(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	br := bufio.NewReaderSize(f, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("explain: %s: %w", path, err)
		}
		return struct {
			io.Reader
			io.Closer
		}{zr, f}, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{br, f}, nil
}

func headLines(path string, n int) ([][]byte, error) {
	rc, err := openLog(path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64<<10), parser.MaxLineBytes)
	var out [][]byte
	for len(out) < n && sc.Scan() {
		if l := bytes.TrimRight(sc.Bytes(), "\r"); len(bytes.TrimSpace(l)) > 0 {
			out = append(out, bytes.Clone(l))
		}
	}
	// A line longer than the limit ends the sample, not the run.
	return out, nil
}

// accessReads counts the lines format reads as requests.
func accessReads(format string, lines [][]byte) int {
	p, err := parser.New(parser.Options{Source: parser.SourceNginxAccess, LogFormat: format})
	if err != nil {
		return 0
	}
	var ev parser.Event
	n := 0
	for _, l := range lines {
		p.Parse(l, &ev)
		if ev.Kind == parser.KindRequest {
			n++
		}
	}
	return n
}

// bestAccessFormat picks the access format that reads the most of lines:
// the configuration's formats first, then one inferred from the lines
// themselves, then the common formats; a later candidate wins only by
// reading more lines. A format nobody wrote down is the usual case (teams
// extend combined their own way and the conf stays on the proxy), and the
// inferred one reads it where no fixed list can.
//
// Unless the file was given as nginx_access, the requests an inferred
// format reads must have a time (theirs or a wrapper's, such as a leading
// RFC 3339 stamp): explain places requests on a timeline, and request lines
// without one are an application server's (werkzeug's "[25/Nov/2026
// 16:48:40]" is no nginx time) more often than nginx's.
func bestAccessFormat(lines, more [][]byte, formats []string, userFormat, needTime bool) (format string, n int, inferred bool) {
	if userFormat {
		return formats[0], accessReads(formats[0], lines), false
	}
	for _, fm := range formats {
		if k := accessReads(fm, lines); k > n {
			format, n = fm, k
		}
	}
	if n < len(lines) {
		if fm, _, err := parser.InferAccessFormat(lines); err == nil && (!needTime || accessTimed(fm, lines)) {
			if k := accessReads(fm, lines); k > n {
				format, n, inferred = fm, k, true
			}
		}
	}
	if inferred && parser.UnnamedFields(format) > 0 && len(more) > 0 {
		// The head may not show what some fields are (upstream fields
		// are "-" on every request no upstream served): the end of the
		// file may.
		both := append(append([][]byte(nil), lines...), more...)
		if fm, _, err := parser.InferAccessFormat(both); err == nil && parser.UnnamedFields(fm) < parser.UnnamedFields(format) &&
			accessReads(fm, both) >= accessReads(format, both) {
			format, n = fm, accessReads(fm, lines)
		}
	}
	if n < len(lines) {
		for _, fm := range commonFormats {
			if k := accessReads(fm, lines); k > n {
				format, n, inferred = fm, k, false
			}
		}
	}
	return format, n, inferred
}

// accessTimed reports whether most requests format reads from lines have
// a time.
func accessTimed(format string, lines [][]byte) bool {
	p, err := parser.New(parser.Options{Source: parser.SourceNginxAccess, LogFormat: format})
	if err != nil {
		return false
	}
	var ev parser.Event
	req, timed := 0, 0
	for _, l := range lines {
		if p.Parse(l, &ev); ev.Kind == parser.KindRequest {
			req++
			if !ev.Time.IsZero() {
				timed++
			}
		}
	}
	return req > 0 && timed*2 > req
}

// tailLines returns up to n whole lines from the last 256 KiB of a plain
// (not gzipped) file; nil when it cannot.
func tailLines(path string, n int) [][]byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil
	}
	var magic [2]byte
	if _, err := f.ReadAt(magic[:], 0); err != nil || magic[0] == 0x1f && magic[1] == 0x8b {
		return nil // empty, or gzip (its end is not lines)
	}
	off := max(st.Size()-256<<10, 0)
	buf := make([]byte, st.Size()-off)
	k, _ := f.ReadAt(buf, off)
	buf = buf[:k]
	if off > 0 {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			return nil
		}
		buf = buf[i+1:] // the first line is cut
	}
	var out [][]byte
	for _, l := range bytes.Split(buf, []byte("\n")) {
		if l = bytes.TrimRight(l, "\r"); len(bytes.TrimSpace(l)) > 0 {
			out = append(out, l)
		}
	}
	return out[max(len(out)-n, 0):]
}

// sniffAll decides each file's kind (and an access log's format) from its
// first lines, by what the parsers recognise.
func sniffAll(files []*inputFile, formats []string, userFormat bool) error {
	cands := formats
	if len(cands) == 0 {
		cands = commonFormats[:1]
	}
	for _, f := range files {
		lines, err := headLines(f.path, sniffLines)
		if err != nil {
			return err
		}
		if len(lines) == 0 {
			f.kind, f.why = "", "empty"
			continue
		}
		// The access format that reads the most lines.
		bestFmt, bestN, inferred := bestAccessFormat(lines, nil, formats, userFormat, !f.forced)
		if inferred && parser.UnnamedFields(bestFmt) > 0 {
			bestFmt, bestN, inferred = bestAccessFormat(lines, tailLines(f.path, sniffLines), formats, userFormat, !f.forced)
		}
		var ev parser.Event
		if f.forced {
			if f.kind == parser.SourceNginxAccess {
				f.format, f.inferred = bestFmt, inferred
				if f.format == "" {
					f.format, f.inferred = cands[0], false
				}
			}
			continue
		}
		// Per-line detection for everything else.
		p, err := parser.New(parser.Options{})
		if err != nil {
			return fmt.Errorf("explain: %w", err)
		}
		count := map[parser.Source]int{}
		for _, l := range lines {
			p.Parse(l, &ev)
			if ev.Kind != parser.KindUnparsed && ev.Source != parser.SourceNginxAccess {
				count[ev.Source]++
			}
		}
		count[parser.SourceNginxAccess] = bestN
		best, bn := parser.Source(""), 0
		for _, s := range parser.Sources {
			if count[s] > bn {
				best, bn = s, count[s]
			}
		}
		if bn == 0 {
			f.why = "no line recognised as a log culprit reads"
			continue
		}
		f.kind = best
		if best == parser.SourceNginxAccess {
			f.format, f.inferred = bestFmt, inferred
			f.offset, f.hasOff = timeOffset(lines)
		}
	}
	// An application server's own access log (gunicorn, uWSGI, Express in
	// combined format, Rack's CommonLogger) reads like nginx's. Next to a
	// proxy access log that records upstreams, one that does not is the
	// upstream's view: counting its 5xx would count the same failures twice.
	// Its other lines (the errors app servers write between the request
	// lines) are the upstream's evidence, so it is read, without requests.
	proxy := false
	for _, f := range files {
		proxy = proxy || f.kind == parser.SourceNginxAccess && strings.Contains(f.format, "$upstream_addr")
	}
	if proxy {
		for _, f := range files {
			if f.kind == parser.SourceNginxAccess && !f.forced && !strings.Contains(f.format, "$upstream_") {
				f.kind, f.format, f.inferred, f.upstreamView = parser.SourceApp, "", false, true
			}
		}
	}
	return nil
}

var (
	reLocalOff = regexp.MustCompile(`\[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} ([+-])(\d{2})(\d{2})\]`)
	reISOOff   = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?([+-])(\d{2}):(\d{2})`)
)

// timeOffset finds the zone offset an access log's times carry
// ($time_local, $time_iso8601).
func timeOffset(lines [][]byte) (int, bool) {
	for _, l := range lines {
		m := reLocalOff.FindSubmatch(l)
		if m == nil {
			m = reISOOff.FindSubmatch(l)
		}
		if m == nil {
			continue
		}
		h, _ := strconv.Atoi(string(m[2]))
		mi, _ := strconv.Atoi(string(m[3]))
		off := h*3600 + mi*60
		if m[1][0] == '-' {
			off = -off
		}
		return off, true
	}
	return 0, false
}

// accessOffset is the offset of the first access log that has one: the same
// nginx writes its error log in that local time, without the offset.
func accessOffset(files []*inputFile) (int, string, bool) {
	for _, f := range files {
		if f.kind == parser.SourceNginxAccess && f.hasOff {
			return f.offset, f.path, true
		}
	}
	return 0, "", false
}
