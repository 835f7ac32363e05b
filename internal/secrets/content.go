package secrets

import (
	"bytes"
	"encoding/binary"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// sniffLen is how much of an input decides whether it is text (as git
// decides: a NUL byte in the first 8000 bytes means binary).
const sniffLen = 8000

type contentMode int

const (
	modeText contentMode = iota
	modeUTF16LE
	modeUTF16BE
	// modeStrings scans the printable strings of a binary format known
	// to carry source text: compiled Python, Java classes, SQLite
	// databases, and executables when asked.
	modeStrings
	modeBinary
)

// sniff decides how to read an input from its first bytes and its path.
//
// Text is scanned as it is. Binary content is skipped, except for the
// documented text-in-binary cases: UTF-16 text (a byte-order mark, or NULs
// in every other byte of otherwise printable text) is decoded; compiled
// Python (.pyc), Java class files and SQLite databases keep the strings of
// the source or the rows they were made from, and are scanned as their
// printable strings; so are executables when Options.Executables is set.
func sniff(head []byte, path string, executables bool) contentMode {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return modeUTF16LE
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return modeUTF16BE
	}
	if bytes.IndexByte(head, 0) < 0 && controlShare(head) < 0.1 {
		return modeText
	}
	if wide := utf16Guess(head); wide != modeBinary {
		return wide
	}
	lower := strings.ToLower(path)
	switch {
	case strings.HasSuffix(lower, ".pyc"):
		return modeStrings
	case bytes.HasPrefix(head, []byte{0xCA, 0xFE, 0xBA, 0xBE}) && strings.HasSuffix(lower, ".class"):
		return modeStrings
	case bytes.HasPrefix(head, []byte("SQLite format 3\x00")):
		return modeStrings
	case executables && isExecutable(head):
		return modeStrings
	}
	return modeBinary
}

// controlShare is the share of bytes that no text file uses. It runs on
// the head of every file of every image layer, so it looks at eight bytes
// at a time and counts one by one only in words that hold a byte below
// 0x20 (in text, a word with a line end or a tab).
func controlShare(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	n, i := 0, 0
	for ; i+8 <= len(b); i += 8 {
		// A byte below 0x20 has its high bit set in w-0x20…20 and clear
		// in w (the classic "has less than" test); bytes of 0x80 and up
		// never count.
		if w := binary.LittleEndian.Uint64(b[i:]); (w-0x20*ones)&^w&highs != 0 {
			n += countControl(b[i : i+8])
		}
	}
	n += countControl(b[i:])
	return float64(n) / float64(len(b))
}

// controlBytes is 1 for the bytes below 0x20 that text does not use (all
// but backspace, tab, the line ends and escape).
var controlBytes = func() (t [256]uint8) {
	for c := range 0x20 {
		switch c {
		case '\b', '\t', '\n', '\v', '\f', '\r', 0x1b:
		default:
			t[c] = 1
		}
	}
	return t
}()

func countControl(b []byte) int {
	n := 0
	for _, c := range b {
		n += int(controlBytes[c])
	}
	return n
}

// utf16Guess recognises UTF-16 without a byte-order mark: ASCII text with a
// NUL in every other byte.
func utf16Guess(b []byte) contentMode {
	if len(b) < 16 {
		return modeBinary
	}
	n := len(b) &^ 1
	evenZero, oddZero := 0, 0
	for i := 0; i < n; i += 2 {
		if b[i] == 0 {
			evenZero++
		}
		if b[i+1] == 0 {
			oddZero++
		}
	}
	half := n / 2
	switch {
	case oddZero*10 >= half*9 && evenZero == 0:
		return modeUTF16LE
	case evenZero*10 >= half*9 && oddZero == 0:
		return modeUTF16BE
	}
	return modeBinary
}

func isExecutable(b []byte) bool {
	for _, magic := range [][]byte{{0x7F, 'E', 'L', 'F'}, {'M', 'Z'}, {0xFE, 0xED, 0xFA, 0xCE}, {0xFE, 0xED, 0xFA, 0xCF}, {0xCE, 0xFA, 0xED, 0xFE}, {0xCF, 0xFA, 0xED, 0xFE}} {
		if bytes.HasPrefix(b, magic) {
			return true
		}
	}
	return false
}

// printableOnly turns every byte that is not printable ASCII into a line
// end, in place: the printable strings stay at their offsets, separated.
func printableOnly(b []byte) {
	for i, c := range b {
		if (c < 0x20 || c > 0x7E) && c != '\t' {
			b[i] = '\n'
		}
	}
}

// decodeUTF16 decodes UTF-16 text (after any byte-order mark) to UTF-8.
func decodeUTF16(b []byte, bigEndian bool) []byte {
	if len(b) >= 2 && (b[0] == 0xFF && b[1] == 0xFE || b[0] == 0xFE && b[1] == 0xFF) {
		b = b[2:]
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		if bigEndian {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	out := make([]byte, 0, len(u))
	for _, r := range utf16.Decode(u) {
		out = utf8.AppendRune(out, r)
	}
	return out
}
