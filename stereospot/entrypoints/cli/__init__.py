"""The `stereospot` command line. Each area registers its own subcommands."""
