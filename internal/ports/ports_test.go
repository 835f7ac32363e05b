package ports

import "testing"

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		in       string
		from, to int
		proto    string
		bad      bool
	}{
		{"80", 80, 80, "tcp", false}, {"53/udp", 53, 53, "udp", false}, {"8000-8010/TCP", 8000, 8010, "tcp", false},
		{"70000", 0, 0, "", true}, {"80/quic", 0, 0, "", true}, {"10-5", 0, 0, "", true}, {"http", 0, 0, "", true},
	} {
		r, err := ParseRange(tc.in)
		if tc.bad != (err != nil) {
			t.Errorf("%s: err = %v", tc.in, err)
			continue
		}
		if !tc.bad && (r.From != tc.from || r.To != tc.to || r.Proto != tc.proto) {
			t.Errorf("%s: %+v", tc.in, r)
		}
	}
}

func TestSensitiveIn(t *testing.T) {
	r, _ := ParseRange("20-25")
	got := SensitiveIn(r)
	if len(got) != 2 || got[0] != 22 || got[1] != 23 {
		t.Errorf("SensitiveIn(20-25) = %v", got)
	}
	if s, ok := Lookup(2375); !ok || s.Class != Docker {
		t.Error("2375 is the Docker API")
	}
	if _, ok := Lookup(8080); ok {
		t.Error("8080 is not sensitive")
	}
}
