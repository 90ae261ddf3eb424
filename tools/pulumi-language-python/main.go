// Command pulumi-language-python is a small Python language host for the Pulumi engine.
//
// scripts/bootstrap builds it only when the official language host module cannot be
// fetched from the Go module proxy (the proxy serves that untagged module only at
// pseudo-versions it has seen). It implements the part of the LanguageRuntime gRPC
// service that `pulumi up/preview/refresh/destroy` use for a pip + virtualenv project:
// it runs Pulumi's own `pulumi-language-python-exec` script (installed next to this
// binary) with the project's virtualenv interpreter. Everything else answers
// Unimplemented, which the engine treats as "not supported".
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	pbempty "google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/grpc"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// version is set with -ldflags at build time to the Pulumi CLI version it ships with.
var version = "0.0.0-dev"

// exitAfterUserMessage is the exit code pulumi-language-python-exec uses after it has
// already printed an actionable error; the engine then bails without a second message.
const exitAfterUserMessage = 32

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.String("tracing", "", "tracing endpoint (accepted, unused)")
	// -v and --logtostderr, which the engine may pass, are registered by glog (linked in via the SDK).
	flag.Parse()
	if *showVersion {
		fmt.Println(version)
		return
	}

	self, err := os.Executable()
	if err != nil {
		fail(fmt.Errorf("cannot locate this executable: %w", err))
	}
	executor := filepath.Join(filepath.Dir(self), "pulumi-language-python-exec")
	if _, err := os.Stat(executor); err != nil {
		fail(fmt.Errorf("missing executor %s: %w", executor, err))
	}

	host := &languageHost{executor: executor}
	if args := flag.Args(); len(args) > 0 {
		host.engineAddress = args[len(args)-1]
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cancel := make(chan bool)
	go func() { <-ctx.Done(); close(cancel) }()

	if host.engineAddress != "" {
		// Exit when the engine goes away, as every Pulumi plugin does.
		if err := rpcutil.Healthcheck(ctx, host.engineAddress, 5*time.Minute, stop); err != nil {
			fail(fmt.Errorf("cannot start the engine health check: %w", err))
		}
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fail(fmt.Errorf("cannot start the language host server: %w", err))
	}
	// The engine reads the port from our first line of output.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "pulumi-language-python: %v\n", err)
	os.Exit(1)
}

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	executor      string
	engineAddress string

	mu      sync.Mutex
	running map[*exec.Cmd]struct{}
}

// Handshake records the engine address when the engine sends it this way.
func (h *languageHost) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

// GetPluginInfo reports the version this host was built for.
func (h *languageHost) GetPluginInfo(context.Context, *pbempty.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// GetRequiredPlugins: the project's only provider, pulumi-python, is bundled with the CLI.
func (h *languageHost) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

// GetRequiredPackages: as GetRequiredPlugins, nothing to download.
func (h *languageHost) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

// GetProgramDependencies: reported by `pulumi about` only; the virtualenv is managed by the Makefile.
func (h *languageHost) GetProgramDependencies(context.Context, *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

// InstallDependencies is a no-op: `make` creates and fills the virtualenv before any pulumi command.
func (h *languageHost) InstallDependencies(req *pulumirpc.InstallDependenciesRequest,
	_ grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	python, _ := h.interpreter(req.GetInfo())
	if _, err := os.Stat(python); err != nil && filepath.IsAbs(python) {
		return fmt.Errorf("virtualenv interpreter %s not found: run `make venv`", python)
	}
	return nil
}

// RuntimeOptionsPrompts: no interactive questions.
func (h *languageHost) RuntimeOptionsPrompts(context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

// About names the interpreter the program runs with.
func (h *languageHost) About(_ context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	python, _ := h.interpreter(req.GetInfo())
	return &pulumirpc.AboutResponse{Executable: python}, nil
}

// Run executes the Python program through pulumi-language-python-exec and reports its outcome.
func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	python, venv := h.interpreter(req.GetInfo())
	args := []string{"-u", h.executor}
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engineAddress)
	add("project", req.GetProject())
	add("root_directory", req.GetInfo().GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", strconv.FormatBool(req.GetDryRun()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("organization", req.GetOrganization())
	entry := req.GetInfo().GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	configMap := req.GetConfig()
	if configMap == nil {
		configMap = map[string]string{} // the executor expects an object, never null
	}
	config, err := json.Marshal(configMap)
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}

	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Dir = req.GetPwd()
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secretJSON))
	if venv != "" {
		cmd.Env = append(cmd.Env, "VIRTUAL_ENV="+venv, "PATH="+filepath.Join(venv, "bin")+":"+os.Getenv("PATH"))
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second

	if err := cmd.Start(); err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run %s: %v", python, err)}, nil
	}
	h.track(cmd, true)
	err = cmd.Wait()
	h.track(cmd, false)
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()
	if err == nil {
		return &pulumirpc.RunResponse{}, nil
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if exitErr.ExitCode() == exitAfterUserMessage {
			return &pulumirpc.RunResponse{Bail: true}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited with non-zero exit code: %d", exitErr.ExitCode())}, nil
	}
	return &pulumirpc.RunResponse{Error: err.Error()}, nil
}

// Cancel interrupts any running program, as the engine asks on Ctrl-C.
func (h *languageHost) Cancel(context.Context, *pbempty.Empty) (*pbempty.Empty, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for cmd := range h.running {
		if cmd.Process != nil {
			_ = cmd.Process.Signal(os.Interrupt)
		}
	}
	return &pbempty.Empty{}, nil
}

func (h *languageHost) track(cmd *exec.Cmd, add bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.running == nil {
		h.running = map[*exec.Cmd]struct{}{}
	}
	if add {
		h.running[cmd] = struct{}{}
	} else {
		delete(h.running, cmd)
	}
}

// interpreter resolves the Python to run: the `virtualenv` runtime option (relative to
// the project root), else $PULUMI_PYTHON_CMD, else python3 on PATH.
func (h *languageHost) interpreter(info *pulumirpc.ProgramInfo) (python, venv string) {
	if info != nil && info.GetOptions() != nil {
		if v, ok := info.GetOptions().AsMap()["virtualenv"].(string); ok && v != "" {
			if !filepath.IsAbs(v) {
				v = filepath.Join(info.GetRootDirectory(), v)
			}
			return filepath.Join(v, "bin", "python"), v
		}
	}
	if cmd := os.Getenv("PULUMI_PYTHON_CMD"); cmd != "" {
		return cmd, ""
	}
	return "python3", ""
}
