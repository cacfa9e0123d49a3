package parser

// Temporary stub: the access-log helper replaces this file.

import (
	"errors"
	"time"
)

type AccessFormat struct{}

func CompileAccessFormat(format string) (*AccessFormat, error) { return &AccessFormat{}, nil }

func (f *AccessFormat) Parse(line []byte, loc *time.Location, ev *Event) error {
	return errors.New("access parser not built yet")
}

func looksLikeAccess(line []byte) bool { return false }
