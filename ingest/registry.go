package ingest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Entry is one file identity's acknowledged position.
type Entry struct {
	ID     string `json:"id"` // dev:inode:fingerprint, the file_id header
	Dev    uint64 `json:"dev"`
	Ino    uint64 `json:"ino"`
	FP     string `json:"fp"`     // fingerprint of the first FPLen bytes
	FPLen  int    `json:"fp_len"` // 0 until the file had data
	Path   string `json:"path"`   // where it was last seen
	Offset int64  `json:"offset"` // every byte before it is acknowledged
	// Done: the file was rotated away and read to its end; kept so that a
	// glob that still matches the rotated name does not ship it again.
	Done    bool      `json:"done,omitempty"`
	Updated time.Time `json:"updated"`
}

// Registry is the checkpoint file. Only the ack path writes offsets, so a
// crash at any moment resumes at or before the first unacknowledged line.
type Registry struct {
	path string
	ttl  time.Duration

	mu      sync.Mutex
	entries map[string]*Entry
	saved   time.Time
}

// registryVersion guards the file format.
const registryVersion = 1

type registryFile struct {
	Version int      `json:"version"`
	Entries []*Entry `json:"entries"`
}

// OpenRegistry loads path (a missing file is an empty registry). Entries not
// updated within ttl are forgotten at the next save.
func OpenRegistry(path string, ttl time.Duration) (*Registry, error) {
	r := &Registry{path: path, ttl: ttl, entries: map[string]*Entry{}}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	var f registryFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("registry %s: %w", path, err)
	}
	if f.Version != registryVersion {
		return nil, fmt.Errorf("registry %s: version %d, want %d", path, f.Version, registryVersion)
	}
	for _, e := range f.Entries {
		r.entries[e.ID] = e
	}
	return r, nil
}

// Lookup returns a copy of the entry for id.
func (r *Registry) Lookup(id string) (Entry, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[id]
	if !ok {
		return Entry{}, false
	}
	return *e, true
}

// ByInode returns the entries recorded for a device and inode, newest first.
func (r *Registry) ByInode(dev, ino uint64) []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Entry
	for _, e := range r.entries {
		if e.Dev == dev && e.Ino == ino {
			out = append(out, *e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Updated.After(out[j].Updated) })
	return out
}

// Entries returns a copy of every entry.
func (r *Registry) Entries() []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Entry, 0, len(r.entries))
	for _, e := range r.entries {
		out = append(out, *e)
	}
	return out
}

// Ack records that every byte of the identity before offset is acknowledged.
func (r *Registry) Ack(id fileID, path string, offset int64, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entries[id.String()]
	if e == nil {
		e = &Entry{ID: id.String(), Dev: id.Dev, Ino: id.Ino, FP: id.FP, FPLen: id.FPLen}
		r.entries[e.ID] = e
	}
	if offset > e.Offset {
		e.Offset = offset
	}
	e.Path = path
	e.Updated = now
}

// MarkDone records that the identity was read and acknowledged to its end.
func (r *Registry) MarkDone(id string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.entries[id]; e != nil {
		e.Done = true
		e.Updated = now
	}
}

// SavedAt is when the registry was last written.
func (r *Registry) SavedAt() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.saved
}

// Save writes the registry atomically: a temp file in the same directory,
// fsynced, renamed over the old one, and the directory fsynced, so a crash
// leaves either the old or the new checkpoint, never a torn one.
func (r *Registry) Save(now time.Time) error {
	r.mu.Lock()
	f := registryFile{Version: registryVersion}
	for id, e := range r.entries {
		if r.ttl > 0 && now.Sub(e.Updated) > r.ttl {
			delete(r.entries, id)
			continue
		}
		c := *e
		f.Entries = append(f.Entries, &c)
	}
	r.mu.Unlock()
	sort.Slice(f.Entries, func(i, j int) bool { return f.Entries[i].ID < f.Entries[j].ID })
	b, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	dir := filepath.Dir(r.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(r.path)+".tmp*")
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("registry write: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("registry fsync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	if err := os.Rename(tmp.Name(), r.path); err != nil {
		return fmt.Errorf("registry rename: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	r.mu.Lock()
	r.saved = now
	r.mu.Unlock()
	return nil
}
