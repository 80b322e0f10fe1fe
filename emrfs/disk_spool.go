package emrfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/emrs3/emrs3/cse"
)

// initDisk resolves the Client's disk encryption (Options.DiskEncryption,
// else the Config's) and its spool budget. A security configuration's
// local-disk section that gives no key the Client can use is logged at
// Warn, so that it is not ignored without a word.
func (c *Client) initDisk() error {
	d := c.opts.DiskEncryption
	if d == nil {
		var err error
		if d, err = c.cfg.DiskEncryption(); err != nil {
			return err
		}
		if c.cfg.sec != nil && c.cfg.sec.diskWarning != "" {
			c.log().Warn("emrfs: "+c.cfg.sec.diskWarning, "diskEncryption", d.String())
		}
	}
	k, err := c.diskFor(d)
	if err != nil {
		return err
	}
	c.diskDefault = k
	if c.opts.ClientSpoolLimit > 0 {
		c.disk.budget = &cse.SpoolBudget{Limit: c.opts.ClientSpoolLimit}
	}
	return nil
}

// openDisk returns the disk-encryption key source of one Open: the
// OpenOptions' when set, else the Client's.
func (c *Client) openDisk(o *OpenOptions) (*diskKeys, error) {
	if o.DiskEncryption == nil {
		return c.diskDefault, nil
	}
	return c.diskFor(o.DiskEncryption)
}

// decryptOptions applies the Options of whole-object CSE reads of f: the
// Client's, the spool caps, and the spool key of f's disk encryption,
// obtained under f's context (with the object, for Options.Credentials).
func (f *File) decryptOptions(o *cse.StreamOptions) {
	f.c.decryptOptions(o)
	o.Context = withObject(f.ctx, f.loc.Bucket, f.loc.Key)
	o.SpoolLimit = f.c.opts.SpoolLimit
	o.SpoolBudget = f.c.disk.budget
	if f.disk != nil {
		o.SpoolKeys = f.disk.SpoolKey
	}
}

// checkSpool fails a whole-object authenticated read, before its part GETs,
// when the object certainly needs more spool than a cap allows (its
// plaintext past the memory limit is spooled, at least size − MemoryLimit
// bytes), when the temporary directory cannot hold a file (missing,
// not a directory, read-only), or when the spool's key cannot be had. The
// caps are checked first, so a read they refuse costs no KMS call.
func (f *File) checkSpool(opts func(*cse.StreamOptions)) (func(*cse.StreamOptions), error) {
	var o cse.StreamOptions
	opts(&o)
	need, dir := f.spoolNeed(&o)
	if need <= 0 {
		return opts, nil
	}
	key := "a random in-memory key"
	if f.disk != nil {
		key = "the disk-encryption KMS key " + f.disk.cfg.KeyARN
	}
	f.c.log().DebugContext(f.ctx, "emrfs: an authenticated read spools to local disk", "uri", f.info.uri, "bytes", need, "dir", dir, "key", key)
	if err := spoolProblem(&o, need, dir); err != nil {
		return nil, f.spoolFailure(err)
	}
	if o.SpoolKeys != nil {
		// The read will spool: get its key now, so that a key that cannot
		// be had fails the read before the object's parts are fetched;
		// the spool is handed this key.
		ctx := o.Context
		if ctx == nil {
			ctx = f.ctx
		}
		secret, desc, err := o.SpoolKeys(ctx)
		if err != nil {
			return nil, f.spoolFailure(&cse.SpoolError{Op: "key", Dir: dir, Err: err})
		}
		pk := &preparedKey{secret: secret, desc: desc, next: o.SpoolKeys}
		inner := opts
		opts = func(o *cse.StreamOptions) {
			inner(o)
			o.SpoolKeys = pk.SpoolKey
		}
	}
	return opts, nil
}

// spoolNeed returns how many bytes a whole-object read with the stream
// options o certainly spools (0: none, or delayed authentication) and the
// directory it spools to.
func (f *File) spoolNeed(o *cse.StreamOptions) (need int64, dir string) {
	if o.DelayedAuthentication {
		return 0, ""
	}
	mem := o.MemoryLimit
	if mem == 0 {
		mem = cse.DefaultMemoryLimit
	}
	need = f.info.size - max(mem, 0)
	if f.info.size <= cse.DefaultChunkSize || need <= 0 {
		return 0, ""
	}
	dir = o.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	return need, dir
}

// spoolDoomed reports, for Open, whether the whole-object read would fail
// in checkSpool on a cap or an unusable temporary directory, so that Open
// starts no part GETs for it: the first Read then reports the failure
// having fetched nothing more than Open's own GET. The key is not asked
// for here (that is a KMS call, made by the read).
func (f *File) spoolDoomed() bool {
	var o cse.StreamOptions
	f.decryptOptions(&o)
	need, dir := f.spoolNeed(&o)
	return need > 0 && spoolProblem(&o, need, dir) != nil
}

// spoolProblem checks a read that spools need bytes to dir with the stream
// options o: the caps first, then that dir can hold a file.
func spoolProblem(o *cse.StreamOptions, need int64, dir string) *cse.SpoolError {
	switch {
	case o.SpoolLimit > 0 && need > o.SpoolLimit:
		return &cse.SpoolError{Op: "limit", Dir: dir, Limit: o.SpoolLimit, Err: cse.ErrSpoolLimit}
	case o.SpoolBudget != nil && o.SpoolBudget.Limit > 0 && need > o.SpoolBudget.Limit:
		return &cse.SpoolError{Op: "limit", Dir: dir, Limit: o.SpoolBudget.Limit, Shared: true, Err: cse.ErrSpoolLimit}
	}
	if err := probeTempDir(o.TempDir); err != nil {
		return &cse.SpoolError{Op: "create", Dir: dir, Err: err}
	}
	return nil
}

// probeTempDir creates and removes an empty file in dir ("" is
// os.TempDir()), as the spool will, so that a missing or read-only
// temporary directory fails a read before it fetches the object. A full
// disk usually still creates an empty file: the spool's first write
// reports it.
func probeTempDir(dir string) error {
	p, err := os.CreateTemp(dir, "emrs3-spool-*")
	if err != nil {
		return err
	}
	name := p.Name()
	p.Close()
	return os.Remove(name)
}

// newDecryptReader is f.content.NewDecryptReader with spool failures
// turned into errors that name emrfs's options.
func (f *File) newDecryptReader(body io.Reader, opts func(*cse.StreamOptions)) (io.ReadCloser, error) {
	dr, err := f.content.NewDecryptReader(body, opts)
	if err != nil {
		return nil, err
	}
	return &spoolErrReader{ReadCloser: dr, f: f}, nil
}

type spoolErrReader struct {
	io.ReadCloser
	f *File
}

func (r *spoolErrReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = r.f.spoolFailure(err)
	}
	return n, err
}

// spoolError is a spool failure of a File's read: a local problem (the
// temporary directory, a cap) or the spool's key, never the S3 object and
// never a network fault. errors.As finds the *cse.SpoolError; like it, it
// never matches fs.ErrNotExist for a local file.
type spoolError struct {
	msg string
	err error // the *cse.SpoolError
}

func (e *spoolError) Error() string { return e.msg }
func (e *spoolError) Unwrap() error { return e.err }

// spoolFailure rewrites a *cse.SpoolError in err with emrfs's option
// names; other errors are returned as they are.
func (f *File) spoolFailure(err error) error {
	var se *cse.SpoolError
	if !errors.As(err, &se) || errors.As(err, new(*spoolError)) {
		return err
	}
	var msg string
	switch se.Op {
	case "limit":
		which := "the per-File spool cap (Options.SpoolLimit)"
		if se.Shared {
			which = "the Client's spool cap (Options.ClientSpoolLimit)"
		}
		msg = fmt.Sprintf("emrfs: authenticating this %d-byte object needs more local disk in %s than %s of %d bytes; "+
			"raise the cap, set Options.DelayedAuthentication to stream it without a spool (plaintext is then released before the tag is checked), "+
			"or read ranges (ReadAt under a policy that allows ranged reads, e.g. cse.EMRFSCompatible or fs.s3.cse.cryptoMode=AuthenticatedEncryption)",
			f.info.size, se.Dir, which, se.Limit)
	case "key":
		msg = fmt.Sprintf("emrfs: the spool of this authenticated read (temporary directory %s) has no key: %v", se.Dir, se.Err)
	default:
		msg = fmt.Sprintf("emrfs: local temporary directory %s (Options.TempDir) failed to %s the spool of this authenticated read: %v; "+
			"this is a local disk problem, not the S3 object: set Options.TempDir to a writable directory with room for the object past "+
			"Options.DecryptMemoryLimit, or raise that limit", se.Dir, se.Op, se.Err)
	}
	return &spoolError{msg: msg, err: err}
}

// preparedKey is a spool key obtained before the read started: the first
// SpoolKey call takes it (the spool wipes what it is given); later calls
// go to the key source it came from.
type preparedKey struct {
	mu           sync.Mutex
	secret, desc []byte
	next         func(context.Context) ([]byte, []byte, error)
}

func (k *preparedKey) SpoolKey(ctx context.Context) ([]byte, []byte, error) {
	k.mu.Lock()
	secret, desc := k.secret, k.desc
	k.secret = nil
	k.mu.Unlock()
	if secret != nil {
		return secret, desc, nil
	}
	return k.next(ctx)
}
