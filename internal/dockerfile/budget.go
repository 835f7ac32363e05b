package dockerfile

import (
	"fmt"
	"regexp"
)

// MaxValueBytes bounds one word once its variables are substituted (an
// ARG default, an ENV value, a FROM reference, a COPY source). Real values
// are paths, versions and flags, at most a few KiB; a chain of ARGs that
// each repeat the one before (`ARG B=$A$A$A$A`) grows fourfold a line and
// reached 2.5 GB from 552 bytes. A word that would outgrow the budget is
// kept as written, as a value decided at build time is.
const MaxValueBytes = 64 << 10

// MaxExpandBytes bounds the text all substitutions of one Dockerfile may
// produce: with MaxValueBytes alone, many words near the budget still add
// up. 16 MiB is hundreds of times any real Dockerfile's expansion.
const MaxExpandBytes = 16 << 20

// budgetRef finds the variable references of a word: $NAME, ${NAME…}. The
// third group is a `/` after the name: ${NAME/pattern/replacement}
// substitutes every match, so the result may be the value's length times
// the replacement's.
var budgetRef = regexp.MustCompile(`\$(\{)?([A-Za-z_][A-Za-z0-9_]*)(/)?`)

// expandedSize is an upper bound of the length of w once its variables
// are substituted by get, computed without substituting: the word plus
// each reference's value (times the word's length for a replacement).
func expandedSize(w string, get func(string) (string, bool)) int {
	n := len(w)
	for _, m := range budgetRef.FindAllStringSubmatchIndex(w, -1) {
		v, _ := get(w[m[4]:m[5]])
		if m[6] >= 0 {
			n += len(v) * (len(w) + 1)
		} else {
			n += len(v) - (m[5] - m[0]) // the reference's text is replaced
		}
		if n > MaxExpandBytes {
			return n // enough to refuse; the rest need not be counted
		}
	}
	return n
}

// overBudget reports whether expanding w with get would exceed
// MaxValueBytes or the file's MaxExpandBytes, and counts it against the
// latter when it does not. Past a budget, the instruction being expanded
// records which one (Instruction.Limit).
func (b *builder) overBudget(w string, get func(string) (string, bool)) bool {
	n := expandedSize(w, get)
	switch {
	case n > MaxValueBytes:
		b.limit(fmt.Sprintf("a variable expands to more than %d bytes (dockerfile.MaxValueBytes); the word was kept as written", MaxValueBytes))
		return true
	case b.expanded+n > MaxExpandBytes:
		b.limit(fmt.Sprintf("variable expansion exceeds %d bytes for the file (dockerfile.MaxExpandBytes); the rest was kept as written", MaxExpandBytes))
		return true
	}
	b.expanded += n
	return false
}

func (b *builder) limit(msg string) {
	if b.cur != nil && b.cur.Limit == "" {
		b.cur.Limit = msg
	}
}
