package analyzer

import (
	"sort"
	"strconv"
	"time"

	"github.com/culprit-dev/culprit/parser"
)

// OffsetSampler finds the zone error-log times were written in. nginx writes
// its error log in local time without a zone but its access log with one
// ($time_local carries the offset), so the same request seen in both tells
// how far the assumed zone is off. It joins by connection serial (or client +
// request) with no time window, keeps a bounded sample, and works whichever
// file is read first.
type OffsetSampler struct {
	errs   map[string]time.Time
	reqs   map[string]time.Time
	deltas []time.Duration
}

const (
	samplerCap   = 20000
	samplerDelta = 400
)

// NewOffsetSampler returns an empty sampler.
func NewOffsetSampler() *OffsetSampler {
	return &OffsetSampler{errs: map[string]time.Time{}, reqs: map[string]time.Time{}}
}

func sampleKey(cid int64, client, request string) string {
	if cid > 0 {
		return "#" + strconv.FormatInt(cid, 10)
	}
	return requestKey(client, request)
}

// Observe looks at one event (only error-log lines and failed requests
// matter; everything else returns at once).
func (s *OffsetSampler) Observe(ev *parser.Event) {
	switch ev.Kind {
	case parser.KindProxyError:
		s.addErr(sampleKey(ev.CID, ev.Client, ev.Request), ev.Time)
	case parser.KindRequest:
		if ev.Status >= 400 {
			s.addReq(sampleKey(ev.CID, ev.Client, requestLine(ev)), ev.Time)
		}
	}
}

func (s *OffsetSampler) addErr(k string, t time.Time) {
	if k == "" || len(s.deltas) >= samplerDelta {
		return
	}
	if rt, ok := s.reqs[k]; ok {
		s.deltas = append(s.deltas, rt.Sub(t))
		delete(s.reqs, k)
		return
	}
	if len(s.errs) < samplerCap {
		s.errs[k] = t
	}
}

func (s *OffsetSampler) addReq(k string, t time.Time) {
	if k == "" || len(s.deltas) >= samplerDelta {
		return
	}
	if et, ok := s.errs[k]; ok {
		s.deltas = append(s.deltas, t.Sub(et))
		delete(s.errs, k)
		return
	}
	if len(s.reqs) < samplerCap {
		s.reqs[k] = t
	}
}

// Merge joins what another sampler saw (one per file read concurrently).
func (s *OffsetSampler) Merge(o *OffsetSampler) {
	s.deltas = append(s.deltas, o.deltas...)
	for k, t := range o.errs {
		s.addErr(k, t)
	}
	for k, t := range o.reqs {
		s.addReq(k, t)
	}
}

// Shift returns how far the error-log times are behind the access-log times
// of the same requests, rounded to the quarter hour zones come in, and how
// many pairs agree on it. A shift of zero means the assumed zone is right;
// ok is false when there were too few pairs or they disagree.
func (s *OffsetSampler) Shift() (shift time.Duration, pairs int, ok bool) {
	if len(s.deltas) < 3 {
		return 0, len(s.deltas), false
	}
	r := make([]time.Duration, len(s.deltas))
	for i, d := range s.deltas {
		r[i] = d.Round(15 * time.Minute)
	}
	sort.Slice(r, func(i, j int) bool { return r[i] < r[j] })
	med := r[len(r)/2]
	agree := 0
	for _, d := range r {
		if d == med {
			agree++
		}
	}
	return med, agree, agree*10 >= len(r)*8
}
