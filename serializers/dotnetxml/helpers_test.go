package dotnetxml_test

import "reflect"

// newLike returns a pointer to a new zero value of the type v points to.
func newLike(v any) any {
	return reflect.New(reflect.TypeOf(v).Elem()).Interface()
}

func reflectTypeOf(v any) reflect.Type { return reflect.TypeOf(v) }
