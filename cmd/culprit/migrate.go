package main

import (
	"context"
	"errors"
)

// Temporary stub: replaced by the helper that builds "migrate".
func runMigrate(ctx context.Context, e *env, args []string) error {
	return errors.New("migrate: not built yet")
}
