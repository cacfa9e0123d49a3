package main

import (
	"context"
	"errors"
)

func runParse(ctx context.Context, e *env, args []string) error { return errors.New("parse: not built yet") }
