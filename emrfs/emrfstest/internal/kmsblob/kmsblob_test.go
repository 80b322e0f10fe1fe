package kmsblob

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpen(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, SecretSize)
	ctx := map[string]string{"a": "1", "b": "2"}
	blob, err := Seal(secret, "key-1", ctx, []byte("data key"))
	if err != nil {
		t.Fatal(err)
	}
	if id, err := KeyID(blob); err != nil || id != "key-1" {
		t.Fatalf("KeyID = %q, %v", id, err)
	}
	pt, err := Open(secret, "key-1", map[string]string{"b": "2", "a": "1"}, blob)
	if err != nil || string(pt) != "data key" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	other := bytes.Repeat([]byte{8}, SecretSize)
	flipped := bytes.Clone(blob)
	flipped[len(flipped)-1] ^= 1
	for name, tc := range map[string]struct {
		secret []byte
		id     string
		ctx    map[string]string
		blob   []byte
	}{
		"wrong context":      {secret, "key-1", map[string]string{"a": "1"}, blob},
		"ambiguous context":  {secret, "key-1", map[string]string{"a": "1b", "": "2"}, blob},
		"wrong key id":       {secret, "key-2", ctx, blob},
		"wrong secret":       {other, "key-1", ctx, blob},
		"flipped tag":        {secret, "key-1", ctx, flipped},
		"truncated":          {secret, "key-1", ctx, blob[:10]},
		"empty":              {secret, "key-1", ctx, nil},
		"bad version":        {secret, "key-1", ctx, append([]byte{2}, blob[1:]...)},
		"nil context vs set": {secret, "key-1", nil, blob},
	} {
		if _, err := Open(tc.secret, tc.id, tc.ctx, tc.blob); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func FuzzOpen(f *testing.F) {
	secret := bytes.Repeat([]byte{7}, SecretSize)
	blob, _ := Seal(secret, "k", nil, []byte("x"))
	f.Add(blob)
	f.Add([]byte{1, 1, 'k'})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := KeyID(b)
		if err != nil {
			return
		}
		pt, err := Open(secret, id, nil, b)
		if err == nil && len(pt) > len(b) {
			t.Fatal("plaintext longer than blob")
		}
	})
}
