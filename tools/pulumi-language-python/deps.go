package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// Packages that are named like Pulumi packages but never come with a plugin (older
// releases of pulumi-policy ship no pulumi-plugin.json saying so).
var noPlugin = map[string]bool{"pulumi-policy": true, "pulumi-esc-sdk": true}

// distributionsScript prints every distribution the interpreter can import, as
// [{name, version, plugin}]: the name normalized as pip lists it (PEP 503), the first on
// sys.path winning as it does for imports, and the path of its pulumi-plugin.json or "".
// That file sits in the distribution's top-level module (pulumi_aws/ for pulumi-aws).
// Called with names, it reports just those (for toolchains that list packages themselves).
const distributionsScript = `import importlib.metadata as md, importlib.util as iu, json, os, re, sys
def plugin_json(name):
    try:
        spec = iu.find_spec(name.replace("-", "_"))
    except Exception:
        return ""
    for d in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(str(d), "pulumi-plugin.json")
        if os.path.isfile(path):
            return path
    return ""
wanted = set(sys.argv[1:])
out, seen = [], set()
for dist in md.distributions():
    name = dist.metadata["Name"]
    norm = re.sub(r"[-_.]+", "-", name or "").lower()
    if not name or norm in seen or (wanted and norm not in wanted):
        continue
    seen.add(norm)
    out.append({"name": norm, "version": dist.version, "plugin": plugin_json(name)})
print(json.dumps(out))`

// pulumiPackage is an installed distribution that is a Pulumi package, with its
// pulumi-plugin.json when it has one.
type pulumiPackage struct {
	dist plugin.DependencyInfo
	meta *plugin.PulumiPluginJSON
}

// GetRequiredPackages lists the resource plugins the program's Pulumi packages need. As the
// official host does, it first creates the virtualenv if it does not exist yet.
func (h *languageHost) GetRequiredPackages(ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	pkgs, err := h.requiredPackages(ctx, req.GetInfo())
	if err != nil {
		return nil, err
	}
	out := []*pulumirpc.PackageDependency{}
	for _, p := range pkgs {
		if dep := packageDependency(p); dep != nil {
			out = append(out, dep)
		}
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: out}, nil
}

// GetRequiredPlugins is what engines older than GetRequiredPackages ask: the same list
// without parameterization (the engine this project pins asks GetRequiredPackages).
func (h *languageHost) GetRequiredPlugins(ctx context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	pkgs, err := h.requiredPackages(ctx, req.GetInfo())
	if err != nil {
		return nil, err
	}
	out := []*pulumirpc.PluginDependency{}
	for _, p := range pkgs {
		if dep := packageDependency(p); dep != nil {
			out = append(out, &pulumirpc.PluginDependency{Name: dep.Name, Kind: dep.Kind, Version: dep.Version,
				Server: dep.Server})
		}
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: out}, nil
}

func (h *languageHost) requiredPackages(ctx context.Context, info *pulumirpc.ProgramInfo) ([]pulumiPackage, error) {
	opts, err := pythonOptions(info, false)
	if err != nil {
		return nil, err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	stdout, stderr, done := h.engineLog(ctx)
	defer done()
	if err := tc.EnsureVenv(ctx, info.GetProgramDirectory(), false, true, stdout, stderr); err != nil {
		return nil, err
	}
	return listPulumiPackages(ctx, tc, opts)
}

// listPulumiPackages: every installed distribution (dependencies of dependencies too) that
// has a pulumi-plugin.json or is named pulumi-*. For pip this is one interpreter run instead
// of the official host's `pip list` plus a lookup (pip alone takes half a second to start,
// on every preview and update); the distributions found are the same.
func listPulumiPackages(ctx context.Context, tc toolchain.Toolchain, opts toolchain.PythonOptions,
) ([]pulumiPackage, error) {
	var names []string
	if opts.Toolchain != toolchain.Pip {
		dists, err := tc.ListPackages(ctx, true)
		if err != nil {
			return nil, err
		}
		if len(dists) == 0 {
			return nil, nil
		}
		for _, d := range dists {
			names = append(names, d.Name)
		}
	}
	cmd, err := tc.Command(ctx, append([]string{"-c", distributionsScript}, names...)...)
	if err != nil {
		return nil, err
	}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing the Python packages with %s: %w", cmd.Path, err)
	}
	var found []struct{ Name, Version, Plugin string }
	if err := json.Unmarshal(out, &found); err != nil {
		return nil, fmt.Errorf("reading the list of Python packages: %w", err)
	}
	var pkgs []pulumiPackage
	for _, d := range found {
		if noPlugin[d.Name] {
			continue
		}
		var meta *plugin.PulumiPluginJSON
		if d.Plugin != "" {
			m, err := plugin.LoadPulumiPluginJSON(d.Plugin)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("%s of %s: %w", d.Plugin, d.Name, err)
			}
			meta = m
		}
		if meta == nil && !strings.HasPrefix(d.Name, "pulumi-") {
			continue
		}
		pkgs = append(pkgs, pulumiPackage{dist: plugin.DependencyInfo{Name: d.Name, Version: d.Version}, meta: meta})
	}
	return pkgs, nil
}

// packageDependency is the plugin a Pulumi package needs, or nil: none (`"resource":
// false`), or a package version no plugin version can be derived from.
func packageDependency(p pulumiPackage) *pulumirpc.PackageDependency {
	name, ver, server := "", "", ""
	dep := &pulumirpc.PackageDependency{Kind: "resource"}
	if m := p.meta; m != nil {
		if !m.Resource {
			return nil
		}
		name, ver, server = m.Name, m.Version, m.Server
		if pp := m.Parameterization; pp != nil {
			dep.Parameterization = &pulumirpc.PackageParameterization{Name: pp.Name, Version: pp.Version, Value: pp.Value}
		}
		if pp := m.ExtensionParameterization; pp != nil {
			dep.Extension = &pulumirpc.PackageParameterization{Name: pp.Name, Version: pp.Version, Value: pp.Value}
		}
	}
	if name == "" {
		name = strings.TrimPrefix(p.dist.Name, "pulumi-")
	}
	if ver == "" {
		v, err := pluginVersion(p.dist.Version)
		if err != nil {
			return nil
		}
		ver = v
	}
	if !strings.HasPrefix(ver, "v") {
		ver = "v" + ver
	}
	dep.Name, dep.Version, dep.Server = name, ver, server
	return dep
}

// pluginVersion turns a PEP 440 release of a package into the semver of its plugin:
// at least three numeric segments, a/b/rc as -alpha.N/-beta.N/-rc.N, and .postN/.devN as
// build metadata (1.2.3.post4.dev5 -> 1.2.3+post4dev5). Epochs and local versions have no
// plugin version.
func pluginVersion(pep440 string) (string, error) {
	rest := pep440
	digits := func() string {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		d := rest[:i]
		rest = rest[i:]
		return d
	}
	var segs []string
	for {
		d := digits()
		if d == "" {
			break
		}
		segs = append(segs, d)
		// A dot followed by a digit continues the release; otherwise it starts .post/.dev.
		if len(rest) > 1 && rest[0] == '.' && rest[1] >= '0' && rest[1] <= '9' {
			rest = rest[1:]
			continue
		}
		break
	}
	if len(segs) == 0 {
		return "", fmt.Errorf("%q has no release number", pep440)
	}
	if strings.HasPrefix(rest, "!") {
		return "", fmt.Errorf("%q: epochs are not supported", pep440)
	}
	for len(segs) < 3 {
		segs = append(segs, "0")
	}
	out := strings.Join(segs, ".")
	for _, pre := range []struct{ tag, semver string }{{"rc", "-rc."}, {"a", "-alpha."}, {"b", "-beta."}} {
		if strings.HasPrefix(rest, pre.tag) {
			rest = rest[len(pre.tag):]
			out += pre.semver + digits()
			break
		}
	}
	build := ""
	if strings.HasPrefix(rest, ".post") {
		rest = rest[len(".post"):]
		build += "post" + digits()
	}
	if strings.HasPrefix(rest, ".dev") {
		rest = rest[len(".dev"):]
		build += "dev" + digits()
	}
	if rest != "" {
		return "", fmt.Errorf("%q: cannot read %q", pep440, rest)
	}
	if build != "" {
		out += "+" + build
	}
	return out, nil
}

// GetProgramDependencies lists the virtualenv's distributions (`pulumi about`).
func (h *languageHost) GetProgramDependencies(ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	opts, err := pythonOptions(req.GetInfo(), false)
	if err != nil {
		return nil, err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	dists, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, fmt.Errorf("failed to get python dependencies: %w", err)
	}
	out := make([]*pulumirpc.DependencyInfo, len(dists))
	for i, d := range dists {
		out[i] = &pulumirpc.DependencyInfo{Name: d.Name, Version: d.Version}
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: out}, nil
}

// InstallDependencies creates the virtualenv and installs requirements.txt into it
// (`pulumi install`; for a policy pack or a plugin, its own dependencies), streaming pip's
// output. A plugin that is a buildable package is installed into its virtualenv too.
func (h *languageHost) InstallDependencies(req *pulumirpc.InstallDependenciesRequest,
	server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	opts, err := pythonOptions(req.GetInfo(), req.GetIsPlugin())
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	ctx, dir := server.Context(), req.GetInfo().GetProgramDirectory()

	fmt.Fprint(stdout, "Installing dependencies...\n\n")
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return err
	}
	if req.GetIsPlugin() {
		buildable, err := toolchain.IsBuildablePackage(dir)
		if err != nil {
			return fmt.Errorf("checking if plugin is a buildable package: %w", err)
		}
		if buildable {
			if err := tc.EnsureVenv(ctx, dir, req.GetUseLanguageVersionTools(), true, stdout, stderr); err != nil {
				return fmt.Errorf("creating virtual environment: %w", err)
			}
			cmd, err := tc.ModuleCommand(ctx, "pip", "install", dir)
			if err != nil {
				return err
			}
			cmd.Stdout, cmd.Stderr = stdout, stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("installing package: %w", err)
			}
		}
	}
	if err := tc.InstallDependencies(ctx, dir, req.GetUseLanguageVersionTools(), true, stdout, stderr); err != nil {
		return err
	}
	fmt.Fprint(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}
