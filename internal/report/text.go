package report

import (
	"strings"

	"github.com/mattn/go-runewidth"
)

// width is the number of terminal columns s takes: East Asian wide
// characters take two, combining marks none. Colour is added after
// padding, so s never holds escape sequences.
func width(s string) int { return runewidth.StringWidth(s) }

// pad fills s with spaces up to w columns.
func pad(s string, w int) string {
	if n := width(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// wrap breaks s into lines of at most w columns, between words; a word
// longer than w is cut where it must be. w <= 0 means no limit.
func wrap(s string, w int) []string {
	words := strings.Fields(s)
	if len(words) == 0 {
		return []string{""}
	}
	if w <= 0 {
		return []string{strings.Join(words, " ")}
	}
	var lines []string
	line, lw := "", 0
	for _, word := range words {
		ww := width(word)
		for ww > w {
			// A path or URL longer than the column: fill the line, cut.
			if lw > 0 {
				lines = append(lines, line)
				line, lw = "", 0
			}
			head := runewidth.Truncate(word, w, "")
			if head == "" { // a wide character in a one-column line
				head = string([]rune(word)[:1])
			}
			// A path breaks best after a separator.
			if i := strings.LastIndexAny(head, "/:-_.,"); i > 0 && i < len(head)-1 {
				head = head[:i+1]
			}
			lines = append(lines, head)
			word = word[len(head):]
			ww = width(word)
		}
		if word == "" {
			continue
		}
		switch {
		case lw == 0:
			line, lw = word, ww
		case lw+1+ww <= w:
			line += " " + word
			lw += 1 + ww
		default:
			lines = append(lines, line)
			line, lw = word, ww
		}
	}
	if lw > 0 || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}
