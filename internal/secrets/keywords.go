package secrets

import "fmt"

// keywordIndex finds every occurrence of a set of keywords in one pass,
// ASCII case-insensitively. It answers the same question as an Aho–Corasick
// automaton (every keyword occurrence, overlapping ones included) but is
// built for throughput on text where hits are rare: each input byte costs
// one table lookup, a shift and one bit test against a 32 KiB bitset of the
// keywords' first three bytes, with no dependent state chain between bytes,
// and only the rare positions whose trigram is a keyword prefix are
// verified byte by byte. The measured alternatives are in
// docs/architecture.md ("Secrets"): the pure-Go Aho–Corasick libraries ran
// at 110–150 MB/s on this corpus, below the engine's whole budget.
type keywordIndex struct {
	code [256]uint8
	// bits has one bit per trigram code (18 bits: three 6-bit byte codes).
	bits [1 << 12]uint64
	// buckets lists, per trigram, the keywords that start with it.
	buckets map[uint32][]int32
	words   [][]byte
	// exact marks keywords written with an upper-case letter: they must
	// occur exactly as written ("SG." is SendGrid's prefix; "msg." is not).
	exact []bool
	orig  []string
}

// trigramMask keeps three 6-bit byte codes.
const trigramMask = 1<<18 - 1

// minKeyword is the shortest keyword the index accepts: the trigram
// filter needs three bytes.
const minKeyword = 3

func newKeywordIndex(words []string) (*keywordIndex, error) {
	k := &keywordIndex{buckets: map[uint32][]int32{}}
	// Bytes that occur in keywords get their own code; everything else
	// shares code 0, which only makes the filter less selective for
	// keywords containing such bytes, never wrong.
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
		h := uint32(k.code[lw[0]])<<12 | uint32(k.code[lw[1]])<<6 | uint32(k.code[lw[2]])
		k.bits[h>>6] |= 1 << (h & 63)
		k.buckets[h] = append(k.buckets[h], int32(i))
	}
	return k, nil
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 32
	}
	return c
}

// find calls fn(keyword, start) for every keyword occurrence starting at or
// after from and before limit, in order of position.
func (k *keywordIndex) find(data []byte, from, limit int, fn func(kw int, start int)) {
	if limit > len(data) {
		limit = len(data)
	}
	var h uint32
	// Prime the rolling trigram so a keyword starting at from is seen.
	end := limit + minKeyword - 1
	if end > len(data) {
		end = len(data)
	}
	code := &k.code
	bits := &k.bits
	for i := from; i < end; i++ {
		h = (h<<6 | uint32(code[data[i]])) & trigramMask
		if bits[h>>6]&(1<<(h&63)) == 0 || i-from < minKeyword-1 {
			continue
		}
		start := i - (minKeyword - 1)
		if start >= limit {
			break
		}
		for _, w := range k.buckets[h] {
			if k.matchAt(data, start, int(w)) {
				fn(int(w), start)
			}
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
