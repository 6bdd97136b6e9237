package netmessage

import (
	"reflect"
	"sync"
	"unsafe"
)

// boxes makes the interface values that hand a request or response of type
// T to the serializer, over memory reused from call to call. Converting a
// struct of more than a word to an interface copies it to a new heap
// object; a boxed value here is the same interface value (dynamic type T,
// the value's copy behind it), but its copy lives in a pooled *T, which
// release takes back once the serializer has returned. The serializer
// must not keep the value (see Serializer); a value whose marshaling
// failed is not taken back, as the error may refer to it.
//
// Types of a word or less are boxed as usual: some are held in the
// interface itself, and the others cost the runtime little.
type boxes[T any] struct {
	typ  unsafe.Pointer // the type word of an interface holding a T; nil: box as usual
	pool sync.Pool      // of zeroed *T
}

// newBoxes returns the boxes for T.
func newBoxes[T any]() *boxes[T] {
	b := new(boxes[T])
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

// box returns v as an interface value, and the memory behind it to give to
// release (nil when v was boxed as usual).
func (b *boxes[T]) box(v T) (any, *T) {
	if b.typ == nil {
		return v, nil
	}
	p, _ := b.pool.Get().(*T)
	if p == nil {
		p = new(T)
	}
	*p = v
	var out any
	e := (*eface)(unsafe.Pointer(&out))
	e.typ, e.data = b.typ, unsafe.Pointer(p)
	return out, p
}

// release takes back the memory of a boxed value that nothing refers to
// any more.
func (b *boxes[T]) release(p *T) {
	if p == nil {
		return
	}
	var zero T
	*p = zero
	b.pool.Put(p)
}
