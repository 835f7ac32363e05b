package secrets

import (
	"fmt"
	"math"
)

// keywordIndex finds every occurrence of a set of keywords in one pass,
// ASCII case-insensitively (a keyword written with an upper-case letter
// must match exactly). It answers the question an Aho–Corasick automaton
// answers (every occurrence of every keyword, overlapping ones included)
// and is built for throughput on text where occurrences are rare: each
// input byte costs one table lookup, a shift and one bit test against a
// 32 KiB bitset of three-byte sequences ("trigrams"), with no branch taken
// on most bytes, and only the rare positions whose trigram belongs to a
// keyword are verified byte by byte.
//
// Each keyword is indexed by its rarest trigram, not its first: "token"
// by "tok" would stop at every "took", "confluence" by "con" at every
// "const". docs/architecture.md ("Secrets") records why this index and
// not an Aho–Corasick library: the pure-Go ones measured 110–150 MB/s on
// source code, below the engine's whole budget.
type keywordIndex struct {
	code [256]uint8
	// bits has one bit per trigram code (18 bits: three 6-bit byte codes).
	bits [1 << 12]uint64
	// slots is an open-addressing table from an indexed trigram to the
	// keywords it anchors (a run of entries).
	slots   [slotCount]slot
	entries []entry
	words   [][]byte
	// exact marks keywords written with an upper-case letter: they must
	// occur exactly as written ("SG." is SendGrid's prefix; "msg." is not).
	exact     []bool
	orig      []string
	maxOffset int
}

type slot struct {
	trigram     uint32 // +1, so that 0 is an empty slot
	first, last uint16
}

// entry is a keyword anchored by a trigram at offset in the keyword.
type entry struct {
	word, offset int32
}

const (
	// minKeyword is the shortest keyword the index accepts: the filter
	// needs three bytes.
	minKeyword = 3
	slotCount  = 2048
)

// byteFrequency is how common a byte is in text and code, in arbitrary
// units: enough to tell "tok" (common) from "ke-" (rare).
var byteFrequency = func() (f [256]float64) {
	for i := range f {
		f[i] = 0.5
	}
	for c, v := range map[byte]float64{'e': 12, 't': 9, 'a': 8, 'o': 7.5, 'i': 7, 'n': 6.7, 's': 6.3, 'r': 6, 'h': 5,
		'l': 4, 'd': 4.2, 'c': 3.5, 'u': 2.8, 'm': 2.4, 'f': 2.2, 'p': 2.2, 'g': 2, 'w': 1.8, 'y': 1.8, 'b': 1.5,
		'v': 1, 'k': 0.8, 'x': 0.3, 'j': 0.15, 'q': 0.1, 'z': 0.1, '_': 1.5, '.': 2, '-': 1, '/': 1, ':': 0.8,
		'=': 1.5, '"': 2, '$': 0.2, '0': 1.5, '1': 1.5, '2': 1, '3': 0.8, '4': 0.8, '5': 0.8, '6': 0.7, '7': 0.6,
		'8': 0.6, '9': 0.6, '+': 0.4, '~': 0.05, '<': 0.5, '>': 0.5, '{': 0.6} {
		f[c] = v
	}
	return f
}()

func newKeywordIndex(words []string) (*keywordIndex, error) {
	k := &keywordIndex{}
	// Bytes that occur in keywords get their own code; every other byte
	// shares code 0, which makes the filter less selective for keywords
	// containing such bytes, never wrong.
	next := uint8(1)
	for _, w := range words {
		for i := 0; i < len(w); i++ {
			c := lower(w[i])
			if k.code[c] == 0 {
				if next == 64 {
					return nil, fmt.Errorf("keywords use more than 63 distinct bytes")
				}
				k.code[c] = next
				if 'a' <= c && c <= 'z' {
					k.code[c-32] = next
				}
				next++
			}
		}
	}
	byTrigram := map[uint32][]entry{}
	var order []uint32
	for i, w := range words {
		if len(w) < minKeyword {
			return nil, fmt.Errorf("keyword %q is shorter than %d bytes", w, minKeyword)
		}
		lw := make([]byte, len(w))
		for j := range lw {
			lw[j] = lower(w[j])
		}
		k.words = append(k.words, lw)
		k.exact = append(k.exact, w != string(lw))
		k.orig = append(k.orig, w)
		// The rarest trigram of the keyword anchors it.
		best, bestScore := 0, math.Inf(1)
		for o := 0; o+minKeyword <= len(lw); o++ {
			score := math.Log(byteFrequency[lw[o]]) + math.Log(byteFrequency[lw[o+1]]) + math.Log(byteFrequency[lw[o+2]])
			if score < bestScore {
				best, bestScore = o, score
			}
		}
		h := k.trigram(lw[best:])
		k.bits[h>>6] |= 1 << (h & 63)
		if byTrigram[h] == nil {
			order = append(order, h)
		}
		byTrigram[h] = append(byTrigram[h], entry{int32(i), int32(best)})
		k.maxOffset = max(k.maxOffset, best)
	}
	if len(order) > slotCount/2 {
		return nil, fmt.Errorf("%d keyword trigrams is more than the index holds", len(order))
	}
	for _, h := range order {
		s := slotOf(h)
		for k.slots[s].trigram != 0 {
			s = (s + 1) % slotCount
		}
		k.slots[s] = slot{trigram: h + 1, first: uint16(len(k.entries)), last: uint16(len(k.entries) + len(byTrigram[h]))}
		k.entries = append(k.entries, byTrigram[h]...)
	}
	return k, nil
}

func (k *keywordIndex) trigram(b []byte) uint32 {
	return uint32(k.code[b[0]])<<12 | uint32(k.code[b[1]])<<6 | uint32(k.code[b[2]])
}

func slotOf(h uint32) uint32 { return (h * 0x9E3779B1) >> 21 % slotCount }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 32
	}
	return c
}

// find calls fn(keyword, start) for every keyword occurrence starting at or
// after from and before limit. Occurrences come roughly in order of
// position: a keyword is found when its anchoring trigram is reached, so
// one anchored further in may be reported before one that starts earlier.
func (k *keywordIndex) find(data []byte, from, limit int, fn func(kw int, start int)) {
	limit = min(limit, len(data))
	if from >= limit {
		return
	}
	// A keyword starting before limit may have its anchor up to
	// maxOffset bytes further.
	end := min(limit+k.maxOffset+minKeyword-1, len(data))
	code := &k.code
	bits := &k.bits
	// Each position's trigram is computed from its own three bytes, not
	// rolled from the previous one: no iteration waits for the last, so
	// the processor overlaps them (a rolling hash is one long dependency
	// chain, and measured about twice as slow).
	d := data[from:end]
	for i := minKeyword - 1; i < len(d); i++ {
		h := uint32(code[d[i-2]])<<12 | uint32(code[d[i-1]])<<6 | uint32(code[d[i]])
		if bits[h>>6]>>(h&63)&1 == 0 {
			continue
		}
		k.candidate(data, from, limit, from+i-(minKeyword-1), h, fn)
	}
}

// candidate verifies the keywords anchored by trigram h at data[at:].
func (k *keywordIndex) candidate(data []byte, from, limit, at int, h uint32, fn func(kw int, start int)) {
	s := slotOf(h)
	for k.slots[s].trigram != 0 && k.slots[s].trigram != h+1 {
		s = (s + 1) % slotCount
	}
	sl := k.slots[s]
	for _, e := range k.entries[sl.first:sl.last] {
		start := at - int(e.offset)
		if start >= from && start < limit && k.matchAt(data, start, int(e.word)) {
			fn(int(e.word), start)
		}
	}
}

func (k *keywordIndex) matchAt(data []byte, start int, i int) bool {
	w := k.words[i]
	if start+len(w) > len(data) {
		return false
	}
	if k.exact[i] {
		return string(data[start:start+len(w)]) == k.orig[i]
	}
	for j := 0; j < len(w); j++ {
		if lower(data[start+j]) != w[j] {
			return false
		}
	}
	return true
}
