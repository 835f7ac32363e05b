// Package layercache keeps the results of walking image layers between
// runs, on disk, under the cache directory (--cache-dir): a repeat scan
// reads no layer it has seen, and a base layer shared by many images is
// read once.
//
// The cache stores bytes under keys; what the bytes are is the image
// walk's business (image.LayerStore, and the per-layer result that
// internal/image/layerfacts.go documents). A key must name everything the
// bytes depend on: the layer's diff ID, the program (Program), the
// analyzers and their rules and options. A changed rule set or dockvet
// version is a different key, never a stale hit.
//
// Safe under concurrent processes: an entry is written to a temporary file
// and renamed into place, so a reader sees a whole entry or none; eviction
// and Clean hold an exclusive file lock, reads and writes a shared one.
// Every entry carries a SHA-256 of its payload: a corrupt or truncated
// entry is removed and reported as a miss, so the caller recomputes it.
// Size is bounded (Options.MaxBytes) by evicting the least recently used
// entries: a hit refreshes an entry's modification time.
package layercache

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// DefaultMaxBytes bounds the cache unless Options say otherwise.
const DefaultMaxBytes = 2 << 30

// Subdir is where the cache lives under dockvet's cache directory.
const Subdir = "layers"

// header starts every entry file, before the payload's SHA-256.
const header = "dockvet layer cache 1\n"

// Options configure a Cache.
type Options struct {
	// MaxBytes bounds the entries' total size (DefaultMaxBytes when 0).
	MaxBytes int64
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Cache is a directory of entries. It is safe for concurrent use by
// goroutines and processes.
type Cache struct {
	dir  string
	max  int64
	now  func() time.Time
	lock *flock.Flock
	mu   sync.Mutex // serialises this process's use of lock
	// Corrupt counts entries found damaged and removed by this Cache.
	corrupt int
}

// Open opens (creating it) the cache in dir.
func Open(dir string, o Options) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("layer cache: %w", err)
	}
	c := &Cache{dir: dir, max: o.MaxBytes, now: o.Now, lock: flock.New(filepath.Join(dir, ".lock"))}
	if c.max <= 0 {
		c.max = DefaultMaxBytes
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Dir is the cache's directory.
func (c *Cache) Dir() string { return c.dir }

// path is where key's entry lives: the key's SHA-256, fanned out by its
// first byte so that no directory grows huge.
func (c *Cache) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(c.dir, h[:2], h[2:])
}

func (c *Cache) shared() (func(), error) {
	c.mu.Lock()
	if err := c.lock.RLock(); err != nil {
		c.mu.Unlock()
		return nil, fmt.Errorf("layer cache: locking %s: %w", c.lock.Path(), err)
	}
	return func() { c.lock.Unlock(); c.mu.Unlock() }, nil
}

func (c *Cache) exclusive() (func(), error) {
	c.mu.Lock()
	if err := c.lock.Lock(); err != nil {
		c.mu.Unlock()
		return nil, fmt.Errorf("layer cache: locking %s: %w", c.lock.Path(), err)
	}
	return func() { c.lock.Unlock(); c.mu.Unlock() }, nil
}

// Get returns the payload stored under key. A missing entry is a miss; so
// is a damaged one, which is removed.
func (c *Cache) Get(key string) ([]byte, bool) {
	unlock, err := c.shared()
	if err != nil {
		return nil, false
	}
	defer unlock()
	p := c.path(key)
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	payload, ok := verify(raw)
	if !ok {
		os.Remove(p)
		c.corrupt++
		return nil, false
	}
	now := c.now()
	os.Chtimes(p, now, now) // recently used: evicted last
	return payload, true
}

// Corrupt is the number of damaged entries this Cache found and removed.
func (c *Cache) Corrupt() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.corrupt
}

func verify(raw []byte) ([]byte, bool) {
	if len(raw) < len(header)+sha256.Size || !bytes.HasPrefix(raw, []byte(header)) {
		return nil, false
	}
	sum := raw[len(header) : len(header)+sha256.Size]
	payload := raw[len(header)+sha256.Size:]
	got := sha256.Sum256(payload)
	return payload, bytes.Equal(sum, got[:])
}

// Put stores under key the payload write produces, replacing what was
// there, then evicts the least recently used entries if the cache is over
// its size. The payload is streamed to a temporary file (a layer of a
// million files makes a large entry), hashed on the way, and renamed into
// place once whole.
func (c *Cache) Put(key string, write func(w io.Writer) error) error {
	if err := c.write(key, write); err != nil {
		return err
	}
	st, err := c.Status()
	if err != nil || st.Bytes <= c.max {
		return err
	}
	return c.evict()
}

func (c *Cache) write(key string, write func(w io.Writer) error) error {
	unlock, err := c.shared()
	if err != nil {
		return err
	}
	defer unlock()
	p := c.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("layer cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("layer cache: %w", err)
	}
	werr := func() error {
		// The checksum goes before the payload: its place is kept and
		// filled once the payload is written.
		if _, err := tmp.Write(append([]byte(header), make([]byte, sha256.Size)...)); err != nil {
			return err
		}
		h := sha256.New()
		bw := bufio.NewWriterSize(io.MultiWriter(tmp, h), 64<<10)
		if err := write(bw); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		if _, err := tmp.WriteAt(h.Sum(nil), int64(len(header))); err != nil {
			return err
		}
		return tmp.Sync()
	}()
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		now := c.now()
		os.Chtimes(tmp.Name(), now, now)
		werr = os.Rename(tmp.Name(), p)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("layer cache: writing an entry: %w", werr)
	}
	return nil
}

// entry is one file of the cache.
type entry struct {
	path string
	size int64
	used time.Time
}

// list returns the cache's entries, least recently used first.
func (c *Cache) list() ([]entry, error) {
	var out []entry
	err := filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed by another process meanwhile
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		out = append(out, entry{path: p, size: info.Size(), used: info.ModTime()})
		return nil
	})
	slices.SortFunc(out, func(a, b entry) int { return a.used.Compare(b.used) })
	return out, err
}

// evict removes the least recently used entries until the cache holds at
// most nine tenths of its size, so that the next writes do not evict again
// at once.
func (c *Cache) evict() error {
	unlock, err := c.exclusive()
	if err != nil {
		return err
	}
	defer unlock()
	es, err := c.list()
	if err != nil {
		return fmt.Errorf("layer cache: %w", err)
	}
	var total int64
	for _, e := range es {
		total += e.size
	}
	for _, e := range es {
		if total <= c.max/10*9 {
			break
		}
		if err := os.Remove(e.path); err == nil || errors.Is(err, fs.ErrNotExist) {
			total -= e.size
		}
	}
	return nil
}

// Status describes the cache.
type Status struct {
	Dir      string
	Entries  int
	Bytes    int64
	MaxBytes int64
	// Oldest and Newest are the least and most recent uses.
	Oldest, Newest time.Time
}

// Status lists the cache.
func (c *Cache) Status() (Status, error) {
	st := Status{Dir: c.dir, MaxBytes: c.max}
	es, err := c.list()
	if err != nil {
		return st, fmt.Errorf("layer cache: %w", err)
	}
	for _, e := range es {
		st.Entries++
		st.Bytes += e.size
	}
	if len(es) > 0 {
		st.Oldest, st.Newest = es[0].used, es[len(es)-1].used
	}
	return st, nil
}

// Clean removes every entry; it returns how many and their bytes.
func (c *Cache) Clean() (int, int64, error) {
	unlock, err := c.exclusive()
	if err != nil {
		return 0, 0, err
	}
	defer unlock()
	es, err := c.list()
	if err != nil {
		return 0, 0, fmt.Errorf("layer cache: %w", err)
	}
	n, bytes := 0, int64(0)
	for _, e := range es {
		if err := os.Remove(e.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, bytes, fmt.Errorf("layer cache: %w", err)
		}
		n++
		bytes += e.size
	}
	// Emptied fan-out directories go too; one in use by a writer stays.
	dirs, _ := os.ReadDir(c.dir)
	for _, d := range dirs {
		if d.IsDir() {
			os.Remove(filepath.Join(c.dir, d.Name()))
		}
	}
	return n, bytes, nil
}

// Program names the running program for cache keys: the Go build ID of
// its executable, which changes whenever its code does (a new version, a
// rebuilt rule set), so a changed dockvet never reads results another one
// stored. Without one (not ELF, unreadable), the executable's own
// SHA-256 serves.
var Program = sync.OnceValue(func() string {
	exe, err := os.Executable()
	if err == nil {
		if id := goBuildID(exe); id != "" {
			return "go-build-id:" + id
		}
		if f, err := os.Open(exe); err == nil {
			defer f.Close()
			h := sha256.New()
			if _, err := io.Copy(h, f); err == nil {
				return "sha256:" + hex.EncodeToString(h.Sum(nil))
			}
		}
	}
	// Nothing to read: the module version is the best there is, and a
	// development build ("(devel)") shares nothing with a release.
	if info, ok := debug.ReadBuildInfo(); ok {
		s := info.Main.Version
		for _, kv := range info.Settings {
			if strings.HasPrefix(kv.Key, "vcs.") {
				s += " " + kv.Key + "=" + kv.Value
			}
		}
		return "build:" + s + " " + fmt.Sprint(time.Now().UnixNano())
	}
	return "unknown:" + fmt.Sprint(time.Now().UnixNano())
})

// goBuildID reads the Go build ID note of an ELF executable.
func goBuildID(exe string) string {
	f, err := elf.Open(exe)
	if err != nil {
		return ""
	}
	defer f.Close()
	s := f.Section(".note.go.buildid")
	if s == nil {
		return ""
	}
	data, err := s.Data()
	if err != nil || len(data) < 16 {
		return ""
	}
	// namesz, descsz, type, "Go\x00\x00", then the ID.
	desc := data[16:]
	if i := bytes.IndexByte(desc, 0); i >= 0 {
		desc = desc[:i]
	}
	return string(desc)
}
