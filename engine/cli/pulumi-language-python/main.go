// Command pulumi-language-python is the Python language host the real Pulumi CLI starts to run
// this project's program and its CrossGuard policy pack.
//
// Why our own: Pulumi's host (module github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3)
// is not served by the Go module proxy these machines reach, at any release. This host speaks the
// same LanguageRuntime protocol and delegates everything that decides behaviour to the Pulumi SDK
// module the CLI is built from: the virtualenv handling (sdk/v3/python/toolchain), the program
// runner (pulumi-language-python-exec, from the same sdk/v3 module, installed beside this binary),
// and the policy-pack proxy (sdk/v3's PolicyProxy). What it leaves out is what this project does
// not use: code generation, packing, linking, debugger attachment, and typecheckers.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// The exit code pulumi-language-python-exec uses after it has printed an error the user can act on.
const exitAfterUserMessage = 32

func main() {
	flag.String("tracing", "", "ignored: tracing is not forwarded")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println(version.Version)
		return
	}
	self, err := os.Executable()
	if err != nil {
		cmdutil.Exit(err)
	}
	execScript := filepath.Join(filepath.Dir(self), "pulumi-language-python-exec")
	if _, err := os.Stat(execScript); err != nil {
		cmdutil.Exit(fmt.Errorf("missing %s beside the language host: %w", execScript, err))
	}
	host := &languageHost{exec: execScript}
	if flag.NArg() > 0 {
		host.engine = flag.Arg(0)
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start the language host: %w", err))
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(err)
	}
}

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	exec   string
	engine string
}

// toolchainFor resolves the Python environment the project (or policy pack) names in its options,
// exactly as Pulumi's own host does (`runtime.options.virtualenv` / `toolchain`).
func toolchainFor(info *pulumirpc.ProgramInfo, defaultVenv string) (toolchain.Toolchain, error) {
	opts := toolchain.PythonOptions{Root: info.RootDirectory, ProgramDir: info.ProgramDirectory}
	options := info.GetOptions().AsMap()
	if v, ok := options["virtualenv"].(string); ok {
		opts.Virtualenv = v
	}
	switch options["toolchain"] {
	case nil, "pip":
		opts.Toolchain = toolchain.Pip
	case "uv":
		opts.Toolchain = toolchain.Uv
	case "poetry":
		opts.Toolchain = toolchain.Poetry
	default:
		return nil, fmt.Errorf("unsupported runtime option toolchain: %v", options["toolchain"])
	}
	if opts.Virtualenv == "" {
		opts.Virtualenv = defaultVenv
	}
	return toolchain.ResolveToolchain(opts)
}

func (h *languageHost) Handshake(
	ctx context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.engine = req.EngineAddress
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// pluginPackagesScript prints, for every installed distribution that ships a pulumi-plugin.json,
// the distribution's name and version and that file's contents.
const pluginPackagesScript = `import importlib.metadata, json
found = []
for dist in importlib.metadata.distributions():
    for f in dist.files or []:
        if f.name == "pulumi-plugin.json":
            found.append({"dist": dist.metadata["Name"], "version": dist.version,
                          "plugin": json.loads(f.read_text())})
            break
print(json.dumps(found))`

// GetRequiredPackages names the resource plugins of the program's Pulumi packages, so the engine
// loads (and, with automatic acquisition off, insists on) exactly those versions.
func (h *languageHost) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	tc, err := toolchainFor(req.Info, "")
	if err != nil {
		return nil, err
	}
	cmd, err := tc.Command(ctx, "-c", pluginPackagesScript)
	if err != nil {
		return nil, err
	}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing the program's Pulumi packages: %w", err)
	}
	var found []struct {
		Dist, Version string
		Plugin        struct {
			Resource bool   `json:"resource"`
			Name     string `json:"name"`
			Version  string `json:"version"`
			Server   string `json:"server"`
		}
	}
	if err := json.Unmarshal(out, &found); err != nil {
		return nil, fmt.Errorf("listing the program's Pulumi packages: %w", err)
	}
	resp := &pulumirpc.GetRequiredPackagesResponse{}
	for _, p := range found {
		if !p.Plugin.Resource {
			continue
		}
		name := p.Plugin.Name
		if name == "" {
			name = strings.TrimPrefix(strings.ToLower(p.Dist), "pulumi-")
		}
		v := p.Plugin.Version
		if v == "" {
			v = p.Version
		}
		resp.Packages = append(resp.Packages, &pulumirpc.PackageDependency{
			Name: name, Kind: "resource", Version: "v" + strings.TrimPrefix(v, "v"), Server: p.Plugin.Server,
		})
	}
	return resp, nil
}

func (h *languageHost) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	tc, err := toolchainFor(req.Info, "")
	if err != nil {
		return nil, err
	}
	deps, err := tc.ListPackages(ctx, req.TransitiveDependencies)
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, d := range deps {
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: d.Name, Version: d.Version})
	}
	return resp, nil
}

// Run runs the program through pulumi-language-python-exec with the engine's arguments, and the
// stack's configuration in PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS, as Pulumi's host does.
func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	tc, err := toolchainFor(req.Info, "")
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	args := []string{h.exec}
	flagArg := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flagArg("monitor", req.GetMonitorAddress())
	flagArg("engine", h.engine)
	flagArg("project", req.GetProject())
	flagArg("root_directory", req.GetInfo().GetRootDirectory())
	flagArg("stack", req.GetStack())
	flagArg("pwd", req.GetPwd())
	flagArg("dry_run", strconv.FormatBool(req.GetDryRun()))
	flagArg("parallel", strconv.Itoa(int(req.GetParallel())))
	flagArg("organization", req.GetOrganization())
	args = append(args, req.GetInfo().GetEntryPoint())
	args = append(args, req.GetArgs()...)

	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(append([]string{}, req.GetConfigSecretKeys()...))
	if err != nil {
		return nil, err
	}
	cmd.Env = append(env, "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys))
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second

	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == exitAfterUserMessage {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run the program: %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// RunPlugin starts a Python policy pack (`pulumi preview --policy-pack DIR`): `python -u -m
// pulumi.policy <args> DIR`, with the stack's configuration obtained through the SDK's policy proxy.
// Other Python plugins are run as `python DIR <args>` from the caller's directory.
func (h *languageHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	ctx := server.Context()
	analyzer := req.Kind == string(apitype.AnalyzerPlugin)
	defaultVenv := "venv"
	if analyzer {
		defaultVenv = ""
	}
	tc, err := toolchainFor(req.Info, defaultVenv)
	if err != nil {
		return err
	}
	var args []string
	if analyzer {
		args = append(append([]string{"-u", "-m", "pulumi.policy"}, req.Args...), req.Info.ProgramDirectory)
	} else {
		args = append([]string{req.Info.ProgramDirectory}, req.Args...)
	}
	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()
	cmd.Dir = req.Pwd
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	var proxy *sdk.PolicyProxy
	if analyzer {
		cmd.Dir = req.Info.ProgramDirectory
		if proxy, stdout, err = sdk.NewPolicyProxy(ctx, stdout); err != nil {
			return fmt.Errorf("could not start the policy pack proxy: %w", err)
		}
		config, err := proxy.AwaitConfiguration(ctx)
		if err != nil {
			return fmt.Errorf("could not get the stack's configuration: %w", err)
		}
		if config != nil {
			configJSON, err := json.Marshal(config.Config)
			if err != nil {
				return err
			}
			for k, v := range map[string]string{
				"PULUMI_ORGANIZATION": config.Organization, "PULUMI_PROJECT": config.Project,
				"PULUMI_STACK": config.Stack, "PULUMI_DRY_RUN": strconv.FormatBool(config.DryRun),
				"PULUMI_CONFIG": string(configJSON),
			} {
				if v != "" {
					env = append(env, k+"="+v)
				}
			}
		}
	}
	cmd.Env = append(env, req.Env...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not start the plugin: %w", err)
	}
	if proxy != nil {
		return proxy.Attach(ctx, cmd)
	}
	if err := cmd.Wait(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if status, ok := exitErr.Sys().(syscall.WaitStatus); ok {
				return server.Send(&pulumirpc.RunPluginResponse{
					Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(status.ExitStatus())}, //nolint:gosec
				})
			}
		}
		return err
	}
	return closer.Close()
}

// InstallDependencies is what the CLI calls before it runs a source plugin (a folder with
// PulumiPlugin.yaml: `pulumi package get-schema ./plugin`, `pulumi package add`) and on
// `pulumi install`. Pulumi's own host creates the virtualenv and pip-installs into it (upgrading
// pip, setuptools and wheel first: network). This one installs nothing: it only checks that the
// virtualenv the runtime options name (for a plugin, `venv` beside PulumiPlugin.yaml by default)
// exists, so offline runs use the environment `make venv` prepared, unchanged.
func (h *languageHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	defaultVenv, file := "", "Pulumi.yaml"
	if req.IsPlugin {
		defaultVenv, file = "venv", "PulumiPlugin.yaml"
	}
	tc, err := toolchainFor(req.Info, defaultVenv)
	if err != nil {
		return err
	}
	venv, err := tc.VirtualEnvPath(server.Context())
	if err != nil {
		return err
	}
	if venv == "" { // no virtualenv option: the ambient python, nothing to check
		return nil
	}
	if !toolchain.IsVirtualEnv(venv) {
		problem := "is not a virtual environment (it has no bin/python)"
		if _, statErr := os.Stat(venv); os.IsNotExist(statErr) {
			problem = "does not exist"
		}
		return fmt.Errorf("%s: virtualenv %s (%s) %s: this language host installs nothing; "+
			"create the virtualenv first (in this repository: make venv)",
			file, venv, virtualenvOption(req.Info, defaultVenv), problem)
	}
	return nil
}

// virtualenvOption is the `virtualenv` runtime option as written, or the default it fell back to.
func virtualenvOption(info *pulumirpc.ProgramInfo, defaultVenv string) string {
	if v, ok := info.GetOptions().AsMap()["virtualenv"].(string); ok && v != "" {
		return strconv.Quote(v)
	}
	return strconv.Quote(defaultVenv) + ", the default"
}

func (h *languageHost) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}
