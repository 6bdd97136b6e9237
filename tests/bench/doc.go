// Package bench compares NetMessage for Go with other ways to make calls
// between two Go processes: the base transport alone, net/rpc, gRPC and a
// minimal hand-written protocol over raw TCP (the floor: the least work a
// multiplexed request/response connection can do).
//
// Every contender is a [Contender]. [Run] measures one contender in
// one workload ([Spec]) on loopback, [Idle] measures idle sessions, and
// [Report] and [Chart] turn results into a markdown report and an SVG
// chart. The command in cmd/bench runs all of it; docs/performance.md in
// the repository quotes one run.
//
// The package is a module of its own so that its dependencies (gRPC among
// them) never reach the SDK's users.
package bench
