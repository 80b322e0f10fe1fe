package emrfs

import (
	"container/list"
	"crypto/sha256"
	"sort"
	"strings"
	"sync"

	"github.com/emrs3/emrs3/cse"
)

// Authenticated random access. The first partial read of a GCM object (or
// the first whole read) authenticates the whole object once and records,
// per chunk of the ciphertext, its GHASH contribution (cse.ChunkTable, 16
// bytes per chunk). Later partial reads — ReadAt, Seek then Read — fetch
// only the chunks that hold the range and check each against the table
// before releasing a byte. The Client keeps tables in a bounded cache, so
// a second File on the same object needs no second pass.

// MaxChunkTableCache bounds the memory the Client's cache of chunk tables
// takes: 16 MiB of tables, which covers 256 GiB of objects at the default
// chunk size (256 KiB, 16 bytes per chunk). The least recently used tables
// are evicted, and wiped, beyond it. The cache is keyed by bucket, key,
// ETag, version id and envelope (a hash of the object's envelope metadata
// and instruction file), so a changed object or envelope never uses a
// stale table; tables live in memory only.
const MaxChunkTableCache = 16 << 20

// maxTableEntries bounds the number of cached tables.
const maxTableEntries = 4096

type tableKey struct {
	bucket, key, etag, version string
	envelope                   [32]byte
}

type tableEntry struct {
	k tableKey
	t *cse.ChunkTable
}

// cachedObject counts the tables cached for one bucket and key, and the
// largest stored size among them.
type cachedObject struct {
	n    int
	size int64
}

// tableCache is a bounded LRU cache of complete chunk tables.
type tableCache struct {
	mu      sync.Mutex
	lru     *list.List // of *tableEntry, most recent at the front
	m       map[tableKey]*list.Element
	objects map[[2]string]cachedObject // tables cached per bucket and key
	bytes   int64
}

// has reports whether a table of some version of bucket/key is cached: the
// object is being read at random, so Open's first GET need not fetch a
// whole part. size is the largest stored size of the cached versions.
func (c *tableCache) has(bucket, key string) (size int64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.objects[[2]string{bucket, key}]
	return o.size, o.n > 0
}

func (c *tableCache) get(k tableKey) *cse.ChunkTable {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return nil
	}
	c.lru.MoveToFront(e)
	return e.Value.(*tableEntry).t
}

func (c *tableCache) put(k tableKey, t *cse.ChunkTable, size int64) {
	if !t.Complete() || t.MemSize() > MaxChunkTableCache {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[tableKey]*list.Element{}
		c.lru = list.New()
		c.objects = map[[2]string]cachedObject{}
	}
	if _, ok := c.m[k]; ok {
		return
	}
	c.m[k] = c.lru.PushFront(&tableEntry{k, t})
	o := c.objects[[2]string{k.bucket, k.key}]
	c.objects[[2]string{k.bucket, k.key}] = cachedObject{n: o.n + 1, size: max(o.size, size)}
	c.bytes += t.MemSize()
	for c.bytes > MaxChunkTableCache || c.lru.Len() > maxTableEntries {
		e := c.lru.Back()
		te := e.Value.(*tableEntry)
		c.lru.Remove(e)
		delete(c.m, te.k)
		ok := [2]string{te.k.bucket, te.k.key}
		if o := c.objects[ok]; o.n <= 1 {
			delete(c.objects, ok)
		} else {
			o.n--
			c.objects[ok] = o
		}
		c.bytes -= te.t.MemSize()
		// Not wiped: a File may still be reading with it; it is
		// garbage once no File holds it.
	}
}

// envelopeDigest hashes what decides an object's content key and IV: its
// x-amz-* metadata and its instruction file.
func envelopeDigest(meta map[string]string, instr []byte) [32]byte {
	h := sha256.New()
	keys := make([]string, 0, len(meta))
	for k := range meta {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		h.Write([]byte(strings.ToLower(k)))
		h.Write([]byte{0})
		h.Write([]byte(meta[k]))
		h.Write([]byte{0})
	}
	h.Write([]byte{1})
	h.Write(instr)
	var d [32]byte
	h.Sum(d[:0])
	return d
}
