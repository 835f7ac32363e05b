package inventory

import (
	"encoding/json"
	"strings"
)

// extractedJSON is Extracted's stored form: a layer result cache keeps
// what each file yielded, so that the layer need not be read again.
type extractedJSON struct {
	Packages  []Package   `json:"packages,omitempty"`
	OS        *OS         `json:"os,omitempty"`
	Copyright *Copyright  `json:"copyright,omitempty"`
	Errors    []FileError `json:"errors,omitempty"`
}

// MarshalJSON implements json.Marshaler.
func (x *Extracted) MarshalJSON() ([]byte, error) {
	return json.Marshal(extractedJSON{Packages: x.pkgs, OS: x.os, Copyright: x.copyright, Errors: x.errs})
}

// UnmarshalJSON implements json.Unmarshaler.
func (x *Extracted) UnmarshalJSON(b []byte) error {
	var v extractedJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	x.pkgs, x.os, x.copyright, x.errs = v.Packages, v.OS, v.Copyright, v.Errors
	return nil
}

// Key names the scanner's extractors, for a cache of what they extracted:
// another set of extractors extracts other things.
func (s *Scanner) Key() string {
	names := make([]string, 0, len(s.extractors)+1)
	for _, e := range s.extractors {
		names = append(names, e.Name())
	}
	// The copyright reader is always on: a record without its results
	// must not be replayed.
	names = append(names, "copyright")
	return strings.Join(names, ",")
}
