package consume

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/culprit-dev/culprit/analyzer"
	"github.com/culprit-dev/culprit/analyzer/clickhouse"
	"github.com/culprit-dev/culprit/parser"
)

// CorrelateConfig turns on the streaming correlation: the parse stage
// re-produces the events that can matter to an incident (5xx, proxy errors,
// upstream events) onto Topic, keyed by service, and a correlator consumes
// Topic in its own group, so one correlator sees all evidence of a service.
type CorrelateConfig struct {
	Enabled bool   `yaml:"enabled"`
	Topic   string `yaml:"topic"`
	Group   string `yaml:"group"`
	// Idle is how long the correlator waits without evidence before it
	// advances its clock with the wall clock, closing what is quiet.
	Idle Duration `yaml:"idle"`
	// Lateness is how far out of event-time order evidence may arrive
	// (analyzer default 10s). Raise it when backfilling old files: their
	// partitions are read at different speeds.
	Lateness Duration `yaml:"lateness"`
	// Topology is the path of the services file (docs/incidents.md) that
	// maps every event to a service: the events topic is keyed by it, so
	// several correlators share the work. "" keeps one key per
	// label.service (one correlator does all the work).
	Topology string `yaml:"topology"`
}

// LoadTopology reads the correlate.topology file; nil when none is set.
func (c CorrelateConfig) LoadTopology() (*analyzer.Topology, error) {
	if c.Topology == "" {
		return nil, nil
	}
	f, err := os.Open(c.Topology)
	if err != nil {
		return nil, fmt.Errorf("correlate.topology: %w", err)
	}
	defer f.Close()
	t, err := analyzer.ParseTopology(f)
	if err != nil {
		return nil, fmt.Errorf("correlate.topology %s: %w", c.Topology, err)
	}
	return t, nil
}

// EvidenceRecord is the value of an events-topic record: the parsed event,
// its line and the line's identity (for dedup of re-deliveries).
type EvidenceRecord struct {
	Event   parser.Event `json:"event"`
	Line    string       `json:"line"`
	Path    string       `json:"path"`
	Host    string       `json:"host"`
	Service string       `json:"service"`
	FileID  string       `json:"file_id"`
	Offset  int64        `json:"offset"`
}

// eventKey is the partitioning key of an events-topic record: all the
// evidence one incident rests on must share it, since only one correlator
// sees a partition.
//
// Without a topology it is the source's label.service, or one shared key:
// one correlator then sees everything, which is correct (the engine infers
// services itself) but does not scale past one correlator.
//
// With a topology, an event of a known service is keyed by the service.
// The others fall back to where their evidence must meet anyway: a 5xx and
// its error line by the upstream they name (nginx names the same one in
// both), an upstream-side event by the host it happened on. A loopback or
// unix-socket upstream runs on the proxy's own host, so proxy events naming
// one are keyed by that host and meet the app, supervisor and kernel lines
// of the same machine (the single-host case keeps working without naming
// every service). A remote upstream (10.0.0.3:4000) and the OOM kill on
// its host (app-3) only meet when the topology names them as one service:
// nothing in either line ties the address to the machine.
func eventKey(topo *analyzer.Topology, ev *parser.Event, host, label string) []byte {
	if topo == nil {
		if label == "" {
			return []byte("-")
		}
		return []byte(label)
	}
	if s := topo.ServiceKey(ev, host); s != "" {
		return []byte("service:" + s)
	}
	up := ""
	switch ev.Kind {
	case parser.KindRequest:
		for i := len(ev.UpstreamAddr) - 1; i >= 0 && up == ""; i-- {
			up = analyzer.NormalizeUpstream(ev.UpstreamAddr[i])
		}
	case parser.KindProxyError:
		up = analyzer.NormalizeUpstream(ev.Upstream)
	default:
		// An app's own "listening on :4000" is about its host's loopback.
		return []byte("host:" + host)
	}
	if up == "" || strings.HasPrefix(up, "unix:") || strings.HasPrefix(up, "127.") || strings.HasPrefix(up, "[::1]") {
		// nginx answered itself (rate limit, DNS failure before any
		// address) or the upstream is local: the 5xx, its error line and
		// the app's lines all come from this host.
		return []byte("host:" + host)
	}
	return []byte("upstream:" + up)
}

// IncidentWriter stores incident revisions; *clickhouse.Store is one.
type IncidentWriter interface {
	WriteIncidents(ctx context.Context, incs []analyzer.Incident, now time.Time) error
}

// Correlator consumes the events topic, runs the analyzer engine and
// upserts incidents. Offsets are committed only for evidence the engine no
// longer needs (older than its watermark minus retention): after a restart
// it re-reads what open incidents rest on and rebuilds them with the same
// ids.
type Correlator struct {
	fetch   Fetcher
	store   IncidentWriter
	eng     *analyzer.Engine
	cfg     Config
	engCfg  analyzer.Config
	log     *slog.Logger
	seen    map[string]time.Time // line identity -> event time, for dedup
	fifo    []fifoItem           // fetched, not yet committed
	Written atomic.Uint64        // incident revisions stored
	Events  atomic.Uint64        // evidence records consumed (after dedup)
	// maxEvent is the newest event time consumed, lastEvidence when (wall
	// clock) evidence last came.
	maxEvent, lastEvidence time.Time
	notify                 *Notifier
	// open holds the start of each incident last written open: its
	// evidence stays uncommitted, so a correlator taking over after a crash
	// re-reads all of it and rebuilds the same incident.
	open map[string]time.Time
}

// LinkWriter stores request links; *clickhouse.Store is one.
type LinkWriter interface {
	WriteRequestLinks(ctx context.Context, links []clickhouse.RequestLink, now time.Time) error
}

// idle moves the engine's clock when no evidence came for a while. Live
// evidence (event time near the wall clock): event time follows the wall
// clock, so quiet incidents close (evidence that comes later still revises
// them). A backfill (old files shipped now): once the input has caught up,
// what was read is complete and is flushed; the wall clock would put it all
// behind the watermark at once. "Caught up" needs silence longer than a
// rebalance: the partitions of a killed analyzer stall for the group's
// session timeout, and flushing then would close incidents without the
// evidence those partitions still hold.
func (c *Correlator) idle() {
	if c.maxEvent.IsZero() {
		return
	}
	d := analyzer.DefaultConfig()
	live := time.Since(c.maxEvent) < c.engCfg.Lateness+d.Gap+d.After
	c.log.Debug("correlator idle", "live", live, "newest_event", c.maxEvent, "watermark", c.eng.Watermark())
	if live {
		c.eng.Advance(time.Now().Add(-c.engCfg.Lateness))
		return
	}
	if time.Since(c.lastEvidence) < c.cfg.Kafka.SessionTimeout.D()+c.cfg.Correlate.Idle.D() {
		return
	}
	c.eng.Flush()
}

type fifoItem struct {
	t time.Time
	m kafka.Message
}

// NewCorrelator wires a correlator; engCfg configures the engine.
func NewCorrelator(f Fetcher, w IncidentWriter, cfg Config, engCfg analyzer.Config, log *slog.Logger) (*Correlator, error) {
	engCfg.EmitOpen = true
	if engCfg.Lateness == 0 {
		engCfg.Lateness = cfg.Correlate.Lateness.D()
	}
	eng, err := analyzer.New(engCfg)
	if err != nil {
		return nil, err
	}
	d := analyzer.DefaultConfig()
	if engCfg.Retention == 0 {
		engCfg.Retention = d.Retention
	}
	if engCfg.Lateness == 0 {
		engCfg.Lateness = d.Lateness
	}
	if _, ok := w.(LinkWriter); ok {
		// The engine reports which class and incident each 5xx got, for
		// request_links.
		eng.EmitLinks()
	}
	return &Correlator{fetch: f, store: w, eng: eng, cfg: cfg, engCfg: engCfg, log: log, seen: map[string]time.Time{},
		notify: NewNotifier(cfg.Webhooks, log), open: map[string]time.Time{}}, nil
}

// flushEvery bounds the delay between evidence and its incident row.
const flushEvery = time.Second

// Run correlates until ctx is cancelled.
func (c *Correlator) Run(ctx context.Context) error {
	idle := c.cfg.Correlate.Idle.D()
	lastFlush := time.Now()
	for {
		fctx, cancel := context.WithTimeout(ctx, idle)
		m, err := c.fetch.FetchMessage(fctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			c.idle()
			if err := c.flush(ctx); err != nil {
				return err
			}
			lastFlush = time.Now()
			continue
		}
		var rec EvidenceRecord
		if err := json.Unmarshal(m.Value, &rec); err != nil {
			c.log.Warn("events topic: undecodable record skipped", "partition", m.Partition, "offset", m.Offset, "err", err)
			c.fifo = append(c.fifo, fifoItem{time.Time{}, m})
			continue
		}
		c.add(&rec)
		c.fifo = append(c.fifo, fifoItem{rec.Event.Time, m})
		// Under steady load the fetch never idles: flushing by count alone
		// wrote incidents in waves of tens of seconds. A second bounds how
		// long an opened incident waits for its row.
		if len(c.fifo)%1024 == 0 || time.Since(lastFlush) >= flushEvery {
			if err := c.flush(ctx); err != nil {
				return err
			}
			lastFlush = time.Now()
		}
	}
}

// add gives the engine a piece of evidence it has not seen (a re-delivered
// line is skipped by its identity).
func (c *Correlator) add(rec *EvidenceRecord) {
	id := rec.FileID + "@" + strconv.FormatInt(rec.Offset, 10)
	if _, dup := c.seen[id]; dup {
		return
	}
	c.seen[id] = rec.Event.Time
	c.Events.Add(1)
	if rec.Event.Time.After(c.maxEvent) {
		c.maxEvent = rec.Event.Time
	}
	c.lastEvidence = time.Now()
	c.eng.AddOwned(&analyzer.Evidence{Event: rec.Event, Line: rec.Line,
		Origin: analyzer.Origin{Path: rec.Path, Host: rec.Host, FileID: rec.FileID, Offset: rec.Offset}})
}

// flush writes what the engine has to say, then commits the evidence it no
// longer needs and forgets old identities.
func (c *Correlator) flush(ctx context.Context) error {
	incs := c.eng.Drain()
	if len(incs) > 0 {
		now := time.Now()
		for i := range incs {
			// Versions must grow across restarts too (the engine's count
			// starts again at 1): the write time in ns does.
			incs[i].Version = int(now.UnixNano()) + i
		}
		backoff := c.cfg.Retry.Initial.D()
		for {
			err := c.store.WriteIncidents(ctx, incs, now)
			if err == nil {
				break
			}
			if clickhouse.IsPermanent(err) || ctx.Err() != nil {
				return fmt.Errorf("write incidents: %w", err)
			}
			c.log.Warn("clickhouse: writing incidents failed; retrying", "err", err)
			if !sleep(ctx, jitter(backoff)) {
				return nil
			}
			backoff = min(backoff*2, c.cfg.Retry.Max.D())
		}
		c.Written.Add(uint64(len(incs)))
		for _, in := range incs {
			if in.Open {
				c.open[in.ID] = in.Start
			} else {
				delete(c.open, in.ID)
			}
		}
		// After the store: a notification links to an incident that exists.
		c.notify.Notify(ctx, incs)
		for _, in := range incs {
			c.log.Info("incident written", "id", in.ID, "cause", in.Cause, "upstream", in.Upstream, "open", in.Open,
				"requests", in.Requests, "start", in.Start, "end", in.End)
		}
	}
	if lw, ok := c.store.(LinkWriter); ok {
		// After the incidents: a link never names an incident that is not
		// stored (the engine evaluated both together). Links of 5xx in no
		// incident come without one. A failure is retried like the
		// incidents'.
		now := time.Now()
		links := requestLinks(c.eng.DrainLinks(), uint64(now.UnixNano()))
		backoff := c.cfg.Retry.Initial.D()
		for len(links) > 0 {
			err := lw.WriteRequestLinks(ctx, links, now)
			if err == nil {
				break
			}
			if clickhouse.IsPermanent(err) || ctx.Err() != nil {
				return fmt.Errorf("write request links: %w", err)
			}
			c.log.Warn("clickhouse: writing request links failed; retrying", "err", err)
			if !sleep(ctx, jitter(backoff)) {
				return nil
			}
			backoff = min(backoff*2, c.cfg.Retry.Max.D())
		}
	}
	horizon := c.eng.Watermark().Add(-c.engCfg.Retention)
	before := c.engCfg.Before
	if before == 0 {
		before = analyzer.DefaultConfig().Before
	}
	for _, start := range c.open {
		// Upstream-side causes come up to Before ahead of the first 5xx.
		if t := start.Add(-before); t.Before(horizon) {
			horizon = t
		}
	}
	n := 0
	last := map[int]kafka.Message{}
	for n < len(c.fifo) && c.fifo[n].t.Before(horizon) {
		last[c.fifo[n].m.Partition] = c.fifo[n].m
		n++
	}
	if n > 0 {
		msgs := make([]kafka.Message, 0, len(last))
		for _, m := range last {
			msgs = append(msgs, m)
		}
		if err := c.fetch.CommitMessages(ctx, msgs...); err != nil {
			c.log.Warn("events topic: commit failed; will retry", "err", err)
		} else {
			c.fifo = append(c.fifo[:0], c.fifo[n:]...)
		}
	}
	for id, t := range c.seen {
		if t.Before(horizon) {
			delete(c.seen, id)
		}
	}
	return nil
}
