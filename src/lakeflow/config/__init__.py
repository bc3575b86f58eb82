"""Stack settings: pipeline YAML and Pulumi stack config -> typed, validated `StackSettings`."""
