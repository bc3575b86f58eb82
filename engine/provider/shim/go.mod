// The Terraform provider keeps its providers under internal/. Go's internal rule compares import
// paths, so a module whose path sits under the provider's own path may import them. This module is
// ours; it only names the two constructors the bridge needs.
module github.com/databricks/terraform-provider-databricks/shim

go 1.25.8
