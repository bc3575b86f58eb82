// Command pulumi-resource-databricks is the Databricks resource provider plugin for the real Pulumi
// engine, built from Go modules: the upstream Terraform provider (terraform-provider-databricks),
// bridged by pulumi-terraform-bridge, with a ProviderInfo of our own.
//
// Why our own: pulumi-databricks' provider module (github.com/pulumi/pulumi-databricks/provider)
// is not served by the Go module proxy these machines reach, so its resources.go cannot be
// required. The pinned pulumi-databricks Python SDK was generated from the same upstream tag and
// bridge release; the ProviderInfo below maps it the same way (one "index" module, standard
// tokens, 255-character auto-names, string workspace and principal ids), which is what makes the
// SDK's requests line up with this plugin's schema. tests/engine checks that they do: the real
// engine's Check must report nothing for every shipped stack.
//
// One binary, two modes:
//
//	pulumi-resource-databricks tfgen schema --out DIR
//	    writes schema.json and bridge-metadata.json (tfgen, run once at build time);
//	pulumi-resource-databricks facts --out FILE
//	    writes what each resource's schema says about replacement and computed values
//	    (facts.go), for the offline diff and the agreement tests;
//	pulumi-resource-databricks [engine flags]
//	    serves the provider, reading both files from the directory of the executable.
package main

import (
	"context"
	"os"
	"path/filepath"

	databricks "github.com/databricks/terraform-provider-databricks/shim"
	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shim "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/walk"
)

// Version is the pulumi-databricks release this plugin stands in for, set at link time
// (engine/build.py passes the version pinned in requirements.txt).
var Version string

func main() {
	if len(os.Args) > 1 && os.Args[1] == "tfgen" {
		os.Args = append(os.Args[:1], os.Args[2:]...)
		pftfgen.MainWithMuxer("databricks", providerInfo([]byte("{}")))
		return
	}
	if len(os.Args) == 4 && os.Args[1] == "facts" && os.Args[2] == "--out" {
		must(writeFacts(os.Args[3]))
		return
	}
	exe, err := os.Executable()
	must(err)
	dir := filepath.Dir(exe)
	schema, err := os.ReadFile(filepath.Join(dir, "schema.json"))
	must(err)
	metadata, err := os.ReadFile(filepath.Join(dir, "bridge-metadata.json"))
	must(err)
	pfbridge.MainWithMuxer(context.Background(), "databricks", providerInfo(metadata), schema)
}

func must(err error) {
	if err != nil {
		os.Stderr.WriteString("pulumi-resource-databricks: " + err.Error() + "\n")
		os.Exit(1)
	}
}

func providerInfo(metadata []byte) tfbridge.ProviderInfo {
	p := pfbridge.MuxShimWithPF(context.Background(), shimv2.NewProvider(databricks.SDKv2()), databricks.PF())
	prov := tfbridge.ProviderInfo{
		P:            p,
		Name:         "databricks",
		Version:      Version,
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		Publisher:    "lakeflow-stack (engine build of the upstream Terraform provider)",
		Description:  "The Databricks Terraform provider, bridged for the real Pulumi engine in tests.",
		GitHubOrg:    "databricks",
		Config:       map[string]*tfbridge.SchemaInfo{},
		// Docs are not needed to judge a change; nothing is generated from them here.
		DocRules: &tfbridge.DocRuleInfo{},
		IgnoreMappings: []string{
			// Deprecated mounts and the "_pluginframework" twins upstream keeps during migrations.
			"databricks_aws_s3_mount", "databricks_azure_adls_gen1_mount", "databricks_azure_adls_gen2_mount",
			"databricks_azure_blob_mount",
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			// "Provider" is reserved in Pulumi tokens.
			"databricks_provider": {Tok: tfbridge.MakeResource("databricks", "index", "MetastoreProvider")},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"databricks_aws_crossaccount_policy": {
				Tok: tfbridge.MakeDataSource("databricks", "index", "getAwsCrossAccountPolicy"),
			},
		},
	}
	prov.MustComputeTokens(tokens.SingleModule("databricks_", "index", tokens.MakeStandard("databricks")).
		Ignore("_pluginframework"))
	prov.SetAutonaming(255, "-")
	// Ids that fill the int64 range cannot be Pulumi numbers (float64): the SDK types them as strings.
	stringAttr := func(name string) func(tfbridge.PropertyVisitInfo) (tfbridge.PropertyVisitResult, error) {
		return func(info tfbridge.PropertyVisitInfo) (tfbridge.PropertyVisitResult, error) {
			path := info.SchemaPath()
			if step, ok := path[len(path)-1].(walk.GetAttrStep); ok && step.Name == name {
				info.SchemaInfo().Type = "string"
				return tfbridge.PropertyVisitResult{HasEffect: true}, nil
			}
			return tfbridge.PropertyVisitResult{}, nil
		}
	}
	tfbridge.MustTraverseProperties(&prov, "workspace-id", stringAttr("workspace_id"))
	tfbridge.MustTraverseProperties(&prov, "principal-id", stringAttr("principal_id"))
	prov.P.ResourcesMap().Range(func(key string, res shim.Resource) bool {
		if info := prov.Resources[key]; info != nil {
			objectFieldsToElem(res.Schema(), info.Fields)
		}
		return true
	})
	prov.P.DataSourcesMap().Range(func(key string, res shim.Resource) bool {
		if info := prov.DataSources[key]; info != nil {
			objectFieldsToElem(res.Schema(), info.Fields)
		}
		return true
	})
	prov.MustApplyAutoAliases()
	return prov
}

// objectFieldsToElem moves the overrides of a plugin-framework object (a TypeMap in the bridge's
// shim) from .Fields to .Elem.Fields, where the bridge reads them; the traversals above write them
// to .Fields whatever the attribute's kind.
func objectFieldsToElem(schema shim.SchemaMap, fields map[string]*tfbridge.SchemaInfo) {
	for name, info := range fields {
		if attr, ok := schema.GetOk(name); ok {
			fixObject(attr, info)
		}
	}
}

func fixObject(attr shim.Schema, info *tfbridge.SchemaInfo) {
	if info == nil {
		return
	}
	switch elem := attr.Elem().(type) {
	case shim.Resource:
		if attr.Type() == shim.TypeMap && len(info.Fields) > 0 {
			if info.Elem == nil {
				info.Elem = &tfbridge.SchemaInfo{}
			}
			if info.Elem.Fields == nil {
				info.Elem.Fields = map[string]*tfbridge.SchemaInfo{}
			}
			for k, v := range info.Fields {
				info.Elem.Fields[k] = v
			}
			info.Fields = nil
		}
		objectFieldsToElem(elem.Schema(), info.Fields)
		if info.Elem != nil {
			objectFieldsToElem(elem.Schema(), info.Elem.Fields)
		}
	case shim.Schema:
		fixObject(elem, info.Elem)
	}
}
