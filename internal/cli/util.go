package cli

import (
	"path/filepath"
	"strconv"
)

func fileName(p string) string { return filepath.Base(p) }

func itoa(i int) string { return strconv.Itoa(i) }
