package fleet

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// The JSON the fleet stores (findings, inventories, vulnerabilities, the
// findings of changes) is zstd-compressed: it is repetitive (the same
// rule texts, package paths and advisory links over and over), so it
// shrinks about tenfold, and writing it is most of re-matching's cost.
// A blob that does not start with zstd's magic number is plain JSON.
var (
	zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	zdec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(1<<30))
)

var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// pack is v as compressed JSON.
func pack(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return zenc.EncodeAll(b, make([]byte, 0, len(b)/4)), nil
}

// unpack reads what pack wrote (or plain JSON) into v.
func unpack(b []byte, v any) error {
	if bytes.HasPrefix(b, zstdMagic) {
		var err error
		if b, err = zdec.DecodeAll(b, nil); err != nil {
			return fmt.Errorf("decompressing: %w", err)
		}
	}
	return json.Unmarshal(b, v)
}

// DecodeBlob reads a blob the fleet stored (findings, inventory,
// vulnerabilities) into v.
func DecodeBlob(b []byte, v any) error { return unpack(b, v) }
