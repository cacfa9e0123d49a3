package main

import (
	"context"
	"errors"
)

// Temporary stub: replaced by the helper that builds "explain".
func runExplain(ctx context.Context, e *env, args []string) error {
	return errors.New("explain: not built yet")
}
