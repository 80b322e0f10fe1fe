package sigv4

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// ChunkMode says how an aws-chunked body is framed and signed.
type ChunkMode struct {
	Signed  bool // chunk headers carry ";chunk-signature=" (STREAMING-AWS4-HMAC-SHA256-*)
	Trailer bool // trailing headers follow the final chunk
	// Signing state for Signed bodies.
	Key   []byte
	Date  string // X-Amz-Date
	Scope string // credential scope, date/region/service/aws4_request
	Seed  string // signature of the request headers
}

const (
	chunkAlgorithm   = "AWS4-HMAC-SHA256-PAYLOAD"
	trailerAlgorithm = "AWS4-HMAC-SHA256-TRAILER"
	maxChunkSize     = 64 << 20
)

// DecodeChunked removes the aws-chunked framing from body, verifying every
// chunk signature (and the trailer signature) when m.Signed is set. It
// returns the payload and the trailing headers.
func DecodeChunked(body []byte, m ChunkMode) ([]byte, http.Header, error) {
	var out []byte
	prev := m.Seed
	rest := body
	for {
		line, after, ok := bytes.Cut(rest, []byte("\r\n"))
		if !ok {
			return nil, nil, errorf(KindMalformed, "aws-chunked: chunk header not terminated by CRLF")
		}
		rest = after
		sizeHex, ext, hasExt := strings.Cut(string(line), ";")
		size, err := strconv.ParseUint(sizeHex, 16, 32)
		if err != nil || sizeHex == "" || size > maxChunkSize {
			return nil, nil, errorf(KindMalformed, "aws-chunked: bad chunk size %q", sizeHex)
		}
		if m.Signed {
			sig, ok := strings.CutPrefix(ext, "chunk-signature=")
			if !hasExt || !ok || !isHex(sig, 64) {
				return nil, nil, errorf(KindMalformed, "aws-chunked: chunk header %q lacks a chunk-signature", line)
			}
			if uint64(len(rest)) < size {
				return nil, nil, errorf(KindMalformed, "aws-chunked: chunk of %d bytes truncated", size)
			}
			data := rest[:size]
			want := chunkSignature(m, prev, data)
			if subtle.ConstantTimeCompare([]byte(want), []byte(sig)) != 1 {
				return nil, nil, errorf(KindSignature, "aws-chunked: chunk signature mismatch after %d payload bytes", len(out))
			}
			prev = sig
		} else if hasExt {
			return nil, nil, errorf(KindMalformed, "aws-chunked: unexpected chunk extension in unsigned payload")
		}
		if uint64(len(rest)) < size {
			return nil, nil, errorf(KindMalformed, "aws-chunked: chunk of %d bytes truncated", size)
		}
		out = append(out, rest[:size]...)
		rest = rest[size:]
		if size == 0 {
			break
		}
		if !bytes.HasPrefix(rest, []byte("\r\n")) {
			return nil, nil, errorf(KindMalformed, "aws-chunked: chunk data not followed by CRLF")
		}
		rest = rest[2:]
	}
	if out == nil {
		out = []byte{}
	}
	if !m.Trailer {
		if !bytes.Equal(rest, []byte("\r\n")) && len(rest) != 0 {
			return nil, nil, errorf(KindMalformed, "aws-chunked: %d unexpected bytes after the final chunk", len(rest))
		}
		return out, nil, nil
	}
	trailers := http.Header{}
	var canon strings.Builder
	var trailerSig string
	for len(rest) > 0 {
		line, after, ok := bytes.Cut(rest, []byte("\r\n"))
		if !ok {
			line, after = rest, nil
		}
		rest = after
		if len(line) == 0 {
			break
		}
		k, v, ok := strings.Cut(string(line), ":")
		if !ok || k == "" {
			return nil, nil, errorf(KindMalformed, "aws-chunked: bad trailer line %q", line)
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		if k == "x-amz-trailer-signature" {
			trailerSig = v
			continue
		}
		trailers.Add(textproto.CanonicalMIMEHeaderKey(k), v)
		canon.WriteString(k + ":" + v + "\n")
	}
	if len(rest) != 0 {
		return nil, nil, errorf(KindMalformed, "aws-chunked: %d unexpected bytes after the trailers", len(rest))
	}
	if m.Signed {
		if !isHex(trailerSig, 64) {
			return nil, nil, errorf(KindMalformed, "aws-chunked: signed trailer lacks x-amz-trailer-signature")
		}
		want := trailerSignature(m, prev, canon.String())
		if subtle.ConstantTimeCompare([]byte(want), []byte(trailerSig)) != 1 {
			return nil, nil, errorf(KindSignature, "aws-chunked: trailer signature mismatch")
		}
	}
	return out, trailers, nil
}

func chunkSignature(m ChunkMode, prev string, data []byte) string {
	sum := sha256.Sum256(data)
	sts := chunkAlgorithm + "\n" + m.Date + "\n" + m.Scope + "\n" + prev + "\n" + emptySHA256 + "\n" + hex.EncodeToString(sum[:])
	return hex.EncodeToString(hmacSHA256(m.Key, []byte(sts)))
}

func trailerSignature(m ChunkMode, prev, canonTrailers string) string {
	sum := sha256.Sum256([]byte(canonTrailers))
	sts := trailerAlgorithm + "\n" + m.Date + "\n" + m.Scope + "\n" + prev + "\n" + hex.EncodeToString(sum[:])
	return hex.EncodeToString(hmacSHA256(m.Key, []byte(sts)))
}

// EncodeChunked frames payload as aws-chunked with chunks of chunkSize bytes,
// signing them when m.Signed is set, and appends trailers (with a trailer
// signature when signed). It is the client half, used by tests.
func EncodeChunked(payload []byte, chunkSize int, m ChunkMode, trailers [][2]string) []byte {
	var b bytes.Buffer
	prev := m.Seed
	for {
		n := min(chunkSize, len(payload))
		data := payload[:n]
		payload = payload[n:]
		b.WriteString(strconv.FormatInt(int64(n), 16))
		if m.Signed {
			prev = chunkSignature(m, prev, data)
			b.WriteString(";chunk-signature=" + prev)
		}
		b.WriteString("\r\n")
		b.Write(data)
		if n == 0 {
			break
		}
		b.WriteString("\r\n")
	}
	if m.Trailer {
		var canon strings.Builder
		for _, t := range trailers {
			b.WriteString(t[0] + ":" + t[1] + "\r\n")
			canon.WriteString(t[0] + ":" + t[1] + "\n")
		}
		if m.Signed {
			b.WriteString("x-amz-trailer-signature:" + trailerSignature(m, prev, canon.String()) + "\r\n")
		}
	}
	b.WriteString("\r\n")
	return b.Bytes()
}
