package authz

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// touchGranularity is how stale an entry's last-use time may get before a
// hit records it again; it keeps concurrent hits from writing one cache
// line on every request.
const touchGranularity = time.Second

// bounded is a concurrent map that holds at most max entries: entries
// unused for longer than idle are dropped, and when more than max remain
// the least recently used are dropped down to 90% of max. Eviction runs on
// insertion, so lookups stay lock-free.
type bounded[K comparable, V any] struct {
	m    sync.Map // K -> *boundedEntry[V]
	n    atomic.Int64
	max  int
	idle time.Duration

	sweeping  sync.Mutex
	lastSweep atomic.Int64 // unix nanoseconds

	// onEvict, when set before use, is called for each dropped entry;
	// idle tells an entry unused for longer than idle (called once it is
	// gone) from one dropped because more than max were in use (called
	// just before it goes, and possibly for an entry another goroutine
	// replaced meanwhile).
	onEvict func(k K, v V, idle bool)
}

type boundedEntry[V any] struct {
	v    V
	used atomic.Int64 // unix nanoseconds of the last use
}

func (e *boundedEntry[V]) touch(now time.Time) {
	if t := now.UnixNano(); t-e.used.Load() >= int64(touchGranularity) {
		e.used.Store(t)
	}
}

func newBounded[K comparable, V any](max int, idle time.Duration, now time.Time) *bounded[K, V] {
	b := &bounded[K, V]{max: max, idle: idle}
	b.lastSweep.Store(now.UnixNano())
	return b
}

// load returns the value of k and marks it used.
func (b *bounded[K, V]) load(k K, now time.Time) (V, bool) {
	v, ok := b.m.Load(k)
	if !ok {
		var zero V
		return zero, false
	}
	e := v.(*boundedEntry[V])
	e.touch(now)
	return e.v, true
}

// loadOrStore returns the value of k, storing v first if there is none.
func (b *bounded[K, V]) loadOrStore(k K, v V, now time.Time) V {
	e := &boundedEntry[V]{v: v}
	e.used.Store(now.UnixNano())
	got, loaded := b.m.LoadOrStore(k, e)
	if loaded {
		ge := got.(*boundedEntry[V])
		ge.touch(now)
		return ge.v
	}
	b.added(now)
	return v
}

// store sets the value of k.
func (b *bounded[K, V]) store(k K, v V, now time.Time) {
	e := &boundedEntry[V]{v: v}
	e.used.Store(now.UnixNano())
	if _, loaded := b.m.Swap(k, e); !loaded {
		b.added(now)
	}
}

func (b *bounded[K, V]) len() int { return int(b.n.Load()) }

func (b *bounded[K, V]) added(now time.Time) {
	if int(b.n.Add(1)) > b.max || now.UnixNano()-b.lastSweep.Load() >= int64(b.idle) {
		b.sweep(now)
	}
}

// sweep drops idle entries, then the least recently used ones while more
// than max remain. Concurrent sweeps are skipped: one is enough.
func (b *bounded[K, V]) sweep(now time.Time) {
	if !b.sweeping.TryLock() {
		return
	}
	defer b.sweeping.Unlock()
	b.lastSweep.Store(now.UnixNano())
	type kept struct {
		k    K
		e    *boundedEntry[V]
		used int64
	}
	var live []kept
	cutoff := now.UnixNano() - int64(b.idle)
	b.m.Range(func(k, v any) bool {
		e := v.(*boundedEntry[V])
		if u := e.used.Load(); u < cutoff {
			if b.m.CompareAndDelete(k, e) {
				b.n.Add(-1)
				if b.onEvict != nil {
					b.onEvict(k.(K), e.v, true)
				}
			}
		} else {
			live = append(live, kept{k.(K), e, u})
		}
		return true
	})
	if b.len() <= b.max {
		return
	}
	slices.SortFunc(live, func(x, y kept) int {
		switch {
		case x.used < y.used:
			return -1
		case x.used > y.used:
			return 1
		}
		return 0
	})
	target := b.max - b.max/10
	for _, l := range live {
		if b.len() <= target {
			break
		}
		// onEvict runs before the entry leaves the map, so that what it
		// records (Resolver.evicted: a weak pointer to a provider still
		// in use) is there before a lookup can miss the entry.
		if b.onEvict != nil {
			b.onEvict(l.k, l.e.v, false)
		}
		if b.m.CompareAndDelete(l.k, l.e) {
			b.n.Add(-1)
		}
	}
}
