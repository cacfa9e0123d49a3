// Command culprit tells the people who run reverse proxies why their users got
// 502/503/504, and what to fix. Each subcommand lives in its own file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand: it parses its own flags from args and reports
// failure as an error; only main turns that into an exit status.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what a subcommand may touch of the process, so tests can run
// subcommands in-process with their own streams.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	logger *slog.Logger
}

func commands() []command {
	return []command{
		{"parse", "parse log lines from stdin into JSON events", runParse},
		{"explain", "name the root cause of 5xx incidents in local log files", runExplain},
		{"ship", "tail log files and ship their lines to Kafka", runShip},
		{"analyze", "consume lines from Kafka, correlate, store in ClickHouse", runAnalyze},
		{"migrate", "create or upgrade the ClickHouse schema", runMigrate},
		{"serve", "serve the incident web UI", runServe},
	}
}

// errUsage marks a command-line mistake: exit status 2, like flag.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		logger: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	err := run(ctx, e, os.Args[1:])
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "culprit:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "culprit:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr)
		if len(args) == 0 {
			return fmt.Errorf("%w: no command given", errUsage)
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	usage(e.stderr)
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: culprit COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'culprit COMMAND -h' for a command's flags.")
}

// newFlagSet returns a FlagSet that reports errors instead of exiting.
func newFlagSet(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("culprit "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}
