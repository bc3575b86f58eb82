package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	databricks "github.com/databricks/terraform-provider-databricks/shim"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shim "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim"
)

// resourceFacts is what the provider's own schema says about one resource, in Pulumi property
// paths ("a.b" for nested objects, "a[].b" inside lists and sets).
type resourceFacts struct {
	// Framework is true for resources of the plugin-framework half of the provider.
	Framework bool `json:"framework"`
	// ForceNew: a change replaces the resource (SDKv2 ForceNew, plugin-framework RequiresReplace).
	ForceNew []string `json:"forceNew"`
	// ForceNewBlocks: SDKv2 blocks marked ForceNew. Their flag covers the number of elements
	// only (the block added or removed); a change inside replaces only where the nested
	// attribute is ForceNew itself (helper/schema diffList).
	ForceNewBlocks []string `json:"forceNewBlocks"`
	// ReplaceIf: a change may replace the resource, as the provider's RequiresReplaceIf decides.
	ReplaceIf []string `json:"replaceIf"`
	// Computed: top-level properties the provider sets (computed, or optional and computed), with
	// their kind (list, map, object, string, bool, number).
	Computed map[string]string `json:"computed"`
}

// writeFacts writes the facts of every resource, by Pulumi type token, as JSON.
func writeFacts(out string) error {
	prov := providerInfo([]byte("{}"))
	facts := map[string]*resourceFacts{}
	tokens := map[string]string{}
	prov.P.ResourcesMap().Range(func(name string, res shim.Resource) bool {
		info := prov.Resources[name]
		if info == nil {
			return true
		}
		tokens[name] = string(info.Tok)
		f := &resourceFacts{
			ForceNew: []string{}, ForceNewBlocks: []string{}, ReplaceIf: []string{}, Computed: map[string]string{},
		}
		facts[string(info.Tok)] = f
		res.Schema().Range(func(key string, attr shim.Schema) bool {
			if attr.Computed() {
				f.Computed[tfbridge.TerraformToPulumiNameV2(key, res.Schema(), info.Fields)] = kind(attr, info.Fields[key])
			}
			return true
		})
		walkForceNew(res.Schema(), info.Fields, "", f)
		return true
	})
	ctx := context.Background()
	for _, newResource := range databricks.PF().Resources(ctx) {
		r := newResource()
		var meta resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "databricks"}, &meta)
		token, ok := tokens[meta.TypeName]
		if !ok {
			continue
		}
		var schema resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &schema)
		f := facts[token]
		f.Framework = true
		sch := prov.P.ResourcesMap().Get(meta.TypeName).Schema()
		walkPlanModifiers(ctx, reflect.ValueOf(schema.Schema), sch, prov.Resources[meta.TypeName].Fields, "", f)
	}
	for _, f := range facts {
		sort.Strings(f.ForceNew)
		sort.Strings(f.ForceNewBlocks)
		sort.Strings(f.ReplaceIf)
	}
	data, err := json.MarshalIndent(facts, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, append(data, '\n'), 0o644)
}

func kind(attr shim.Schema, info *tfbridge.SchemaInfo) string {
	switch attr.Type() {
	case shim.TypeList, shim.TypeSet:
		if tfbridge.IsMaxItemsOne(attr, info) {
			return "object" // flattened by the bridge: one object, not a list
		}
		return "list"
	case shim.TypeMap:
		if _, ok := attr.Elem().(shim.Resource); ok {
			return "object"
		}
		return "map"
	case shim.TypeBool:
		return "bool"
	case shim.TypeInt, shim.TypeFloat:
		return "number"
	default:
		return "string"
	}
}

// step is the Pulumi path of a TF attribute under prefix, and what lies below it.
func step(sch shim.SchemaMap, fields map[string]*tfbridge.SchemaInfo, key, prefix string) (
	string, shim.SchemaMap, map[string]*tfbridge.SchemaInfo,
) {
	attr, ok := sch.GetOk(key)
	if !ok {
		return "", nil, nil
	}
	path := tfbridge.TerraformToPulumiNameV2(key, sch, fields)
	if prefix != "" {
		path = prefix + "." + path
	}
	info := fields[key]
	var nested shim.SchemaMap
	var nestedFields map[string]*tfbridge.SchemaInfo
	switch elem := attr.Elem().(type) {
	case shim.Resource:
		nested = elem.Schema()
		if info != nil {
			nestedFields = info.Fields
			if attr.Type() == shim.TypeMap && info.Elem != nil {
				nestedFields = info.Elem.Fields
			}
		}
		if (attr.Type() == shim.TypeList || attr.Type() == shim.TypeSet) && !tfbridge.IsMaxItemsOne(attr, info) {
			path += "[]"
		}
	case shim.Schema:
		if res, ok := elem.Elem().(shim.Resource); ok {
			nested = res.Schema()
			if info != nil && info.Elem != nil {
				nestedFields = info.Elem.Fields
			}
			if !tfbridge.IsMaxItemsOne(attr, info) {
				path += "[]"
			}
		}
	}
	return path, nested, nestedFields
}

func walkForceNew(sch shim.SchemaMap, fields map[string]*tfbridge.SchemaInfo, prefix string, f *resourceFacts) {
	sch.Range(func(key string, attr shim.Schema) bool {
		path, nested, nestedFields := step(sch, fields, key, prefix)
		_, block := attr.Elem().(shim.Resource)
		switch {
		case attr.ForceNew() && block:
			f.ForceNewBlocks = append(f.ForceNewBlocks, strings.TrimSuffix(path, "[]"))
		case attr.ForceNew():
			f.ForceNew = append(f.ForceNew, path)
		}
		if nested != nil {
			walkForceNew(nested, nestedFields, path, f)
		}
		return true
	})
}

// walkPlanModifiers finds RequiresReplace / RequiresReplaceIf plan modifiers in a framework
// schema (attributes and blocks, nested), by reflection over the framework's schema types: each
// has a PlanModifiers slice, and nested ones an Attributes / Blocks map or a NestedObject.
func walkPlanModifiers(
	ctx context.Context, node reflect.Value, sch shim.SchemaMap, fields map[string]*tfbridge.SchemaInfo,
	prefix string, f *resourceFacts,
) {
	for node.Kind() == reflect.Interface || node.Kind() == reflect.Pointer {
		if node.IsNil() {
			return
		}
		node = node.Elem()
	}
	if node.Kind() != reflect.Struct {
		return
	}
	if nested := node.FieldByName("NestedObject"); nested.IsValid() {
		walkPlanModifiers(ctx, nested, sch, fields, prefix, f)
	}
	for _, group := range []string{"Attributes", "Blocks"} {
		children := node.FieldByName(group)
		if !children.IsValid() || children.Kind() != reflect.Map {
			continue
		}
		iter := children.MapRange()
		for iter.Next() {
			key := iter.Key().String()
			child := iter.Value()
			path, nested, nestedFields := step(sch, fields, key, prefix)
			if path == "" {
				continue
			}
			switch replaceKind(ctx, child) {
			case "always":
				f.ForceNew = append(f.ForceNew, path)
			case "if":
				f.ReplaceIf = append(f.ReplaceIf, path)
			}
			if nested != nil {
				walkPlanModifiers(ctx, child, nested, nestedFields, path, f)
			}
		}
	}
}

// replaceKind is "always" for RequiresReplace(IfConfigured), "if" for RequiresReplaceIf, else "".
func replaceKind(ctx context.Context, attr reflect.Value) string {
	for attr.Kind() == reflect.Interface || attr.Kind() == reflect.Pointer {
		if attr.IsNil() {
			return ""
		}
		attr = attr.Elem()
	}
	if attr.Kind() != reflect.Struct {
		return ""
	}
	modifiers := attr.FieldByName("PlanModifiers")
	if !modifiers.IsValid() || modifiers.Kind() != reflect.Slice {
		return ""
	}
	result := ""
	for i := 0; i < modifiers.Len(); i++ {
		m := modifiers.Index(i)
		described, ok := m.Interface().(interface{ Description(context.Context) string })
		if !ok {
			continue
		}
		text := described.Description(ctx)
		typeName := fmt.Sprintf("%T", m.Interface())
		switch {
		case strings.Contains(text, "will destroy and recreate the resource") && !strings.Contains(typeName, "If"):
			return "always"
		case strings.Contains(text, "If the value of this attribute changes, Terraform will destroy and recreate"):
			return "always"
		case strings.Contains(typeName, "requiresReplace") || strings.Contains(typeName, "RequiresReplace"):
			result = "if"
		}
	}
	return result
}
