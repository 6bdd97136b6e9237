package dotnet

import (
	"reflect"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/serializers/dotnetxml"
)

// Compat returns the option that makes a netmessage Mux, and the servers
// and clients NewServer and NewClient build on it, speak to .NET
// NetMessage endpoints: the compat protocol (New), the .NET XML serializer
// (dotnetxml) and base.WithSkipUnknownResponses, as the original does;
// then opts (which may override the protocol or serializer):
//
//	mux, err := netmessage.NewMux(dotnet.Compat(
//		dotnet.Namespace("Interop", WeatherRequest{}, WeatherResponse{}, ChatMessage{}),
//	))
//	client := netmessage.NewClient(mux)
func Compat(opts ...netmessage.Option) netmessage.Option {
	all := make([]netmessage.Option, 0, 3+len(opts))
	all = append(all, netmessage.WithProtocol(New), netmessage.WithSerializer(dotnetxml.New()),
		netmessage.WithTransport(base.WithSkipUnknownResponses()))
	return netmessage.Combine(append(all, opts...)...)
}

// Namespace returns an option that gives each type of the values in types
// (values or pointers, such as WeatherRequest{}) the type id .NET uses for
// its class: its FullName, ns + "." + the class name, such as
// "Interop.WeatherRequest". The class name is the Go type's name, or what
// its DotNetName method returns (see dotnetxml.ClassNamer), so one method
// renames both the type id and the XML root element. An empty ns is .NET's
// global namespace: the id is the class name alone. Call Namespace once
// per .NET namespace.
func Namespace(ns string, types ...any) netmessage.Option {
	opts := make([]netmessage.Option, 0, len(types))
	for _, v := range types {
		opts = append(opts, netmessage.WithTypeIDOf(v, TypeID(ns, v)))
	}
	return netmessage.Combine(opts...)
}

// Nested is Namespace for classes nested in a class: each type's id is
// the FullName .NET gives a nested class, ns + "." + outer + "+" + the
// class name, such as "Interop.Outer+Inner" for
//
//	namespace Interop { public class Outer { public class Inner { ... } } }
//
// The class name is the Go type's, or its DotNetName, as for Namespace;
// the XML root element is the class name alone (<Inner>), as .NET writes
// it. For a class nested two deep, outer is "Outer+Middle".
func Nested(ns, outer string, types ...any) netmessage.Option {
	opts := make([]netmessage.Option, 0, len(types))
	for _, v := range types {
		opts = append(opts, netmessage.WithTypeIDOf(v, NestedTypeID(ns, outer, v)))
	}
	return netmessage.Combine(opts...)
}

// TypeID returns the .NET type id (FullName) of v's type in namespace ns,
// as Namespace assigns it. It returns "" for a nil v.
func TypeID(ns string, v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return ""
	}
	return fullName(ns, dotnetxml.ClassName(t))
}

// NestedTypeID returns the .NET type id (FullName) of v's type nested in
// the class outer of namespace ns, as Nested assigns it. It returns "" for
// a nil v.
func NestedTypeID(ns, outer string, v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return ""
	}
	return fullName(ns, outer+"+"+dotnetxml.ClassName(t))
}

func fullName(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "." + name
}
