package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"

	"github.com/culprit-dev/culprit/analyzer"
	"github.com/culprit-dev/culprit/analyzer/clickhouse"
	"github.com/culprit-dev/culprit/analyzer/consume"
)

// runAnalyze consumes shipped lines from Kafka and stores their events in
// ClickHouse, committing offsets only after the rows are stored.
func runAnalyze(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "analyze")
	cfgPath := fs.String("config", "", "analyze.yaml (defaults apply when omitted)")
	brokers := fs.String("brokers", "", "Kafka bootstrap brokers, comma-separated (overrides kafka.brokers)")
	chAddr := fs.String("clickhouse", "", "ClickHouse native host:port (overrides clickhouse.addr)")
	database := fs.String("database", "", "ClickHouse database (overrides clickhouse.database)")
	group := fs.String("group", "", "consumer group (overrides kafka.group)")
	topic := fs.String("topic", "", "lines topic (overrides kafka.topic)")
	listen := fs.String("listen", "", "address for /metrics and /healthz (overrides listen)")
	pprof := fs.Bool("pprof", false, "also serve /debug/pprof on the listen address (profiling a live analyzer)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: analyze takes no arguments, got %q", errUsage, fs.Args())
	}
	cfg := consume.DefaultConfig()
	if *cfgPath != "" {
		var err error
		if cfg, err = consume.LoadConfig(*cfgPath); err != nil {
			return err
		}
	}
	if *brokers != "" {
		cfg.Kafka.Brokers = strings.Split(*brokers, ",")
	}
	for dst, v := range map[*string]string{&cfg.ClickHouse.Addr: *chAddr, &cfg.ClickHouse.Database: *database,
		&cfg.Kafka.Group: *group, &cfg.Kafka.Topic: *topic, &cfg.Listen: *listen} {
		if v != "" {
			*dst = v
		}
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	// The batches hold no pointers, so the collector's cost is small at any
	// percent; what GOGC decides is the heap's headroom over the live batches
	// and Kafka read-ahead. scripts/bench/analyzer.sh: 50 instead of 100 cut
	// peak RSS from ~300 to ~235 MiB for the same CPU per line (25: ~200 MiB
	// and +8 % CPU). No soft limit: the live heap grows with batch.max_rows,
	// and a limit below it would make the collector run without pause.
	tuneGC(50, math.MaxInt64)
	return analyze(ctx, e.logger, cfg, *pprof, nil)
}

// analyze runs the pipeline until ctx is cancelled. ready, if set, gets
// the metrics address once it listens (tests use it).
func analyze(ctx context.Context, log *slog.Logger, cfg consume.Config, pprof bool, ready chan<- string) error {
	conn, err := openRetry(ctx, log, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	store := clickhouse.NewStore(conn, cfg.ClickHouse.Database)

	reader := kafka.NewReader(kafka.ReaderConfig{
		Brokers:           cfg.Kafka.Brokers,
		GroupID:           cfg.Kafka.Group,
		Topic:             cfg.Kafka.Topic,
		MinBytes:          1,
		MaxBytes:          cfg.Kafka.FetchMaxBytes,
		MaxWait:           250 * time.Millisecond,
		QueueCapacity:     cfg.Kafka.QueueCapacity,
		SessionTimeout:    cfg.Kafka.SessionTimeout.D(),
		HeartbeatInterval: cfg.Kafka.SessionTimeout.D() / 10,
		RebalanceTimeout:  cfg.Kafka.SessionTimeout.D(),
		// kafka-go waits 5 s between attempts to rejoin after the broker
		// went away; a second is enough and shortens outages.
		JoinGroupBackoff: time.Second,
		// Commit synchronously and only when asked: the consumer commits
		// after ClickHouse accepted the rows.
		CommitInterval: 0,
		StartOffset:    kafka.FirstOffset,
		// The analyzer may start before any shipper created the topic: a
		// group that joined a missing topic holds no partition until the
		// next rebalance, which watching the partition count triggers.
		WatchPartitionChanges:  true,
		PartitionWatchInterval: 5 * time.Second,
		ErrorLogger: kafka.LoggerFunc(func(f string, a ...any) {
			log.Warn("kafka: " + fmt.Sprintf(f, a...))
		}),
	})
	defer reader.Close()

	metrics := &consume.Metrics{}
	c := consume.New(reader, store, cfg, log, metrics)
	var correlated chan error
	corrCtx, stopCorrelator := context.WithCancel(ctx)
	defer stopCorrelator()
	if cfg.Correlate.Enabled {
		// Validated with the config; read again here so the running
		// process uses the file as it is now.
		topo, err := cfg.Correlate.LoadTopology()
		if err != nil {
			return err
		}
		c.WithTopology(topo)
		events := &kafka.Writer{Addr: kafka.TCP(cfg.Kafka.Brokers...), Topic: cfg.Correlate.Topic,
			// Keyed by service: one correlator sees all of a service's evidence.
			Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll, BatchSize: 1000,
			BatchTimeout: 5 * time.Millisecond, AllowAutoTopicCreation: true}
		defer events.Close()
		c.WithEvents(events)
		evReader := kafka.NewReader(kafka.ReaderConfig{Brokers: cfg.Kafka.Brokers, GroupID: cfg.Correlate.Group,
			Topic: cfg.Correlate.Topic, MinBytes: 1, MaxBytes: cfg.Kafka.FetchMaxBytes, MaxWait: 250 * time.Millisecond,
			CommitInterval: 0, StartOffset: kafka.FirstOffset,
			WatchPartitionChanges: true, PartitionWatchInterval: 5 * time.Second,
			SessionTimeout: cfg.Kafka.SessionTimeout.D(), HeartbeatInterval: cfg.Kafka.SessionTimeout.D() / 10,
			RebalanceTimeout: cfg.Kafka.SessionTimeout.D(), JoinGroupBackoff: time.Second})
		defer evReader.Close()
		corr, err := consume.NewCorrelator(evReader, store, cfg, analyzer.Config{Topology: topo}, log)
		if err != nil {
			return err
		}
		correlated = make(chan error, 1)
		go func() { correlated <- corr.Run(corrCtx) }()
	}

	var srv *http.Server
	if cfg.Listen != "" {
		ln, err := net.Listen("tcp", cfg.Listen)
		if err != nil {
			return fmt.Errorf("analyze: listen %s: %w", cfg.Listen, err)
		}
		var h http.Handler = consume.Handler(metrics, store, func() int64 { return reader.Stats().Lag }, c.Healthy)
		if pprof {
			// Opt-in: profiles reveal what the process holds and cost CPU
			// while they run.
			mux := http.NewServeMux()
			mux.Handle("/", h)
			mux.HandleFunc("/debug/pprof/", httppprof.Index)
			mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
			h = mux
		}
		srv = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics server", "err", err)
			}
		}()
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			srv.Shutdown(sctx)
		}()
		if ready != nil {
			ready <- ln.Addr().String()
		}
	} else if ready != nil {
		ready <- ""
	}
	log.Info("analyze: consuming", "brokers", cfg.Kafka.Brokers, "topic", cfg.Kafka.Topic, "group", cfg.Kafka.Group,
		"clickhouse", cfg.ClickHouse.Addr, "database", cfg.ClickHouse.Database, "listen", cfg.Listen)
	err = c.Run(ctx)
	// The consumer has stored and committed what it held; stop the
	// correlator too (it also stops when the consumer failed).
	stopCorrelator()
	if correlated != nil {
		if cerr := <-correlated; cerr != nil && err == nil {
			err = cerr
		}
	}
	log.Info("analyze: stopped", "records", metrics.Messages.Load(), "stored", metrics.StoredLines.Load(), "err", err)
	return err
}

// openRetry connects to ClickHouse, waiting out an outage at startup.
func openRetry(ctx context.Context, log *slog.Logger, cfg consume.Config) (conn driver.Conn, err error) {
	backoff := cfg.Retry.Initial.D()
	for {
		conn, err = clickhouse.Open(ctx, clickhouse.ConnConfig{Addr: cfg.ClickHouse.Addr, User: cfg.ClickHouse.User,
			Password: cfg.ClickHouse.Password})
		if err == nil {
			return conn, nil
		}
		log.Warn("clickhouse unavailable; retrying", "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("analyze: %w", err)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, cfg.Retry.Max.D())
	}
}
