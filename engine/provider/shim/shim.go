// Package shim exposes the Databricks Terraform provider's two halves (SDKv2 and plugin framework)
// to the bridge.
package shim

import (
	"github.com/databricks/terraform-provider-databricks/internal/providers/pluginfw"
	"github.com/databricks/terraform-provider-databricks/internal/providers/sdkv2"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// PF is the plugin-framework half of the provider.
func PF() provider.Provider { return pluginfw.GetDatabricksProviderPluginFramework() }

// SDKv2 is the SDKv2 half of the provider.
func SDKv2() *schema.Provider { return sdkv2.DatabricksProvider() }
