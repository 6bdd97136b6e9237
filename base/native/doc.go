// Package native is the SDK's own wire protocol: length-prefixed binary
// frames after a short preface, safe for any payload bytes. See
// docs/wire-format.md for the format byte by byte.
package native
