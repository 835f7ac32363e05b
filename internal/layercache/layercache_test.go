package layercache

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

func put(t *testing.T, c *Cache, key string, payload []byte) {
	t.Helper()
	if err := c.Put(key, func(w io.Writer) error { _, err := w.Write(payload); return err }); err != nil {
		t.Fatal(err)
	}
}

func TestPutGet(t *testing.T) {
	c, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get("a"); ok {
		t.Fatal("hit in an empty cache")
	}
	put(t, c, "a", []byte("alpha"))
	put(t, c, "b", nil)
	if got, ok := c.Get("a"); !ok || string(got) != "alpha" {
		t.Errorf("Get(a) = %q, %t", got, ok)
	}
	if got, ok := c.Get("b"); !ok || len(got) != 0 {
		t.Errorf("Get(b) = %q, %t", got, ok)
	}
	put(t, c, "a", []byte("again"))
	if got, _ := c.Get("a"); string(got) != "again" {
		t.Errorf("replaced entry: %q", got)
	}
	// A write that fails leaves the entry it would have replaced.
	err = c.Put("a", func(w io.Writer) error { w.Write([]byte("half")); return fmt.Errorf("disk full") })
	if err == nil {
		t.Error("a failed write reported no error")
	}
	if got, _ := c.Get("a"); string(got) != "again" {
		t.Errorf("after a failed write: %q", got)
	}
	st, err := c.Status()
	if err != nil || st.Entries != 2 {
		t.Errorf("status %+v, %v: want 2 entries", st, err)
	}
}

// TestDamaged: a flipped byte, a truncated file and a foreign file are
// misses, and the entry is removed.
func TestDamaged(t *testing.T) {
	c, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, damage := range []func([]byte) []byte{
		func(b []byte) []byte { b[len(b)-1] ^= 1; return b },
		func(b []byte) []byte { return b[:len(b)-3] },
		func(b []byte) []byte { return b[:10] },
		func([]byte) []byte { return []byte("not an entry") },
	} {
		key := strconv.Itoa(i)
		put(t, c, key, bytes.Repeat([]byte("payload "), 100))
		p := c.path(key)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, damage(b), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, ok := c.Get(key); ok {
			t.Errorf("damage %d: served %d bytes", i, len(got))
		}
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("damage %d: entry not removed", i)
		}
	}
	if c.Corrupt() != 4 {
		t.Errorf("corrupt = %d, want 4", c.Corrupt())
	}
}

// TestLRU: past its size the cache drops the least recently used entries;
// a hit counts as a use.
func TestLRU(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { now = now.Add(time.Minute); return now }
	payload := bytes.Repeat([]byte("x"), 1000)
	c, err := Open(t.TempDir(), Options{MaxBytes: 3500, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	put(t, c, "a", payload)
	put(t, c, "b", payload)
	put(t, c, "c", payload)
	if _, ok := c.Get("a"); !ok { // a is now the most recently used
		t.Fatal("a missing")
	}
	put(t, c, "d", payload) // over 3500: b goes, then c, to below nine tenths
	for key, want := range map[string]bool{"a": true, "b": false, "c": false, "d": true} {
		if _, ok := c.Get(key); ok != want {
			t.Errorf("%s cached: %t, want %t", key, ok, want)
		}
	}
	if st, _ := c.Status(); st.Bytes > 3500 {
		t.Errorf("size %d over the bound", st.Bytes)
	}
	n, size, err := c.Clean()
	if err != nil || n != 2 || size == 0 {
		t.Errorf("clean: %d entries, %d bytes, %v", n, size, err)
	}
	if st, _ := c.Status(); st.Entries != 0 {
		t.Errorf("after clean: %+v", st)
	}
}

// TestProcesses: processes writing and reading the same entries of one
// cache, with evictions under way, see whole entries or none.
func TestProcesses(t *testing.T) {
	if dir := os.Getenv("LAYERCACHE_HELPER_DIR"); dir != "" {
		helper(dir)
		return
	}
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	outs := make([][]byte, 4)
	for i := range errs {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestProcesses$")
			cmd.Env = append(os.Environ(), "LAYERCACHE_HELPER_DIR="+dir, "LAYERCACHE_HELPER_ID="+strconv.Itoa(i))
			outs[i], errs[i] = cmd.CombinedOutput()
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("process %d: %v\n%s", i, err, outs[i])
		}
	}
}

// helper writes and reads entries whose payload says which key it is;
// the cache is small enough that writers evict each other's entries.
func helper(dir string) {
	c, err := Open(dir, Options{MaxBytes: 64 << 10})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	payload := func(k int) []byte { return bytes.Repeat([]byte(fmt.Sprintf("entry %d;", k)), 500) }
	for round := range 200 {
		k := round % 17
		if err := c.Put(strconv.Itoa(k), func(w io.Writer) error { _, err := w.Write(payload(k)); return err }); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		for j := range 17 {
			if got, ok := c.Get(strconv.Itoa(j)); ok && !bytes.Equal(got, payload(j)) {
				fmt.Printf("entry %d: read %d bytes of something else\n", j, len(got))
				os.Exit(1)
			}
		}
	}
	if c.Corrupt() != 0 {
		fmt.Println("damaged entries seen:", c.Corrupt())
		os.Exit(1)
	}
}
