// Command pulumi-language-python is the project's fallback Python language host.
//
// scripts/bootstrap builds it only when the official host module cannot be fetched from the
// Go module proxy (the proxy serves that untagged module only at pseudo-versions it has
// seen). It serves the LanguageRuntime gRPC service for pip + virtualenv projects and
// plugins, and keeps to what the official host does for the same calls, so that CI, which
// can only run this host, tells the truth about a user's official install:
//
//   - Run starts Pulumi's `pulumi-language-python-exec` (installed next to this binary)
//     with the project's virtualenv interpreter;
//   - RunPlugin starts a policy pack or a component provider and streams its output back;
//   - the dependency and plugin queries list the virtualenv's Pulumi packages;
//   - InstallDependencies creates the virtualenv and runs pip.
//
// Interpreter resolution, virtualenv activation, `pip list` and `pip install` go through
// the SDK's python/toolchain package, the library the official host is built on.
// Code generation, packing, linking, debugging and typecheckers answer Unimplemented.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	pbempty "google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// version is set with -ldflags at build time to the Pulumi CLI version it ships with.
var version = "0.0.0-dev"

// exitAfterUserMessage is the exit code pulumi-language-python-exec uses after it has
// already printed an actionable error; the engine then bails without a second message.
const exitAfterUserMessage = 32

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.String("tracing", "", "tracing endpoint (accepted, unused)")
	// Flags older engines pass; the runtime options in ProgramInfo carry these now.
	flag.String("virtualenv", "", "[obsolete] virtual environment path")
	flag.String("root", "", "[obsolete] project root path")
	flag.String("typechecker", "", "[obsolete] typechecker")
	flag.String("toolchain", "pip", "[obsolete] package manager")
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

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	host := &languageHost{executor: executor, stop: stop}
	if args := flag.Args(); len(args) > 0 {
		host.engineAddress = args[len(args)-1]
	}
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

	executor string
	stop     context.CancelFunc // ends the host; nil in tests

	mu            sync.Mutex
	engineAddress string
	running       map[*exec.Cmd]struct{}
}

// Handshake records the engine address and, as for an address given on the command line,
// watches the engine so the host exits with it.
func (h *languageHost) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if addr := req.GetEngineAddress(); addr != "" {
		h.mu.Lock()
		h.engineAddress = addr
		h.mu.Unlock()
		if h.stop != nil {
			if err := rpcutil.Healthcheck(context.Background(), addr, 5*time.Minute, h.stop); err != nil {
				return nil, fmt.Errorf("cannot start the engine health check: %w", err)
			}
		}
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

// GetPluginInfo reports the version this host was built for.
func (h *languageHost) GetPluginInfo(context.Context, *pbempty.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// RuntimeOptionsPrompts: `pulumi new` questions; this host asks none.
func (h *languageHost) RuntimeOptionsPrompts(context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

// About names the interpreter the program runs with, and its version.
func (h *languageHost) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	opts := toolchain.PythonOptions{Toolchain: toolchain.Pip}
	if req.GetInfo() != nil {
		var err error
		if opts, err = pythonOptions(req.GetInfo(), false); err != nil {
			return nil, err
		}
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	info, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{Executable: info.PythonExecutable, Version: info.PythonVersion.String()}, nil
}

// Run executes the Python program through pulumi-language-python-exec and reports its outcome.
func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	opts, err := pythonOptions(req.GetInfo(), false)
	if err != nil {
		return nil, err
	}
	if opts.Typechecker != toolchain.TypeCheckerNone {
		return nil, errors.New("the `typechecker` runtime option is not supported by the project's fallback " +
			"language host: remove it from Pulumi.yaml, or install the Pulumi CLI the official way")
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}

	args := []string{"-u", h.executor}
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engine())
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

	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return nil, err
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secretJSON))
	cmd.Dir = req.GetPwd()
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second

	if err := cmd.Start(); err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run %s: %v", cmd.Path, err)}, nil
	}
	h.track(cmd, true)
	err = cmd.Wait()
	h.track(cmd, false)
	// Python does not flush on an abnormal exit: make sure the engine sees what it printed.
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

// pythonOptions reads the runtime options of Pulumi.yaml (or PulumiPolicy.yaml, or a
// plugin's PulumiPlugin.yaml). Plugins never run on the ambient interpreter: with pip and
// no `virtualenv` they get `venv` beside them, as with the official host.
func pythonOptions(info *pulumirpc.ProgramInfo, isPlugin bool) (toolchain.PythonOptions, error) {
	opts := toolchain.PythonOptions{Root: info.GetRootDirectory(), ProgramDir: info.GetProgramDirectory()}
	raw := map[string]any{}
	if info.GetOptions() != nil {
		raw = info.GetOptions().AsMap()
	}
	str := func(key string) (string, bool, error) {
		v, ok := raw[key]
		if !ok {
			return "", false, nil
		}
		s, isStr := v.(string)
		if !isStr {
			return "", true, fmt.Errorf("the %q runtime option must be a string", key)
		}
		return s, true, nil
	}
	venv, _, err := str("virtualenv")
	if err != nil {
		return opts, err
	}
	opts.Virtualenv = venv
	if tc, ok, err := str("toolchain"); err != nil {
		return opts, err
	} else if ok {
		switch tc {
		case "pip":
			opts.Toolchain = toolchain.Pip
		case "poetry":
			opts.Toolchain = toolchain.Poetry
		case "uv":
			opts.Toolchain = toolchain.Uv
		default:
			return opts, fmt.Errorf("unsupported toolchain option %q: use pip, poetry or uv", tc)
		}
	}
	if checker, ok, err := str("typechecker"); err != nil {
		return opts, err
	} else if ok {
		switch checker {
		case "mypy":
			opts.Typechecker = toolchain.TypeCheckerMypy
		case "pyright":
			opts.Typechecker = toolchain.TypeCheckerPyright
		default:
			return opts, fmt.Errorf("unsupported typechecker option %q: use mypy or pyright", checker)
		}
	}
	if isPlugin && (opts.Toolchain == toolchain.Pip || opts.Toolchain == toolchain.Auto) && opts.Virtualenv == "" {
		opts.Virtualenv = "venv"
	}
	return opts, nil
}

// engineLog returns writers that show a long step's output (a virtualenv being created)
// as ephemeral engine messages, or on stderr when no engine is known.
func (h *languageHost) engineLog(ctx context.Context) (stdout, stderr io.Writer, closeFn func()) {
	addr := h.engine()
	if addr == "" {
		return os.Stderr, os.Stderr, func() {}
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		rpcutil.GrpcChannelOptions())
	if err != nil {
		return os.Stderr, os.Stderr, func() {}
	}
	client := pulumirpc.NewEngineClient(conn)
	stream := int32(os.Getpid())
	mk := func(sev pulumirpc.LogSeverity) io.Writer {
		return writerFunc(func(p []byte) (int, error) {
			_, err := client.Log(ctx, &pulumirpc.LogRequest{Severity: sev, Ephemeral: true, StreamId: stream,
				Message: strings.ToValidUTF8(string(p), "\uFFFD")})
			if err != nil {
				return 0, err
			}
			return len(p), nil
		})
	}
	return mk(pulumirpc.LogSeverity_INFO), mk(pulumirpc.LogSeverity_ERROR), func() { _ = conn.Close() }
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
