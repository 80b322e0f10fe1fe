//lint:file-ignore SA1019 the bound is built on feature/s3/manager, the baseline

package main

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"
)

// bound is not a client: it measures how fast any authenticated reader
// could be on this machine, to tell a slow implementation from a target
// that the machine cannot reach. Its objects are plain; its GET is
// manager.Downloader (the SDK's own concurrent ranged GETs, at emrs3's part
// size and concurrency) into an io.WriterAt that does the least work an
// authenticated read must do with the bytes, with the standard library's
// AES-GCM on the Downloader's goroutines, in any order:
//
//   - "bound-gcm": one AES-GCM pass over every byte (what a reader that
//     releases plaintext before the tag has verified must do at least:
//     delayed authentication);
//   - "bound-spool": the same, then every byte is written to an unlinked
//     temporary file at its offset, through the page cache, and once the
//     whole object is down the file is read back and passed through AES-GCM
//     again, on every core (what a reader that releases nothing before the
//     tag has verified, and holds no more than a part in memory, must do at
//     least: the default policy). Two AES-GCM passes: about the least a
//     reader can make whose spool holds the object's own ciphertext, hashed
//     where it lands and opened after the tag; emrs3's default read makes
//     three (decrypt, seal, open).
type bound struct {
	managerImpl
	spool bool
}

func newBound(e env, hc *http.Client, spool bool) (impl, error) {
	ps, c := managerShape()
	return &bound{managerImpl: managerImpl{client: s3Client(e, hc), bucket: e.Bucket, partSize: ps, conc: c}, spool: spool}, nil
}

func (b *bound) get(ctx context.Context, key string, w io.Writer) (int64, error) {
	if w != io.Discard {
		return 0, errUnsupported // a measure, not a reader: it returns no plaintext
	}
	var k [32]byte
	rand.Read(k[:])
	blk, _ := aes.NewCipher(k[:])
	aead, _ := cipher.NewGCM(blk)
	wa := &sealAt{aead: aead}
	if b.spool {
		f, err := os.CreateTemp("", "bound-spool-")
		if err != nil {
			return 0, err
		}
		os.Remove(f.Name())
		defer f.Close()
		wa.f = f
	}
	d := manager.NewDownloader(b.client, func(d *manager.Downloader) {
		d.PartSize, d.Concurrency = b.partSize, b.conc
	})
	n, err := d.Download(ctx, wa, &s3.GetObjectInput{Bucket: &b.bucket, Key: &key})
	if err != nil || !b.spool {
		return n, err
	}
	// Read the spool back and pass it through AES-GCM once more (the
	// open after the tag; Seal costs what Open does, and the bound keeps
	// no tags to check), on every core, in pieces taken in turn: the
	// plaintext is dropped, so its order does not matter here.
	var next atomic.Int64
	var g errgroup.Group
	for range runtime.NumCPU() {
		g.Go(func() error {
			buf := make([]byte, sealPiece)
			out := make([]byte, 0, sealPiece+16)
			var nonce [12]byte
			for {
				off := next.Add(sealPiece) - sealPiece
				if off >= n {
					return nil
				}
				p := buf[:min(sealPiece, n-off)]
				if _, err := wa.f.ReadAt(p, off); err != nil {
					return err
				}
				putNonce(&nonce, off)
				aead.Seal(out[:0], nonce[:], p, nil)
			}
		})
	}
	return n, g.Wait()
}

func (b *bound) rangeTail(context.Context, string, int64, int64, io.Writer) (int64, error) {
	return 0, errUnsupported
}

// sealPiece is the most the bound seals at once (the Downloader's writes,
// from io.Copy, are smaller).
const sealPiece = 64 << 10

// sealAt seals every write with AES-GCM (one pass over its bytes) and, with
// f set, writes the sealed bytes at the write's offset.
type sealAt struct {
	aead cipher.AEAD
	f    *os.File
	pool sync.Pool
}

func putNonce(n *[12]byte, off int64) {
	for i := range 8 {
		n[4+i] = byte(off >> (8 * i))
	}
}

func (s *sealAt) WriteAt(p []byte, off int64) (int, error) {
	bp, _ := s.pool.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, sealPiece+16)
		bp = &b
	}
	defer s.pool.Put(bp)
	var nonce [12]byte
	for done := 0; done < len(p); {
		m := min(len(p)-done, sealPiece)
		putNonce(&nonce, off+int64(done))
		sealed := s.aead.Seal((*bp)[:0], nonce[:], p[done:done+m], nil)
		if s.f != nil {
			// The sealed bytes at the plaintext's offset; the tag
			// would be kept in memory (16 bytes a piece).
			if _, err := s.f.WriteAt(sealed[:m], off+int64(done)); err != nil {
				return done, err
			}
		}
		done += m
	}
	return len(p), nil
}
