package report

import (
	"bytes"
	"encoding/json"
	"io"
	"runtime"
	"sync"

	"github.com/dockvet/dockvet/internal/finding"
)

// JSON writes the report exactly as contract.md describes it. HTML escaping
// is off so that messages read the same as in the table ("&&" stays "&&").
//
// The output is what json.Encoder with a two-space indent writes, byte for
// byte (TestJSONChunkedIsTheEncoders), but the findings, which are nearly
// all of a large report, are encoded in chunks on every core and streamed
// to w: one Encoder over a report of thousands of findings held the whole
// document twice (compact, then indented) in buffers it grew from nothing,
// and took a third of a `dockvet dockerfile` run over a thousand files.
func JSON(w io.Writer, r *finding.Report, _ Options) error {
	if len(r.Findings) < findingsPerChunk {
		return encodeIndented(w, r, "")
	}
	// The report without its findings, encoded as usual, has `"findings":
	// [],` on a line of its own at two spaces: a key at that depth cannot
	// occur inside a string, where a newline is escaped.
	shell := *r
	shell.Findings = []finding.Finding{}
	var head bytes.Buffer
	if err := encodeIndented(&head, &shell, ""); err != nil {
		return err
	}
	const empty = "\n  \"findings\": [],\n"
	at := bytes.Index(head.Bytes(), []byte(empty))
	if at < 0 {
		// Only a change to finding.Report's shape gets here.
		return encodeIndented(w, r, "")
	}
	chunks := encodeChunks(r.Findings)
	if _, err := io.WriteString(w, string(head.Bytes()[:at])+"\n  \"findings\": [\n    "); err != nil {
		return err
	}
	for i, c := range chunks {
		if c.err != nil {
			return c.err
		}
		if i > 0 {
			if _, err := io.WriteString(w, ",\n    "); err != nil {
				return err
			}
		}
		if _, err := w.Write(c.buf.Bytes()); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "\n  ],\n"+string(head.Bytes()[at+len(empty):]))
	return err
}

// findingsPerChunk is how many findings one worker encodes at a time: a
// report below it is encoded in one go.
const findingsPerChunk = 256

type chunk struct {
	buf bytes.Buffer
	err error
}

// encodeChunks encodes the findings, a chunk per worker turn, as the
// elements of the report's "findings" array: indented at depth two and
// joined with the separator the Encoder writes between them.
func encodeChunks(fs []finding.Finding) []chunk {
	chunks := make([]chunk, (len(fs)+findingsPerChunk-1)/findingsPerChunk)
	var mu sync.Mutex
	next := 0
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(chunks)) {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(chunks) {
					return
				}
				part := fs[i*findingsPerChunk : min((i+1)*findingsPerChunk, len(fs))]
				c := &chunks[i]
				c.buf.Grow(768 * len(part))
				enc := newEncoder(&c.buf, "    ")
				for j := range part {
					if j > 0 {
						c.buf.WriteString(",\n    ")
					}
					if c.err = enc.Encode(&part[j]); c.err != nil {
						return
					}
					c.buf.Truncate(c.buf.Len() - 1) // the Encoder's newline
				}
			}
		})
	}
	wg.Wait()
	return chunks
}

// encodeIndented writes v as json.Encoder does with SetIndent(prefix,
// "  ") and HTML escaping off.
func encodeIndented(w io.Writer, v any, prefix string) error {
	return newEncoder(w, prefix).Encode(v)
}

func newEncoder(w io.Writer, prefix string) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetIndent(prefix, "  ")
	enc.SetEscapeHTML(false)
	return enc
}
