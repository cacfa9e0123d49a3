package analyzer

import (
	"slices"
	"time"
)

// joinIndex holds one side of the access-line/error-line join until its
// partner arrives or the entry expires: by nginx connection serial when the
// formats carry it, else by client + request line.
type joinIndex[T comparable] struct {
	byCID map[int64][]joinEntry[T]
	byKey map[string][]joinEntry[T]
	queue []joinEntry[T] // insertion order, for expiry
	head  int
}

type joinEntry[T comparable] struct {
	t   time.Time
	cid int64
	key string
	v   T
}

func newJoinIndex[T comparable]() joinIndex[T] {
	return joinIndex[T]{byCID: map[int64][]joinEntry[T]{}, byKey: map[string][]joinEntry[T]{}}
}

func (j *joinIndex[T]) put(cid int64, key string, v T, t time.Time) {
	if cid <= 0 && key == "" {
		return
	}
	en := joinEntry[T]{t: t, cid: cid, key: key, v: v}
	if cid > 0 {
		j.byCID[cid] = append(j.byCID[cid], en)
	}
	if key != "" {
		j.byKey[key] = append(j.byKey[key], en)
	}
	j.queue = append(j.queue, en)
}

// take removes and returns the entries that match: every entry of the same
// connection serial, else the first entry of the same client + request
// (without a serial of its own: two different serials are two connections).
func (j *joinIndex[T]) take(cid int64, key string, ok func(T) bool) []T {
	var out []T
	if cid > 0 {
		var taken []joinEntry[T]
		for _, en := range j.byCID[cid] {
			if ok(en.v) {
				taken = append(taken, en)
			}
		}
		for _, en := range taken {
			j.remove(en.cid, en.key, en.v)
			out = append(out, en.v)
		}
		if len(out) > 0 {
			return out
		}
	}
	if key == "" {
		return nil
	}
	for _, en := range j.byKey[key] {
		if (cid <= 0 || en.cid <= 0) && ok(en.v) {
			j.remove(en.cid, key, en.v)
			return []T{en.v}
		}
	}
	return nil
}

func (j *joinIndex[T]) remove(cid int64, key string, v T) {
	match := func(en joinEntry[T]) bool { return en.v == v }
	if cid > 0 {
		if l := slices.DeleteFunc(j.byCID[cid], match); len(l) == 0 {
			delete(j.byCID, cid)
		} else {
			j.byCID[cid] = l
		}
	}
	if key != "" {
		if l := slices.DeleteFunc(j.byKey[key], match); len(l) == 0 {
			delete(j.byKey, key)
		} else {
			j.byKey[key] = l
		}
	}
}

// expire drops entries older than before. Entries arrive roughly in time
// order; one that is out of order merely lives a little longer.
func (j *joinIndex[T]) expire(before time.Time) {
	for j.head < len(j.queue) && j.queue[j.head].t.Before(before) {
		en := j.queue[j.head]
		j.remove(en.cid, en.key, en.v)
		var zero joinEntry[T]
		j.queue[j.head] = zero
		j.head++
	}
	if j.head > 1024 && j.head*2 > len(j.queue) {
		j.queue = append(j.queue[:0], j.queue[j.head:]...)
		j.head = 0
	}
}

func (j *joinIndex[T]) len() int { return len(j.queue) - j.head }
