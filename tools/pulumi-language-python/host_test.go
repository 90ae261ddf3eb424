package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// serve runs the host's gRPC service on a loopback port, as the engine would reach it.
func serve(t *testing.T) pulumirpc.LanguageRuntimeClient {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pulumirpc.RegisterLanguageRuntimeServer(srv, &languageHost{executor: "unused"})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return pulumirpc.NewLanguageRuntimeClient(conn)
}

func programInfo(t *testing.T, root string, options map[string]any) *pulumirpc.ProgramInfo {
	t.Helper()
	opts, err := structpb.NewStruct(options)
	if err != nil {
		t.Fatal(err)
	}
	return &pulumirpc.ProgramInfo{RootDirectory: root, ProgramDirectory: root, EntryPoint: ".", Options: opts}
}

// pythonWithPip: a python3 on PATH that has pip, or the test is skipped.
func pythonWithPip(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not on PATH")
	}
	if out, err := exec.Command(py, "-m", "pip", "--version").CombinedOutput(); err != nil {
		t.Skipf("python3 has no pip: %s", out)
	}
	return py
}

// lightVenv creates a virtualenv without its own pip (it borrows the base interpreter's),
// which takes a fraction of a second instead of several.
func lightVenv(t *testing.T, py string) (venv, site string) {
	t.Helper()
	venv = filepath.Join(t.TempDir(), "venv")
	if out, err := exec.Command(py, "-m", "venv", "--without-pip", "--system-site-packages", venv).CombinedOutput(); err != nil {
		t.Fatalf("creating a virtualenv: %v\n%s", err, out)
	}
	matches, _ := filepath.Glob(filepath.Join(venv, "lib", "python3*", "site-packages"))
	if len(matches) != 1 {
		t.Fatalf("no site-packages in %s", venv)
	}
	return venv, matches[0]
}

// installFake writes a distribution as pip would leave it: its metadata, and its top-level
// module with an optional pulumi-plugin.json.
func installFake(t *testing.T, site, dist, module, version, pluginJSON string) {
	t.Helper()
	info := filepath.Join(site, strings.ReplaceAll(dist, "-", "_")+"-"+version+".dist-info")
	must(t, os.MkdirAll(info, 0o755))
	must(t, os.WriteFile(filepath.Join(info, "METADATA"),
		[]byte(fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n", dist, version)), 0o644))
	must(t, os.WriteFile(filepath.Join(info, "top_level.txt"), []byte(module+"\n"), 0o644))
	must(t, os.MkdirAll(filepath.Join(site, module), 0o755))
	must(t, os.WriteFile(filepath.Join(site, module, "__init__.py"), nil, 0o644))
	if pluginJSON != "" {
		must(t, os.WriteFile(filepath.Join(site, module, "pulumi-plugin.json"), []byte(pluginJSON), 0o644))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestPluginVersionFromPackageVersion(t *testing.T) {
	for in, want := range map[string]string{
		"6.1.0": "6.1.0", "1.0": "1.0.0", "2": "2.0.0", "1.2.3.4": "1.2.3.4",
		"3.31.0a1605189729": "3.31.0-alpha.1605189729", "1.2.3b4": "1.2.3-beta.4", "1.2.3rc4": "1.2.3-rc.4",
		"1.2.3.post4": "1.2.3+post4", "1.2.3.dev5": "1.2.3+dev5", "1.2.3.post4.dev5": "1.2.3+post4dev5",
		"1.0.post1": "1.0.0+post1", "1.2.3rc1.post2": "1.2.3-rc.1+post2",
	} {
		got, err := pluginVersion(in)
		if err != nil || got != want {
			t.Errorf("pluginVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "1!2.0", "1.2.3.", "1.2.3+local", "v1.2", "1.2.3xyz"} {
		if got, err := pluginVersion(bad); err == nil {
			t.Errorf("pluginVersion(%q) = %q; want an error", bad, got)
		}
	}
}

func TestRequiredPackagesAreTheVirtualenvsPulumiPackages(t *testing.T) {
	venv, site := lightVenv(t, pythonWithPip(t))
	installFake(t, site, "pulumi-aws", "pulumi_aws", "6.1.0", "")
	installFake(t, site, "pulumi-random", "pulumi_random", "4.2.0a1605", "")
	installFake(t, site, "acme-widgets", "acme_widgets", "1.2.0",
		`{"resource": true, "name": "widgets", "version": "2.0.0", "server": "https://example.invalid/plugins"}`)
	installFake(t, site, "acme-tools", "acme_tools", "1.0.0", `{"resource": false}`)
	installFake(t, site, "pulumi_policy", "pulumi_policy", "1.21.0", "")
	installFake(t, site, "pulumi-future", "pulumi_future", "1.0.0+local", "")
	installFake(t, site, "requests-lite", "requests_lite", "2.0.0", "")

	client := serve(t)
	info := programInfo(t, t.TempDir(), map[string]any{"toolchain": "pip", "virtualenv": venv})
	resp, err := client.GetRequiredPackages(context.Background(), &pulumirpc.GetRequiredPackagesRequest{Info: info})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range resp.GetPackages() {
		got = append(got, fmt.Sprintf("%s %s %s %s", p.GetKind(), p.GetName(), p.GetVersion(), p.GetServer()))
	}
	sort.Strings(got)
	want := []string{
		"resource aws v6.1.0 ",
		"resource random v4.2.0-alpha.1605 ",
		"resource widgets v2.0.0 https://example.invalid/plugins",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("GetRequiredPackages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	plugins, err := client.GetRequiredPlugins(context.Background(), &pulumirpc.GetRequiredPluginsRequest{Info: info})
	if err != nil {
		t.Fatal(err)
	}
	if len(plugins.GetPlugins()) != 3 {
		t.Fatalf("GetRequiredPlugins: %v", plugins.GetPlugins())
	}
}

func TestRunPluginStreamsTheProgramsOutputAndExitCode(t *testing.T) {
	venv, _ := lightVenv(t, pythonWithPip(t))
	plugin, pwd := t.TempDir(), t.TempDir()
	must(t, os.WriteFile(filepath.Join(plugin, "__main__.py"), []byte(`import os, sys
print("4242", flush=True)
print("args=" + ",".join(sys.argv[1:]))
print("cwd=" + os.getcwd())
print("venv=" + os.environ.get("VIRTUAL_ENV", ""))
print("extra=" + os.environ.get("PLUGIN_EXTRA", ""))
print("to stderr", file=sys.stderr)
sys.exit(3)
`), 0o644))

	stream, err := serve(t).RunPlugin(context.Background(), &pulumirpc.RunPluginRequest{
		Pwd: pwd, Args: []string{"a", "b"}, Env: []string{"PLUGIN_EXTRA=yes"}, Kind: "resource",
		Info: programInfo(t, plugin, map[string]any{"virtualenv": venv}),
	})
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	code := int32(-1)
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		stdout.Write(msg.GetStdout())
		stderr.Write(msg.GetStderr())
		if e, ok := msg.GetOutput().(*pulumirpc.RunPluginResponse_Exitcode); ok {
			code = e.Exitcode
		}
	}
	realPwd, _ := filepath.EvalSymlinks(pwd)
	want := fmt.Sprintf("4242\nargs=a,b\ncwd=%s\nvenv=%s\nextra=yes\n", realPwd, venv)
	if stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	if stderr.String() != "to stderr\n" || code != 3 {
		t.Errorf("stderr %q, exit code %d; want \"to stderr\\n\", 3", stderr.String(), code)
	}
}

// A policy pack is started behind the SDK's policy proxy: the engine first reaches the
// proxy, whose ConfigureStack call hands the pack its stack as the environment the Pulumi
// SDK reads. The pack here is a bare gRPC server that reports what it was started with.
func TestRunPluginStartsAPolicyPackWithItsStackConfiguration(t *testing.T) {
	venv, err := filepath.Abs(filepath.Join("..", "..", ".venv"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(filepath.Join(venv, "bin", "python"), "-c", "import grpc, pulumi.policy").CombinedOutput(); err != nil {
		t.Skipf("the project virtualenv (%s) has no Pulumi SDK: run `make venv` (%s)", venv, out)
	}
	pack, report := t.TempDir(), filepath.Join(t.TempDir(), "report.json")
	must(t, os.WriteFile(filepath.Join(pack, "__main__.py"), []byte(`import json, os, sys, time
from concurrent import futures
import grpc
server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
port = server.add_insecure_port("127.0.0.1:0")
server.start()
keys = ("PULUMI_STACK", "PULUMI_PROJECT", "PULUMI_ORGANIZATION", "PULUMI_DRY_RUN", "PULUMI_CONFIG")
with open(os.environ["REPORT"], "w") as f:
    json.dump({"env": {k: os.environ.get(k) for k in keys}, "cwd": os.getcwd()}, f)
print(port, flush=True)
time.sleep(120)
`), 0o644))

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := serve(t).RunPlugin(ctx, &pulumirpc.RunPluginRequest{
		Pwd: t.TempDir(), Args: []string{"127.0.0.1:1"}, Env: []string{"REPORT=" + report}, Kind: "analyzer",
		Info: programInfo(t, pack, map[string]any{"virtualenv": venv}),
	})
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var port int
	if _, err := fmt.Sscanf(string(first.GetStdout()), "%d\n", &port); err != nil {
		t.Fatalf("the first output is not a port: %q (%v)", first.GetStdout(), err)
	}
	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	must(t, err)
	defer conn.Close()
	analyzer := pulumirpc.NewAnalyzerClient(conn)
	_, err = analyzer.ConfigureStack(ctx, &pulumirpc.AnalyzerStackConfigureRequest{
		Stack: "prod", Project: "aep-pipelines", Organization: "acme", DryRun: true,
		Config: map[string]string{"aep:sandbox": "prod"},
	})
	must(t, err)
	// Calls now reach the pack: it implements no Analyzer method, so this one is Unimplemented.
	callCtx, done := context.WithTimeout(ctx, 60*time.Second)
	defer done()
	_, err = analyzer.GetPluginInfo(callCtx, &emptypb.Empty{})
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("GetPluginInfo through the proxy: %v; want the pack's Unimplemented", err)
	}
	var got struct {
		Env map[string]string `json:"env"`
		Cwd string            `json:"cwd"`
	}
	data, err := os.ReadFile(report)
	must(t, err)
	must(t, json.Unmarshal(data, &got))
	want := map[string]string{"PULUMI_STACK": "prod", "PULUMI_PROJECT": "aep-pipelines",
		"PULUMI_ORGANIZATION": "acme", "PULUMI_DRY_RUN": "true", "PULUMI_CONFIG": `{"aep:sandbox":"prod"}`}
	for k, v := range want {
		if got.Env[k] != v {
			t.Errorf("%s = %q, want %q", k, got.Env[k], v)
		}
	}
	if realPack, _ := filepath.EvalSymlinks(pack); got.Cwd != realPack {
		t.Errorf("the pack runs in %s, want its own directory %s", got.Cwd, realPack)
	}
}

func TestInstallDependenciesCreatesAPluginsVirtualenvAndRunsPip(t *testing.T) {
	// No package index here: a stand-in interpreter records what the toolchain asks of it.
	dir, bin := t.TempDir(), t.TempDir()
	log := filepath.Join(bin, "calls.log")
	fake := filepath.Join(bin, "python3")
	must(t, os.WriteFile(fake, []byte(`#!/bin/sh
echo "$PWD|$*" >> `+log+`
if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; exit 0; fi
if [ "$1 $2" = "-m pip" ]; then echo "pip: $3 done"; exit 0; fi
exit 1
`), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "requirements.txt"), []byte("pulumi-policy\n"), 0o644))
	t.Setenv("PULUMI_PYTHON_CMD", fake)

	stream, err := serve(t).InstallDependencies(context.Background(), &pulumirpc.InstallDependenciesRequest{
		IsPlugin: true, Info: programInfo(t, dir, map[string]any{"toolchain": "pip"}),
	})
	must(t, err)
	var out strings.Builder
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		must(t, err)
		out.Write(msg.GetStdout())
		out.Write(msg.GetStderr())
	}
	for _, s := range []string{"Installing dependencies...", "Creating virtual environment...", "pip: install done",
		"Finished installing dependencies"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
	}
	calls, err := os.ReadFile(log)
	must(t, err)
	venv := filepath.Join(dir, "venv")
	want := fmt.Sprintf("|-m venv %s\n%s|-m pip install --upgrade pip setuptools wheel\n%s|-m pip install -r requirements.txt\n",
		venv, dir, dir)
	if got := string(calls); !strings.HasSuffix(got, want) {
		t.Errorf("calls:\n%s\nwant (the venv defaulting to venv/ beside a plugin):\n%s", got, want)
	}
}
