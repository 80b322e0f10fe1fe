package authz

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/emrs3/emrs3/internal/redact"
)

// The types below hold credentials providers, whose values (static
// credentials in particular) print their secret access key under fmt's
// reflection. Each formats, under every fmt verb and flag, as a
// description that names the provider's type and nothing it holds.

// String describes the resolver: its mappings and options, no credentials.
func (r *Resolver) String() string {
	if r == nil {
		return "authz.Resolver(nil)"
	}
	return fmt.Sprintf("authz.Resolver{mappings: %d, options: %s}", len(r.mappings), r.opts)
}

// GoString is String, so that %#v shows no credentials either.
func (r *Resolver) GoString() string { return r.String() }

// Format writes String under every verb.
func (r *Resolver) Format(f fmt.State, verb rune) {
	s := r.String()
	redact.Format(f, verb, s, s)
}

// String describes the options; credentials providers are shown by type
// only.
func (o Options) String() string {
	level := "default (DEBUG)"
	if o.DecisionLevel != nil {
		level = o.DecisionLevel.Level().String()
	}
	return fmt.Sprintf("authz.Options{Default: %s, DenyUnmapped: %t, Duration: %s, ExternalID: %q, ExpiryWindow: %s, MaxSessions: %d, Groups: %s, Logger: %s, DecisionLevel: %s, Custom: %s, CustomName: %q}",
		providerDesc(o.Default), o.DenyUnmapped, o.Duration, o.ExternalID, o.ExpiryWindow, o.MaxSessions, typeDesc(o.Groups), funcDesc(o.Logger != nil), level, funcDesc(o.Custom != nil), o.CustomName)
}

// GoString is String, so that %#v shows no credentials either.
func (o Options) GoString() string { return o.String() }

// Format writes String under every verb.
func (o Options) Format(f fmt.State, verb rune) {
	s := o.String()
	redact.Format(f, verb, s, s)
}

// String describes the side: its decision and the type of its
// credentials provider.
func (s Side) String() string {
	return fmt.Sprintf("authz.Side{Decision: {Index: %d, Role: %q, IdentifierType: %q, Identifier: %q, Reason: %q}, Credentials: %s}",
		s.Index, s.Role, s.IdentifierType, s.Identifier, s.Reason, providerDesc(s.Credentials))
}

// GoString is String, so that %#v shows no credentials either.
func (s Side) GoString() string { return s.String() }

// Format writes String under every verb.
func (s Side) Format(f fmt.State, verb rune) {
	d := s.String()
	redact.Format(f, verb, d, d)
}

// String describes both sides of the pair.
func (p Pair) String() string {
	return fmt.Sprintf("authz.Pair{Src: %s, Dst: %s, SameRole: %t}", p.Src.String(), p.Dst.String(), p.SameRole)
}

// GoString is String, so that %#v shows no credentials either.
func (p Pair) GoString() string { return p.String() }

// Format writes String under every verb.
func (p Pair) Format(f fmt.State, verb rune) {
	d := p.String()
	redact.Format(f, verb, d, d)
}

func providerDesc(p aws.CredentialsProvider) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprintf("%T(%s)", p, redact.Redacted)
}

func typeDesc(v any) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprintf("%T", v)
}

func funcDesc(set bool) string {
	if set {
		return "set"
	}
	return "nil"
}
