package netmessage

import (
	"reflect"
	"unsafe"
)

// boxer makes the interface values that hand a request or response of
// type T to the serializer, over memory the caller reuses from call to
// call. Converting a struct of more than a word to an interface copies it
// to a new heap object; an interface value from boxer.of is the same
// value (dynamic type T, a copy of the struct behind it), but the copy is
// the caller's *T, which it may reuse once the serializer has returned.
// The serializer must not keep the value (see Serializer); the memory of
// a value whose marshaling failed is not reused, as the error may refer to
// it.
//
// Types of a word or less are boxed as usual: some are held in the
// interface itself, and the others cost the runtime little.
type boxer[T any] struct {
	typ unsafe.Pointer // the type word of an interface holding a T; nil: box as usual
}

// newBoxer returns the boxer for T.
func newBoxer[T any]() boxer[T] {
	var b boxer[T]
	if t := reflect.TypeFor[T](); t.Kind() == reflect.Struct && t.Size() > unsafe.Sizeof(uintptr(0)) {
		var zero any = *new(T)
		b.typ = (*eface)(unsafe.Pointer(&zero)).typ
	}
	return b
}

// eface is the layout of an interface value without methods.
type eface struct {
	typ, data unsafe.Pointer
}

// of returns *p as an interface value: over p itself, which the caller
// must then leave unchanged while the interface value is in use, or boxed
// as usual for the types of a word or less.
func (b boxer[T]) of(p *T) any {
	if b.typ == nil {
		return *p
	}
	var out any
	e := (*eface)(unsafe.Pointer(&out))
	e.typ, e.data = b.typ, unsafe.Pointer(p)
	return out
}
