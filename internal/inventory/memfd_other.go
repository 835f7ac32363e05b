//go:build !linux

package inventory

import "io"

// memFile has no anonymous in-memory files to offer off Linux: path is ""
// and the caller falls back to a private temporary file.
func memFile(string, io.Reader) (path string, cleanup func(), n int64, err error) {
	return "", nil, 0, nil
}
