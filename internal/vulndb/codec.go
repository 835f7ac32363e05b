package vulndb

import (
	"encoding/binary"
	"errors"
	"math"
)

// The store's values are a compact binary form of entry lists and record
// infos: a scan decodes thousands of them, and reflection-based decoding
// (encoding/json) was half of matching time. Strings are length-prefixed
// (uvarint), counts are uvarints, scores IEEE-754 bits. The layout is
// private to the store and versioned by formatVersion.

var errCorrupt = errors.New("corrupt value")

type encoder struct{ b []byte }

func (e *encoder) uint(n int)   { e.b = binary.AppendUvarint(e.b, uint64(n)) }
func (e *encoder) str(s string) { e.uint(len(s)); e.b = append(e.b, s...) }
func (e *encoder) strs(ss []string) {
	e.uint(len(ss))
	for _, s := range ss {
		e.str(s)
	}
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uint() int {
	if d.err != nil {
		return 0
	}
	n, k := binary.Uvarint(d.b)
	if k <= 0 || n > uint64(len(d.b)) {
		// Every count and length is bounded by the bytes that remain.
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[k:]
	return int(n)
}

func (d *decoder) str() string {
	n := d.uint()
	if d.err != nil || n > len(d.b) {
		d.err = errCorrupt
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) strs() []string {
	n := d.uint()
	if n == 0 || d.err != nil {
		return nil
	}
	out := make([]string, 0, n)
	for range n {
		out = append(out, d.str())
	}
	return out
}

func (d *decoder) float() float64 {
	if d.err != nil || len(d.b) < 8 {
		d.err = errCorrupt
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return f
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) < 1 {
		d.err = errCorrupt
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// Event kinds and range types as stored.
const (
	evIntroduced = 'i'
	evFixed      = 'f'
	evLast       = 'l'
	evLimit      = 'x'
)

func encodeEntries(es []entry) []byte {
	e := &encoder{}
	e.uint(len(es))
	for _, en := range es {
		e.str(en.ID)
		e.str(en.Severity)
		e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(en.Score))
		e.uint(len(en.Ranges))
		for _, r := range en.Ranges {
			e.str(r.Type)
			e.uint(len(r.Events))
			for _, ev := range r.Events {
				switch {
				case ev.Introduced != "":
					e.b = append(e.b, evIntroduced)
					e.str(ev.Introduced)
				case ev.Fixed != "":
					e.b = append(e.b, evFixed)
					e.str(ev.Fixed)
				case ev.LastAffected != "":
					e.b = append(e.b, evLast)
					e.str(ev.LastAffected)
				default:
					e.b = append(e.b, evLimit)
					e.str(ev.Limit)
				}
			}
		}
		e.strs(en.Versions)
	}
	return e.b
}

func decodeEntries(b []byte) ([]entry, error) {
	d := &decoder{b: b}
	n := d.uint()
	out := make([]entry, 0, n)
	for range n {
		var en entry
		en.ID = d.str()
		en.Severity = d.str()
		en.Score = d.float()
		if nr := d.uint(); nr > 0 && d.err == nil {
			en.Ranges = make([]osvRange, 0, nr)
			for range nr {
				r := osvRange{Type: d.str()}
				ne := d.uint()
				if d.err != nil {
					break
				}
				r.Events = make([]osvEvent, 0, ne)
				for range ne {
					var ev osvEvent
					switch k, v := d.byte(), d.str(); k {
					case evIntroduced:
						ev.Introduced = v
					case evFixed:
						ev.Fixed = v
					case evLast:
						ev.LastAffected = v
					case evLimit:
						ev.Limit = v
					default:
						d.err = errCorrupt
					}
					r.Events = append(r.Events, ev)
				}
				en.Ranges = append(en.Ranges, r)
			}
		}
		en.Versions = d.strs()
		if d.err != nil {
			return nil, d.err
		}
		out = append(out, en)
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errCorrupt
	}
	return out, d.err
}

func encodeRating(r aliasRating) []byte {
	e := &encoder{}
	e.str(r.Severity)
	e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(r.Score))
	e.str(r.Via)
	return e.b
}

func decodeRating(b []byte) (aliasRating, error) {
	d := &decoder{b: b}
	r := aliasRating{Severity: d.str(), Score: d.float(), Via: d.str()}
	if d.err == nil && (len(d.b) != 0 || r.Score != r.Score) {
		d.err = errCorrupt
	}
	return r, d.err
}

func encodeInfo(r recordInfo) []byte {
	e := &encoder{}
	e.str(r.Summary)
	e.strs(r.Aliases)
	e.strs(r.Refs)
	if r.Severity != "" {
		e.str(r.Severity)
		e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(r.Score))
	}
	return e.b
}

// decodeInfo reads a record info; one written before records kept their
// rating ends after the references, and rates nothing.
func decodeInfo(b []byte) (recordInfo, error) {
	d := &decoder{b: b}
	r := recordInfo{Summary: d.str(), Aliases: d.strs(), Refs: d.strs()}
	if d.err == nil && len(d.b) > 0 {
		r.Severity, r.Score = d.str(), d.float()
		if r.Severity == "" || r.Score != r.Score {
			// Written only for a rating, never NaN.
			d.err = errCorrupt
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errCorrupt
	}
	return r, d.err
}
