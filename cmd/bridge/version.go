package main

import (
	"runtime"
	"runtime/debug"
)

// version is set when building a release:
// go build -ldflags "-X main.version=v1.2.3" ./cmd/bridge
var version = "devel"

// versionString is the version, then the commit it was built from when Go
// recorded one (a build inside a git checkout), then the Go version.
func versionString() string {
	s := version
	if info, ok := debug.ReadBuildInfo(); ok {
		var revision, modified string
		for _, kv := range info.Settings {
			switch kv.Key {
			case "vcs.revision":
				revision = kv.Value
			case "vcs.modified":
				modified = kv.Value
			}
		}
		if revision != "" {
			if len(revision) > 12 {
				revision = revision[:12]
			}
			s += " (commit " + revision
			if modified == "true" {
				s += ", modified"
			}
			s += ")"
		}
	}
	return s + " " + runtime.Version()
}
