package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// RunPlugin runs a plugin written in Python and streams its output to the engine, which
// reads the plugin's gRPC port from the first line. Three layouts, as with the official host:
//
//   - a policy pack (kind "analyzer") runs as `python -u -m pulumi.policy <args> <pack dir>`
//     in its own directory. The engine first talks to a proxy (the SDK's PolicyProxy) whose
//     port we hand back: it waits for the stack configuration, which the pack then gets as
//     PULUMI_STACK, PULUMI_PROJECT, PULUMI_ORGANIZATION, PULUMI_DRY_RUN and PULUMI_CONFIG
//     (what `pulumi.Config()` reads), and afterwards forwards every call to the pack;
//   - a directory with __main__.py runs as `python <dir> <args>` in the engine's directory;
//   - a buildable package (pyproject.toml, no __main__.py) runs through the SDK's
//     `pulumi.run.plugin` entry point.
//
// A non-zero exit is reported as the plugin's exit code.
func (h *languageHost) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	ctx := server.Context()
	analyzer := req.GetKind() == string(apitype.AnalyzerPlugin)
	opts, err := pythonOptions(req.GetInfo(), !analyzer)
	if err != nil {
		return err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return err
	}
	dir := req.GetInfo().GetProgramDirectory()

	hasMain := true
	if _, err := os.Stat(filepath.Join(opts.Root, "__main__.py")); errors.Is(err, fs.ErrNotExist) {
		hasMain = false
	} else if err != nil {
		return fmt.Errorf("looking for __main__.py: %w", err)
	}

	var cmd *exec.Cmd
	switch {
	case !hasMain && hasModule(tc, server, "pulumi.run.plugin"):
		buildable, err := toolchain.IsBuildablePackage(opts.Root)
		if err != nil {
			return fmt.Errorf("checking if plugin is a buildable package: %w", err)
		}
		if !buildable {
			return errors.New("plugin is not runnable, it provides neither __main__.py nor a buildable pyproject.toml")
		}
		pyproject, err := toolchain.LoadPyproject(opts.Root)
		if err != nil {
			return fmt.Errorf("loading pyproject: %w", err)
		}
		cmd, err = tc.ModuleCommand(ctx, "pulumi.run.plugin", append([]string{pyproject.Project.Name}, req.GetArgs()...)...)
		if err != nil {
			return err
		}
	case analyzer:
		args := append(append([]string{"-u", "-m", "pulumi.policy"}, req.GetArgs()...), dir)
		if cmd, err = tc.Command(ctx, args...); err != nil {
			return err
		}
	default:
		if cmd, err = tc.Command(ctx, append([]string{dir}, req.GetArgs()...)...); err != nil {
			return err
		}
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}

	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	var proxy *sdk.PolicyProxy
	if analyzer {
		// Policy packs have always run in their own directory.
		cmd.Dir = dir
		if proxy, stdout, err = sdk.NewPolicyProxy(ctx, stdout); err != nil {
			return fmt.Errorf("could not start the policy pack proxy: %w", err)
		}
		stack, err := proxy.AwaitConfiguration(ctx)
		if err != nil {
			return fmt.Errorf("could not get the stack configuration: %w", err)
		}
		if stack != nil {
			env, err := policyEnv(stack)
			if err != nil {
				return err
			}
			cmd.Env = append(cmd.Env, env...)
		}
	} else {
		cmd.Dir = req.GetPwd()
	}
	cmd.Env = append(cmd.Env, req.GetEnv()...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// When the engine is done with the plugin it cancels the call: let Python shut down.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second

	if err := cmd.Start(); err != nil {
		if proxy != nil {
			proxy.Abort(err)
		}
		return fmt.Errorf("problem executing plugin program (could not run %s): %w", cmd.Path, err)
	}
	if proxy != nil {
		err = proxy.Attach(ctx, cmd)
	} else {
		err = cmd.Wait()
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil // the engine ended the call: the plugin was stopped on purpose
		}
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return server.Send(&pulumirpc.RunPluginResponse{
				Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(exitErr.ExitCode())}, //nolint:gosec
			})
		}
		return fmt.Errorf("plugin program failed: %w", err)
	}
	return closer.Close()
}

// hasModule: can the toolchain's Python import `module`? Only a missing module counts as
// no; any other failure is left for the real run to report.
func hasModule(tc toolchain.Toolchain, server pulumirpc.LanguageRuntime_RunPluginServer, module string) bool {
	cmd, err := tc.Command(server.Context(), "-c", "import "+module)
	if err != nil {
		return false
	}
	out, err := cmd.CombinedOutput()
	return err == nil || !strings.Contains(string(out), "ModuleNotFoundError")
}

// policyEnv is the stack a policy pack analyzes, as the environment the Pulumi SDK reads.
func policyEnv(stack *pulumirpc.AnalyzerStackConfigureRequest) ([]string, error) {
	var env []string
	add := func(k, v string) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	add("PULUMI_ORGANIZATION", stack.GetOrganization())
	add("PULUMI_PROJECT", stack.GetProject())
	add("PULUMI_STACK", stack.GetStack())
	add("PULUMI_DRY_RUN", strconv.FormatBool(stack.GetDryRun()))
	if stack.GetConfig() != nil {
		config, err := json.Marshal(stack.GetConfig())
		if err != nil {
			return nil, fmt.Errorf("could not encode the stack configuration: %w", err)
		}
		add("PULUMI_CONFIG", string(config))
	}
	return env, nil
}
