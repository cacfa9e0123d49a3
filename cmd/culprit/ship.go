package main

import (
	"context"
	"errors"
)

// Temporary stub: replaced by the helper that builds "ship".
func runShip(ctx context.Context, e *env, args []string) error {
	return errors.New("ship: not built yet")
}
