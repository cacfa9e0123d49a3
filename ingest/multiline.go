package ingest

import "github.com/culprit-dev/culprit/parser"

// group is one multi-line record with the byte range it covers.
type group struct {
	value      []byte
	start, end int64
	truncated  bool
}

// span is the byte range of one input line still held by the grouper.
type span struct {
	start, end int64
	truncated  bool
}

// grouper puts byte offsets on parser.Grouper's groups (stack traces of
// Java, Python, Node and Go, recognised by the parser's rules): a group's
// offset is its first line's, its end the last line's, so the checkpoint
// moves past a group only once it is complete and acknowledged.
type grouper struct {
	g       *parser.Grouper
	pending []span
}

func newGrouper(c *MultilineConfig) *grouper {
	return &grouper{g: parser.NewGrouper(c.MaxLines, c.MaxBytes)}
}

// add feeds one line (without newline) spanning [start, end) and returns
// the groups it completed.
func (w *grouper) add(line []byte, start, end int64, truncated bool) []group {
	w.pending = append(w.pending, span{start, end, truncated})
	return w.collect(w.g.Add(line))
}

// flush returns the pending group (after the multi-line timeout, at the end
// of a rotated file).
func (w *grouper) flush() []group {
	if !w.g.Pending() {
		return nil
	}
	return w.collect(w.g.Flush())
}

func (w *grouper) collect(values [][]byte) []group {
	if len(values) == 0 {
		return nil
	}
	spans := w.g.Spans()
	out := make([]group, 0, len(values))
	for i, v := range values {
		n := 1
		if i < len(spans) {
			n = spans[i]
		}
		n = max(1, min(n, len(w.pending)))
		sp := w.pending[:n]
		g := group{value: v, start: sp[0].start, end: sp[n-1].end}
		for _, s := range sp {
			g.truncated = g.truncated || s.truncated
		}
		w.pending = w.pending[n:]
		out = append(out, g)
	}
	return out
}
