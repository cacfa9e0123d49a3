// Package nginxconf reads nginx configuration files the way nginx tokenises
// them (quotes, escapes, comments, include) and extracts what culprit needs
// of a proxy's configuration: its log_format strings, which access_log uses
// which, and the servers of its upstream blocks. The shipper (nginx_conf:)
// and explain (a *.conf next to the logs) both read configurations here.
package nginxconf

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/culprit-dev/culprit/parser"
)

// Directive is one simple directive: its name and arguments, quotes
// removed, and the header of the block it stands in ("upstream", "api"),
// nil at the top level.
type Directive struct {
	Args  []string
	Block []string
}

// maxIncludeDepth bounds include chains (a file including itself).
const maxIncludeDepth = 16

// Load reads the configuration at path and the files it includes (globs
// relative to path's directory, as nginx resolves them against its prefix),
// in order.
func Load(path string) ([]Directive, error) {
	return load(path, filepath.Dir(path), 0)
}

func load(path, root string, depth int) ([]Directive, error) {
	if depth > maxIncludeDepth {
		return nil, fmt.Errorf("%s: includes nested too deep", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Directive
	for _, d := range Parse(b) {
		if d.Args[0] != "include" || len(d.Args) != 2 {
			out = append(out, d)
			continue
		}
		pat := d.Args[1]
		if !filepath.IsAbs(pat) {
			pat = filepath.Join(root, pat)
		}
		files, _ := filepath.Glob(pat)
		for _, f := range files {
			inc, err := load(f, root, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, inc...)
		}
	}
	return out, nil
}

// Parse returns the simple directives of one configuration text, in order,
// include directives left as they are.
func Parse(b []byte) []Directive {
	var out []Directive
	var blocks [][]string // headers of the enclosing blocks, innermost last
	var words []string
	var w strings.Builder
	inWord := false
	end := func() {
		if inWord {
			words = append(words, w.String())
			w.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '#' && !inWord:
			for i < len(b) && b[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'':
			// A quoted string, with nginx's escapes: \t \r \n, and a
			// backslash before a quote or a backslash keeps that byte.
			inWord = true
			for i++; i < len(b) && b[i] != c; i++ {
				if b[i] == '\\' && i+1 < len(b) {
					switch b[i+1] {
					case 't':
						w.WriteByte('\t')
						i++
						continue
					case 'r':
						w.WriteByte('\r')
						i++
						continue
					case 'n':
						w.WriteByte('\n')
						i++
						continue
					case '"', '\'', '\\':
						i++
					}
				}
				w.WriteByte(b[i])
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			end()
		case c == ';':
			end()
			if len(words) > 0 {
				var block []string
				if len(blocks) > 0 {
					block = blocks[len(blocks)-1]
				}
				out = append(out, Directive{Args: words, Block: block})
			}
			words = nil
		case c == '{':
			end()
			blocks = append(blocks, words)
			words = nil
		case c == '}':
			end()
			if len(blocks) > 0 {
				blocks = blocks[:len(blocks)-1]
			}
			words = nil
		default:
			inWord = true
			w.WriteByte(c)
		}
	}
	return out
}

// LogFormat is a log_format directive: its name and the format in the form
// parser.CompileAccessFormat takes (the parts joined as nginx concatenates
// them, "escape=json " or "escape=none " in front when set).
type LogFormat struct {
	Name, Format string
}

// LogFormats returns the configuration's log_format directives, in order.
func LogFormats(ds []Directive) []LogFormat {
	var out []LogFormat
	for _, d := range ds {
		if d.Args[0] != "log_format" || len(d.Args) < 3 {
			continue
		}
		args, esc := d.Args[2:], ""
		if strings.HasPrefix(args[0], "escape=") {
			if args[0] != "escape=default" {
				esc = args[0] + " "
			}
			args = args[1:]
		}
		out = append(out, LogFormat{d.Args[1], esc + strings.Join(args, "")})
	}
	return out
}

// AccessFormat returns the log_format of the access_log written at one of
// paths (file globs), nginx's combined when the access_log names none. conf
// names the configuration in errors.
func AccessFormat(conf string, ds []Directive, paths []string) (string, error) {
	formats := map[string]string{"combined": parser.DefaultLogFormat}
	for _, f := range LogFormats(ds) {
		formats[f.Name] = f.Format
	}
	var logged []string
	for _, d := range ds {
		if d.Args[0] != "access_log" || len(d.Args) < 2 || d.Args[1] == "off" {
			continue
		}
		logged = append(logged, d.Args[1])
		name := "combined"
		if len(d.Args) >= 3 && !strings.Contains(d.Args[2], "=") {
			name = d.Args[2]
		}
		for _, g := range paths {
			if ok, _ := filepath.Match(g, d.Args[1]); !ok && g != d.Args[1] {
				continue
			}
			f, ok := formats[name]
			if !ok {
				return "", fmt.Errorf("%s: access_log %s uses log_format %q, which the configuration does not define", conf, d.Args[1], name)
			}
			return f, nil
		}
	}
	return "", fmt.Errorf("%s: no access_log writes to %s (access_log paths: %s)", conf, strings.Join(paths, ", "), strings.Join(logged, ", "))
}

// UpstreamServers maps each server address of the `upstream NAME { server
// ADDR ...; }` blocks to NAME.
func UpstreamServers(ds []Directive) map[string]string {
	out := map[string]string{}
	for _, d := range ds {
		if d.Args[0] == "server" && len(d.Args) >= 2 && len(d.Block) == 2 && d.Block[0] == "upstream" {
			out[d.Args[1]] = d.Block[1]
		}
	}
	return out
}
