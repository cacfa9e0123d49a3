package ingest

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/culprit-dev/culprit/parser"
)

// sourceState is a running source: its config, the values every record of
// it carries, and its metric handles (looked up once, not per line).
type sourceState struct {
	cfg      *Source
	name     string
	host     string
	bootTime time.Time
	log      *slog.Logger
	m        *Metrics

	linesRead, bytesRead, linesAcked, bytesAcked prometheus.Counter
	truncatedLines, truncations                  prometheus.Counter
	invalid                                      *prometheus.CounterVec
}

func (sh *Shipper) newSourceState(cfg *Source) *sourceState {
	n := cfg.Name
	s := &sourceState{cfg: cfg, name: n, host: sh.host, m: sh.m,
		log:            sh.log.With("source", n),
		linesRead:      sh.m.linesRead.WithLabelValues(n),
		bytesRead:      sh.m.bytesRead.WithLabelValues(n),
		linesAcked:     sh.m.linesAcked.WithLabelValues(n),
		bytesAcked:     sh.m.bytesAcked.WithLabelValues(n),
		truncatedLines: sh.m.truncatedLines.WithLabelValues(n),
		truncations:    sh.m.truncations.WithLabelValues(n),
		invalid:        sh.m.invalid,
	}
	if cfg.Type == TypeKmsg || cfg.Kind == string(parser.SourceKernel) {
		bt, err := bootTimeFromProcStat()
		if err != nil {
			s.log.Warn("boot time unknown; kernel timestamps stay relative to boot", "err", err)
		}
		s.bootTime = bt
	}
	return s
}

// errorf logs a source problem and counts it by reason.
func (s *sourceState) errorf(log *slog.Logger, reason, format string, a ...any) {
	s.m.sourceErrors.WithLabelValues(s.name, reason).Inc()
	log.Error(fmt.Sprintf(format, a...), "reason", reason)
}

// problem reports a per-path problem once while it persists (scans repeat
// every second; the log must not).
func (s *sourceState) problem(seen map[string]string, path, reason, msg string) {
	if seen[path] == reason+msg {
		return
	}
	seen[path] = reason + msg
	s.errorf(s.log.With("path", path), reason, "%s; other sources keep flowing, retrying every scan", msg)
}

// matches reports whether path is one of the source's globs.
func (s *sourceState) matches(path string) bool {
	for _, p := range s.cfg.Paths {
		if ok, _ := filepath.Match(p, path); ok {
			return true
		}
	}
	return false
}
