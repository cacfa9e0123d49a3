package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/culprit-dev/culprit/ingest"
	"github.com/culprit-dev/culprit/ingest/kafka"
)

// runShip tails the configured sources into Kafka until SIGINT/SIGTERM;
// SIGHUP re-reads the config (a stop that flushes and checkpoints, then a
// start with the new config: the registry carries the positions over).
func runShip(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "ship")
	cfgPath := fs.String("config", "/etc/culprit/ship.yaml", "path of ship.yaml")
	check := fs.Bool("check", false, "validate the config and exit")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file until exit (performance work)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: ship takes no arguments, got %q", errUsage, fs.Arg(0))
	}
	cfg, err := ingest.LoadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *check {
		fmt.Fprintf(e.stdout, "%s: ok (%d sources, topic %s)\n", *cfgPath, len(cfg.Sources), cfg.Kafka.Topic)
		return nil
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("ship: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("ship: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	// Measured with scripts/bench/shipper.sh: at Go's default GOGC=100 the
	// collector took about a fifth of the CPU (a record per line); 150 cut
	// CPU per line by ~15 %. The soft limit keeps the RSS under 50 MB at
	// full speed: with 40 MiB the peak was 52 MB once batches were encoded
	// in one buffer (faster, so more in flight between collections), with
	// 30 MiB 44 MB at the same CPU per line. The runtime caps its GC work
	// when live memory exceeds the limit (many files, huge groups).
	tuneGC(150, 30<<20)
	log := e.logger
	metrics := ingest.NewMetrics(nil)
	if cfg.Metrics != "" {
		ln, err := net.Listen("tcp", cfg.Metrics)
		if err != nil {
			return fmt.Errorf("ship: metrics listener: %w", err)
		}
		srv := &http.Server{Handler: metrics.Handler(), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		log.Info("metrics and health", "addr", ln.Addr().String())
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		prod, err := kafka.NewProducer(cfg.Kafka)
		if err != nil {
			return err
		}
		sh, err := ingest.New(cfg, prod, ingest.Options{Logger: log, Metrics: metrics, Stdin: e.stdin})
		if err != nil {
			prod.Close()
			return err
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- sh.Run(runCtx) }()
		log.Info("shipping", "sources", len(cfg.Sources), "brokers", cfg.Kafka.Brokers, "topic", cfg.Kafka.Topic)
		var next *ingest.Config
		for next == nil {
			select {
			case err := <-done:
				cancel()
				return errors.Join(err, prod.Close())
			case <-hup:
				c, err := ingest.LoadConfig(*cfgPath)
				if err != nil {
					log.Error("reload failed; keeping the running config", "err", err)
					continue
				}
				if c.Metrics != cfg.Metrics {
					log.Warn("metrics address changes need a restart", "running", cfg.Metrics)
				}
				next = c
			}
		}
		log.Info("reloading config", "config", *cfgPath)
		cancel()
		err = errors.Join(<-done, prod.Close())
		if err != nil {
			return err
		}
		cfg = next
	}
}
