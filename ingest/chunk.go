package ingest

import (
	"sync/atomic"

	"github.com/culprit-dev/culprit/internal/record"
)

// cursor is the acknowledged position of one stream (a file identity, kmsg
// of one boot, stdin). Readers advance what they read; only the sender, after
// the sink acknowledged, advances acked and the registry.
type cursor struct {
	id     fileID
	idStr  string
	path   string
	src    *sourceState
	acked  atomic.Int64
	size   atomic.Int64 // last seen file size, for the lag metric
	final  atomic.Int64 // offset where the reader finished the file, -1 while open
	noSave bool         // stdin: nothing to resume
}

func newCursor(id fileID, path string, src *sourceState, offset int64) *cursor {
	c := &cursor{id: id, idStr: id.String(), path: path, src: src}
	c.acked.Store(offset)
	c.final.Store(-1)
	return c
}

// chunk is a run of consecutive records of one cursor, the unit that flows
// from a reader to the sender. end is the offset after its last record, the
// checkpoint once the chunk is acknowledged.
type chunk struct {
	cur   *cursor
	lines []record.Line
	end   int64
	bytes int
}
