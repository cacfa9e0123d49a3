package main

import (
	"context"
	"errors"
)

// Temporary stub: replaced by the helper that builds "analyze".
func runAnalyze(ctx context.Context, e *env, args []string) error {
	return errors.New("analyze: not built yet")
}
