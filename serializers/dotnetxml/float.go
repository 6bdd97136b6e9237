package dotnetxml

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// formatFloat writes a double or float as .NET's XmlConvert does: the
// shortest text that reads back as the same value, in fixed notation for
// decimal exponents from -4 up to 14 for a double (6 for a float), else
// as "1.5E+20" (mantissa, "E", sign, at least two exponent digits); "INF",
// "-INF" and "NaN" for the special values.
func formatFloat(dst []byte, v reflect.Value) ([]byte, error) {
	return appendFloat(dst, v.Float(), v.Type().Bits()), nil
}

func appendFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "INF"...)
	case math.IsInf(f, -1):
		return append(dst, "-INF"...)
	case f == 0:
		return strconv.AppendFloat(dst, f, 'f', -1, bits) // "0" or "-0"
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, bits) // "-1.25e+07"
	i := strings.LastIndexByte(string(e), 'e')
	exp, _ := strconv.Atoi(string(e[i+1:]))
	limit := 15
	if bits == 32 {
		limit = 7
	}
	if exp > -5 && exp < limit {
		return strconv.AppendFloat(dst, f, 'f', -1, bits)
	}
	dst = append(dst, e[:i]...)
	dst = append(dst, 'E', e[i+1]) // the sign
	digits := e[i+2:]
	if len(digits) < 2 {
		dst = append(dst, '0')
	}
	return append(dst, digits...)
}

func parseFloat(s string, v reflect.Value) error {
	s = strings.Trim(s, xmlSpace)
	var f float64
	var err error
	switch s {
	case "INF":
		f = math.Inf(1)
	case "-INF":
		f = math.Inf(-1)
	case "NaN":
		f = math.NaN()
	default:
		if strings.ContainsAny(s, "iInN_xXpP") { // no Go-only forms: Inf, hex, underscores
			return fmt.Errorf("invalid %s %q", xsdNames[v.Kind()], s)
		}
		f, err = strconv.ParseFloat(s, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("invalid %s %q", xsdNames[v.Kind()], s)
		}
	}
	v.SetFloat(f)
	return nil
}
