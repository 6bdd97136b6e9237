package netmessage_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestContractEnforcedByCompiler builds a program whose request handler
// answers WeatherRequest with the wrong type and checks that the Go
// toolchain refuses it with the contract error.
func TestContractEnforcedByCompiler(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program with the go command")
	}
	_, file, _, _ := runtime.Caller(0)
	modDir := filepath.Dir(file)
	root := filepath.Dir(modDir)
	dir := t.TempDir()
	gomod := `module contractcheck

go 1.26

require github.com/netmessage-go/netmessage/netmessage v0.0.0

replace (
	github.com/netmessage-go/netmessage/netmessage => ` + modDir + `
	github.com/netmessage-go/netmessage/base => ` + filepath.Join(root, "base") + `
	github.com/netmessage-go/netmessage/serializers => ` + filepath.Join(root, "serializers") + `
)
`
	prog := `package main

import (
	"context"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
)

type WeatherResponse struct{ Forecast string }
type OtherResponse struct{ Text string }

type WeatherRequest struct {
	netmessage.Returns[WeatherResponse]
	City string
}

func main() {
	mux, _ := netmessage.NewMux()
	_ = netmessage.HandleRequest(mux, func(ctx context.Context, s *base.Session, r WeatherRequest) (OtherResponse, error) {
		return OtherResponse{}, nil
	})
}
`
	sum, err := os.ReadFile(filepath.Join(modDir, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"go.mod": gomod, "main.go": prog, "go.sum": string(sum)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", os.DevNull, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("the wrong handler compiled")
	}
	const want = "(type WeatherRequest) does not satisfy netmessage.RequestType[Resp] (wrong type for method netmessageReturns)"
	if !strings.Contains(string(out), want) {
		t.Fatalf("build failed for another reason:\n%s\nwant the message containing %q", out, want)
	}
	t.Logf("compiler said:\n%s", out)
}
