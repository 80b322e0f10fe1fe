package emrfstest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

const (
	hdrSSE        = "X-Amz-Server-Side-Encryption"
	hdrSSEKMSKey  = "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"
	hdrSSEContext = "X-Amz-Server-Side-Encryption-Context"
	// awsManagedS3Alias is the key S3 uses for SSE-KMS when none is named.
	awsManagedS3Alias = "alias/aws/s3"
)

// s3Error is an S3 error response.
type s3Error struct {
	status int
	code   string
	msg    string
}

func (e *s3Error) Error() string { return e.code + ": " + e.msg }

// sseKMSWrite does what S3 does with KMS when an object is written with
// SSE-KMS: it resolves the key (the AWS managed alias/aws/s3 when none is
// named) as the caller, asks for a data key with the object's encryption
// context, and stores the key ARN in the object's metadata.
func (s *S3) sseKMSWrite(r *http.Request, c caller, bucket, key string) error {
	if !strings.HasPrefix(r.Header.Get(hdrSSE), "aws:kms") {
		if r.Header.Get(hdrSSEKMSKey) != "" || r.Header.Get(hdrSSEContext) != "" {
			return &s3Error{http.StatusBadRequest, "InvalidArgument", "SSE-KMS key id or context given without x-amz-server-side-encryption: aws:kms"}
		}
		return nil
	}
	ec := map[string]string{}
	if raw := r.Header.Get(hdrSSEContext); raw != "" {
		js, err := base64.StdEncoding.DecodeString(raw)
		if err != nil || json.Unmarshal(js, &ec) != nil {
			return &s3Error{http.StatusBadRequest, "InvalidArgument", "x-amz-server-side-encryption-context must be base64 of a JSON object of strings"}
		}
	}
	if _, ok := ec["aws:s3:arn"]; !ok {
		ec["aws:s3:arn"] = "arn:aws:s3:::" + bucket + "/" + key
	}
	arn, err := s.st.KMS.serverSide(c, "GenerateDataKey", r.Header.Get(hdrSSEKMSKey), ec)
	if err != nil {
		return err
	}
	r.Header.Set(hdrSSEKMSKey, arn)
	return nil
}

// sseKMSRead checks, as S3 does on GetObject of an SSE-KMS object, that the
// caller may decrypt under the object's key.
func (s *S3) sseKMSRead(c caller, bucket, key string) error {
	obj, err := s.backend.HeadObject(bucket, key)
	if err != nil || obj == nil {
		return nil // gofakes3 reports the missing object
	}
	if !strings.HasPrefix(obj.Metadata[hdrSSE], "aws:kms") {
		return nil
	}
	ec := map[string]string{}
	if raw := obj.Metadata[hdrSSEContext]; raw != "" {
		if js, err := base64.StdEncoding.DecodeString(raw); err == nil {
			_ = json.Unmarshal(js, &ec)
		}
	}
	if _, ok := ec["aws:s3:arn"]; !ok {
		ec["aws:s3:arn"] = "arn:aws:s3:::" + bucket + "/" + key
	}
	_, err = s.st.KMS.serverSide(c, "Decrypt", obj.Metadata[hdrSSEKMSKey], ec)
	return err
}

// serverSide performs the KMS side of an S3 SSE-KMS operation on behalf of
// c and records it in the audit log. It returns the key ARN, or the S3
// error S3 would return.
func (k *KMS) serverSide(c caller, op, ref string, ec map[string]string) (string, error) {
	call := KMSCall{Operation: op, Principal: c.arn, EncryptionContext: maps.Clone(ec)}
	arn, err := func() (string, error) {
		k.mu.Lock()
		defer k.mu.Unlock()
		if ref == "" {
			ref = awsManagedS3Alias
			if _, ok := k.aliases[ref]; !ok {
				key, err := newKMSKey(types.KeySpecSymmetricDefault, types.KeyUsageTypeEncryptDecrypt, k.st.opts.Now())
				if err != nil {
					return "", err
				}
				key.description = "Default key that protects my S3 objects when no other key is defined"
				k.keys[key.id] = key
				k.aliases[ref] = key.id
			}
		}
		if k.throttle > 0 {
			k.throttle--
			return "", kmsErr("ThrottlingException", "rate exceeded (injected by KMS.ThrottleNext)")
		}
		cc := &kmsCallCtx{caller: c, call: &call}
		key, err := k.use(cc, ref, true)
		if err != nil {
			return "", err
		}
		if key.rsa != nil {
			return "", kmsErr("InvalidKeyUsageException", "%s is asymmetric; SSE-KMS needs a symmetric key", key.arn())
		}
		return key.arn(), nil
	}()
	var ke *kmsError
	if err != nil && !errors.As(err, &ke) {
		ke = &kmsError{code: "KMSInternalException", msg: err.Error()}
	}
	if ke != nil {
		call.Err = ke.code
	}
	k.record(call)
	if ke == nil {
		return arn, nil
	}
	switch ke.code {
	case "AccessDeniedException":
		return "", &s3Error{http.StatusForbidden, "AccessDenied", "SSE-KMS: " + ke.msg}
	case "ThrottlingException":
		return "", &s3Error{http.StatusServiceUnavailable, "SlowDown", "SSE-KMS: " + ke.msg}
	}
	return "", &s3Error{http.StatusBadRequest, "KMS." + ke.code, ke.msg}
}
