package main

import (
	"context"
	"errors"
)

// Temporary stub: replaced by the helper that builds "serve".
func runServe(ctx context.Context, e *env, args []string) error {
	return errors.New("serve: not built yet")
}
