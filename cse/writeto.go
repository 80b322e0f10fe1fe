package cse

import "io"

// The readers implement io.WriterTo so that io.Copy hands their chunk
// buffers straight to the destination, without a copy through a caller's
// buffer. Semantics are those of Read: nothing that Read would not return is
// written.

// WriteTo writes the rest of the ciphertext and tag to w.
func (e *gcmEncrypter) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for {
		for len(e.out) == 0 && len(e.tail) == 0 {
			if e.err != nil {
				return n, e.err
			}
			if e.done {
				return n, nil
			}
			e.next()
		}
		buf := e.out
		if len(buf) == 0 {
			buf = e.tail
		}
		m, err := w.Write(buf)
		n += int64(m)
		if len(e.out) > 0 {
			e.out = e.out[m:]
		} else {
			e.tail = e.tail[m:]
		}
		if err != nil {
			return n, err
		}
	}
}

// WriteTo writes the rest of the plaintext to w.
func (d *gcmDecrypter) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for {
		for len(d.out) == 0 {
			if d.err == io.EOF {
				return n, nil
			}
			if d.err != nil {
				return n, d.err
			}
			d.next()
		}
		if d.outCT {
			// The buffer is ours: decrypt it in place.
			d.ctr.XORKeyStream(d.out, d.out)
			d.outCT = false
		}
		m, err := w.Write(d.out)
		n += int64(m)
		d.out = d.out[m:]
		if err != nil {
			return n, err
		}
	}
}

// WriteTo writes the rest of the plaintext to w.
func (d *cbcDecrypter) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for {
		if len(d.out) == 0 {
			if _, err := d.Read(nil); err == io.EOF {
				return n, nil
			} else if err != nil {
				return n, err
			}
			continue
		}
		m, err := w.Write(d.out)
		n += int64(m)
		d.out = d.out[m:]
		if err != nil {
			return n, err
		}
	}
}
