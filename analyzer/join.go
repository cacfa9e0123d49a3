package analyzer

import (
	"slices"
	"time"
)

// joinIndex holds one side of the access-line/error-line join until its
// partner arrives or the entry expires: by nginx connection serial when the
// formats carry it, else by client + request line, both on the same proxy
// host (serials are per nginx instance, and two proxies serve the same
// clients).
type joinIndex[T comparable] struct {
	byCID map[cidKey][]joinEntry[T]
	byKey map[string][]joinEntry[T]
	queue []joinEntry[T] // insertion order, for expiry
	head  int
}

type cidKey struct {
	host string
	cid  int64
}

type joinEntry[T comparable] struct {
	t   time.Time
	cid cidKey
	key string
	v   T
}

func newJoinIndex[T comparable]() joinIndex[T] {
	return joinIndex[T]{byCID: map[cidKey][]joinEntry[T]{}, byKey: map[string][]joinEntry[T]{}}
}

// put adds v, logged at t on host. key is joinKey's (it includes the
// host), "" when the line has no client or request.
func (j *joinIndex[T]) put(host string, cid int64, key string, v T, t time.Time) {
	if cid <= 0 && key == "" {
		return
	}
	en := joinEntry[T]{t: t, cid: cidKey{host, cid}, key: key, v: v}
	if cid > 0 {
		j.byCID[en.cid] = append(j.byCID[en.cid], en)
	}
	if key != "" {
		j.byKey[key] = append(j.byKey[key], en)
	}
	j.queue = append(j.queue, en)
}

// take removes the entry that belongs with a line logged at t and returns
// it. On the same connection serial first: a kept-alive connection serves
// many requests one after the other, so an entry that quotes another
// request line is not a candidate, and of the others the closest in time
// wins (the latest on a tie: nginx logs a request's final failure last).
// Else the closest entry of the same client + request line without a serial
// of its own (two different serials are two connections). With all, the
// other candidates on the connection go too: they are the earlier failures
// of the same request (each upstream server nginx tried).
func (j *joinIndex[T]) take(host string, cid int64, key string, t time.Time, all bool, ok func(T) bool) (T, bool) {
	var zero T
	if cid > 0 {
		ck := cidKey{host, cid}
		best, found := -1, 0
		var bestD time.Duration
		list := j.byCID[ck]
		for i, en := range list {
			if en.key != "" && key != "" && en.key != key || !ok(en.v) {
				continue
			}
			found++
			if d := en.t.Sub(t).Abs(); best < 0 || d <= bestD {
				best, bestD = i, d
			}
		}
		if best >= 0 {
			v := list[best]
			if all && found > 1 {
				var others []joinEntry[T]
				for i, en := range list {
					if i != best && (en.key == "" || key == "" || en.key == key) && ok(en.v) {
						others = append(others, en)
					}
				}
				for _, en := range others {
					j.remove(en)
				}
			}
			j.remove(v)
			return v.v, true
		}
	}
	if key == "" {
		return zero, false
	}
	best := -1
	var bestD time.Duration
	list := j.byKey[key]
	for i, en := range list {
		if (cid <= 0 || en.cid.cid <= 0) && ok(en.v) {
			if d := en.t.Sub(t).Abs(); best < 0 || d <= bestD {
				best, bestD = i, d
			}
		}
	}
	if best < 0 {
		return zero, false
	}
	en := list[best]
	j.remove(en)
	return en.v, true
}

func (j *joinIndex[T]) remove(en joinEntry[T]) {
	if en.cid.cid > 0 {
		drop(j.byCID, en.cid, en.v)
	}
	if en.key != "" {
		drop(j.byKey, en.key, en.v)
	}
}

// drop removes v from m[k]. Lines of one second come in order and pair in
// order, so the entry is most often the oldest or the newest of its list:
// those are taken without scanning (a popular request line from one client,
// a load balancer's, makes long lists).
func drop[K comparable, T comparable](m map[K][]joinEntry[T], k K, v T) {
	l := m[k]
	i := -1
	switch {
	case len(l) == 0:
		return
	case l[0].v == v:
		i = 0
	case l[len(l)-1].v == v:
		i = len(l) - 1
	default:
		i = slices.IndexFunc(l, func(x joinEntry[T]) bool { return x.v == v })
	}
	switch {
	case i < 0:
	case len(l) == 1:
		delete(m, k)
	case i == 0:
		l[0] = joinEntry[T]{}
		m[k] = l[1:]
	default:
		m[k] = slices.Delete(l, i, i+1)
	}
}

// expire drops entries older than before. Entries arrive roughly in time
// order; one that is out of order merely lives a little longer.
func (j *joinIndex[T]) expire(before time.Time) {
	for j.head < len(j.queue) && j.queue[j.head].t.Before(before) {
		j.remove(j.queue[j.head])
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
