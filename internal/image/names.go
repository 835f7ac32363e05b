package image

import (
	"fmt"
	"unsafe"
)

// arena holds the names of a walk's entries end to end in large chunks,
// so that a name costs its bytes and nothing else (a string of its own
// would cost a header and a rounded-up allocation), and bounds them all.
type arena struct {
	chunk []byte
	total int64
}

const (
	arenaChunk = 64 << 10
	// maxNameBytes bounds the names and link targets of one image. A
	// million entries of real images take 15-30 MiB; more is a hostile
	// image.
	maxNameBytes = 256 << 20
	// maxComponent is NAME_MAX: no filesystem takes a longer name, so a
	// layer that holds one cannot be extracted anywhere.
	maxComponent = 255
)

// charge counts n bytes of names stored elsewhere (a directory's path).
func (a *arena) charge(n int) error {
	if a.total += int64(n); a.total > maxNameBytes {
		return fmt.Errorf("the names in the image's layers exceed %s: %w", humanBytes(maxNameBytes), ErrLimit)
	}
	return nil
}

// store copies name (and "\x00" + link when link is set) into the arena
// and returns where it is.
func (a *arena) store(name, link string, hasLink bool) (unsafe.Pointer, int, error) {
	n := len(name)
	if hasLink {
		n += 1 + len(link)
	}
	if err := a.charge(n); err != nil {
		return nil, 0, err
	}
	if n == 0 {
		return nil, 0, nil
	}
	if len(a.chunk)+n > cap(a.chunk) {
		a.chunk = make([]byte, 0, max(arenaChunk, n))
	}
	start := len(a.chunk)
	a.chunk = append(a.chunk, name...)
	if hasLink {
		a.chunk = append(a.chunk, 0)
		a.chunk = append(a.chunk, link...)
	}
	return unsafe.Pointer(&a.chunk[start]), n, nil
}
