package catalog

import "testing"

// TestCatalog validates every rule of every surface: a valid practice key,
// severity, surfaces, title, description and remediation, and unique IDs.
func TestCatalog(t *testing.T) {
	if err := Validate(); err != nil {
		t.Fatal(err)
	}
	if _, ok := Lookup("dv1001"); !ok {
		t.Error("Lookup must be case-insensitive")
	}
}
