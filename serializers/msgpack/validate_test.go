package msgpack

import (
	"bytes"
	"strings"
	"testing"

	vmsgpack "github.com/vmihailenco/msgpack/v5"
)

// validate is scan without a target type.
func validate(data []byte) error {
	_, err := scan(data, skipPlan, false)
	return err
}

// FuzzValidate checks validate against the library's own reading of the
// framing (Decoder.Skip, which reads declared lengths in bounded chunks and
// so is safe on hostile input): validate accepts exactly the inputs that
// hold one value the library can skip, with nothing after it, unless they
// nest deeper than maxDepth. checkFraming gives validate's verdict and
// error on every input.
func FuzzValidate(f *testing.F) {
	for _, seed := range []string{
		"\xc0", "\x91\x01", "\x82\xa1a\x01\xa1b\x92\xc2\xc3", "\xdd\xff\xff\xff\xff", "\xdf\x00\x00\x00\x01\x01\x02",
		"\xc4\x02ab", "\xc7\x01\x05x", "\xd6\xff\x00\x00\x00\x01", "\xc9\x00\x00\x00\x01\x05x", "\x92\x01", "\x01\x02",
		"\xc1", "\xdb\x00\x00\x00\x03abc", "\x81\xa5Items\xdd\x7f\xff\xff\xff", strings.Repeat("\x91", 50) + "\xc0",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := validate(data)
		if fr := checkFraming(data); (fr == nil) != (err == nil) || (fr != nil && fr.Error() != err.Error()) {
			t.Fatalf("%q: checkFraming %v, scan %v", data, fr, err)
		}
		r := bytes.NewReader(data)
		skipErr := vmsgpack.NewDecoder(r).Skip()
		whole := skipErr == nil && r.Len() == 0
		switch {
		case err == nil && !whole:
			t.Fatalf("validate accepts %q; the library: %v, %d bytes left", data, skipErr, r.Len())
		case err != nil && whole && !strings.Contains(err.Error(), "nested deeper"):
			t.Fatalf("validate rejects %q (%v); the library skips it whole", data, err)
		}
	})
}
