package dotnetxml

import (
	"encoding"
	"encoding/base64"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

var (
	timeType            = reflect.TypeFor[time.Time]()
	guidType            = reflect.TypeFor[Guid]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	stringerType        = reflect.TypeFor[fmt.Stringer]()
)

// xsdNames are the element names XmlSerializer gives primitive types as a
// root element or a list item.
var xsdNames = [...]string{
	reflect.Bool:    "boolean",
	reflect.Int:     "int",
	reflect.Int8:    "byte",
	reflect.Int16:   "short",
	reflect.Int32:   "int",
	reflect.Int64:   "long",
	reflect.Uint:    "unsignedInt",
	reflect.Uint8:   "unsignedByte",
	reflect.Uint16:  "unsignedShort",
	reflect.Uint32:  "unsignedInt",
	reflect.Uint64:  "unsignedLong",
	reflect.Float32: "float",
	reflect.Float64: "double",
	reflect.String:  "string",
}

// textPlan returns the plan of a type written as element text, or nil for
// a type that is not.
func textPlan(t reflect.Type) *plan {
	if t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface {
		return nil
	}
	p := &plan{kind: textKind, typ: t}
	switch {
	case t == timeType:
		p.name, p.format, p.parse, p.cost = "dateTime", formatTime, parseTime, timeCost
	case t == guidType:
		p.name, p.format, p.parse, p.cost = "guid", formatText, parseText, guidCost
	case hasMethod(t, textMarshalerType):
		p.name, p.format, p.parse, p.cost = ClassName(t), formatText, parseText, opaqueCost
	case isEnum(t):
		p.name, p.format, p.parse, p.cost = ClassName(t), formatEnum, parseText, opaqueCost
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 && !hasMethod(t.Elem(), textMarshalerType) && !isEnum(t.Elem()):
		p.name, p.format, p.parse, p.null, p.cost = "base64Binary", formatBase64, parseBase64, isNil, base64Cost
	case isInteger(t.Kind()):
		p.name, p.format, p.parse, p.cost = xsdNames[t.Kind()], formatInt, parseInt, numberCost
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		p.name, p.format, p.parse, p.cost = xsdNames[t.Kind()], formatFloat, parseFloat, numberCost
	case t.Kind() == reflect.Bool:
		p.name, p.format, p.parse, p.cost = "boolean", formatBool, parseBool, numberCost
	case t.Kind() == reflect.String:
		p.name, p.format, p.parse, p.null = "string", formatString, parseString, emptyString
	default:
		return nil
	}
	if p.name == "" && int(t.Kind()) < len(xsdNames) {
		p.name = xsdNames[t.Kind()]
	}
	return p
}

func isInteger(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Uint64
}

// hasMethod reports whether t or *t implements iface.
func hasMethod(t, iface reflect.Type) bool {
	return t.Implements(iface) || reflect.PointerTo(t).Implements(iface)
}

// isEnum reports whether t is written as a .NET enum: an integer type with
// a String method.
func isEnum(t reflect.Type) bool {
	return isInteger(t.Kind()) && hasMethod(t, stringerType)
}

func emptyString(v reflect.Value) bool { return v.Len() == 0 }

// addressable returns v itself when it is addressable, else a copy that is.
func addressable(v reflect.Value) reflect.Value {
	if v.CanAddr() {
		return v
	}
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	return c
}

// methodValue returns v or &v, whichever implements iface.
func methodValue(v reflect.Value, iface reflect.Type) any {
	if v.Type().Implements(iface) {
		return v.Interface()
	}
	return addressable(v).Addr().Interface()
}

func formatText(dst []byte, v reflect.Value) ([]byte, error) {
	b, err := methodValue(v, textMarshalerType).(encoding.TextMarshaler).MarshalText()
	if err != nil {
		return dst, err
	}
	return appendEscaped(dst, string(b))
}

func formatEnum(dst []byte, v reflect.Value) ([]byte, error) {
	return appendEscaped(dst, methodValue(v, stringerType).(fmt.Stringer).String())
}

func parseText(s string, v reflect.Value) error {
	if !reflect.PointerTo(v.Type()).Implements(textUnmarshalerType) {
		return fmt.Errorf("%s cannot be decoded: it does not implement encoding.TextUnmarshaler", v.Type())
	}
	return v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
}

func formatString(dst []byte, v reflect.Value) ([]byte, error) {
	return appendEscaped(dst, v.String())
}

func parseString(s string, v reflect.Value) error {
	v.SetString(s)
	return nil
}

func formatBool(dst []byte, v reflect.Value) ([]byte, error) {
	return strconv.AppendBool(dst, v.Bool()), nil
}

func parseBool(s string, v reflect.Value) error {
	switch strings.Trim(s, xmlSpace) {
	case "true", "1":
		v.SetBool(true)
	case "false", "0":
		v.SetBool(false)
	default:
		return fmt.Errorf("invalid boolean %q", s)
	}
	return nil
}

// formatInt writes an integer. Go's int and uint are .NET's 32-bit int and
// uint, so their values must fit in 32 bits.
func formatInt(dst []byte, v reflect.Value) ([]byte, error) {
	switch v.Kind() {
	case reflect.Int:
		if n := v.Int(); n < math.MinInt32 || n > math.MaxInt32 {
			return dst, fmt.Errorf("%d does not fit in a .NET int (32 bits); use int64 for a .NET long", n)
		}
	case reflect.Uint:
		if n := v.Uint(); n > math.MaxUint32 {
			return dst, fmt.Errorf("%d does not fit in a .NET uint (32 bits); use uint64 for a .NET ulong", n)
		}
	}
	if v.CanInt() {
		return strconv.AppendInt(dst, v.Int(), 10), nil
	}
	return strconv.AppendUint(dst, v.Uint(), 10), nil
}

func parseInt(s string, v reflect.Value) error {
	s = strings.Trim(s, xmlSpace)
	bits := v.Type().Bits()
	if k := v.Kind(); k == reflect.Int || k == reflect.Uint {
		bits = 32 // .NET's int and uint, as Marshal requires
	}
	if v.CanInt() {
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			return fmt.Errorf("invalid %s %q", xsdNames[v.Kind()], s)
		}
		v.SetInt(n)
		return nil
	}
	n, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		return fmt.Errorf("invalid %s %q", xsdNames[v.Kind()], s)
	}
	v.SetUint(n)
	return nil
}

func formatBase64(dst []byte, v reflect.Value) ([]byte, error) {
	return base64.StdEncoding.AppendEncode(dst, v.Bytes()), nil
}

func parseBase64(s string, v reflect.Value) error {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(xmlSpace, r) {
			return -1
		}
		return r
	}, s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("invalid base64Binary: %w", err)
	}
	v.SetBytes(b)
	return nil
}
