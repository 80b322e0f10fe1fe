// Package emrfs reads and writes Amazon S3 objects the way Amazon EMRFS
// (and Hadoop S3A) does, through s3://, s3a:// and s3n:// URIs.
//
// A Client wraps an S3 client (*s3.Client satisfies S3API) and a Config
// holding per-bucket encryption settings:
//
//	c, err := emrfs.New(s3.NewFromConfig(awsCfg), cfg)
//	w, err := c.Create(ctx, "s3://bucket/path/part-0000")
//	_, err = w.Write(data)
//	err = w.Close() // nothing is visible until Close returns nil
//
//	f, err := c.Open(ctx, "s3a://bucket/path/part-0000")
//	defer f.Close() // f is an io.ReadSeekCloser and io.ReaderAt
//
// Errors are *fs.PathError values naming the URI; S3 "not found" errors
// match fs.ErrNotExist and "access denied" errors fs.ErrPermission.
package emrfs
