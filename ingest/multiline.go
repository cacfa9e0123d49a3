package ingest

import "bytes"

// group is one multi-line record with the byte range it covers.
type group struct {
	value      []byte
	start, end int64
	truncated  bool
}

// grouper joins continuation lines (stack traces) to the line that started
// them and keeps the offsets: a group's offset is its first line's, and the
// checkpoint moves past a group only once it is complete and acknowledged.
// Pending lines are bounded by max_lines and max_bytes.
type grouper struct {
	maxLines, maxBytes int
	cur                *group
	lines              int
	inTraceback        bool
}

func newGrouper(c *MultilineConfig) *grouper {
	return &grouper{maxLines: c.MaxLines, maxBytes: c.MaxBytes}
}

var (
	pyTraceback = []byte("Traceback (most recent call last):")
	causedBy    = []byte("Caused by:")
	suppressed  = []byte("Suppressed:")
	pyChained1  = []byte("During handling of the above exception")
	pyChained2  = []byte("The above exception was the direct cause")
)

// continues reports whether line belongs to the record before it: indented
// frames (Java, Python, Node, Go goroutine dumps), Java's "Caused by:", and
// a Python traceback up to and including its unindented exception line.
func (g *grouper) continues(line []byte) bool {
	switch {
	case len(line) == 0:
		return g.inTraceback
	case line[0] == ' ' || line[0] == '\t':
		return true
	case bytes.HasPrefix(line, pyTraceback):
		g.inTraceback = true
		return true
	case bytes.HasPrefix(line, causedBy), bytes.HasPrefix(line, suppressed):
		return true
	case bytes.HasPrefix(line, pyChained1), bytes.HasPrefix(line, pyChained2):
		return true
	case g.inTraceback:
		// "ValueError: boom" closes the traceback.
		g.inTraceback = false
		return true
	}
	return false
}

// add feeds one line (without newline) spanning [start, end) and returns the
// groups it completed.
func (g *grouper) add(line []byte, start, end int64, truncated bool) []group {
	var out []group
	if g.cur != nil && g.continues(line) && g.lines < g.maxLines && len(g.cur.value)+1+len(line) <= g.maxBytes {
		g.cur.value = append(append(g.cur.value, '\n'), line...)
		g.cur.end = end
		g.cur.truncated = g.cur.truncated || truncated
		g.lines++
		return nil
	}
	if g.cur != nil {
		out = append(out, *g.cur)
	}
	if g.cur == nil {
		g.continues(line) // track traceback state from the first line too
	}
	// Copy: the group grows past the read buffer the line points into.
	g.cur = &group{value: append([]byte(nil), line...), start: start, end: end, truncated: truncated}
	g.lines = 1
	return out
}

// flush returns the pending group (after the multi-line timeout or at the
// end of a rotated file).
func (g *grouper) flush() []group {
	if g.cur == nil {
		return nil
	}
	out := []group{*g.cur}
	g.cur, g.lines, g.inTraceback = nil, 0, false
	return out
}
