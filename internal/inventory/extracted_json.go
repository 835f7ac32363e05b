package inventory

import "encoding/json"

// extractedJSON is Extracted as the image layer cache stores it.
type extractedJSON struct {
	Packages []Package   `json:"packages,omitempty"`
	OS       *OS         `json:"os,omitempty"`
	Errors   []FileError `json:"errors,omitempty"`
}

// MarshalJSON writes what one file listed, so that a later walk can place
// it without reading the file again (the image layer cache).
func (x *Extracted) MarshalJSON() ([]byte, error) {
	return json.Marshal(extractedJSON{Packages: x.pkgs, OS: x.os, Errors: x.errs})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (x *Extracted) UnmarshalJSON(b []byte) error {
	var j extractedJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	x.pkgs, x.os, x.errs = j.Packages, j.OS, j.Errors
	return nil
}

// Names lists the scanner's extractors, for cache keys: results of one set
// are not results of another.
func (s *Scanner) Names() []string {
	out := make([]string, len(s.extractors))
	for i, e := range s.extractors {
		out[i] = e.Name()
	}
	return out
}
