package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"
)

// -healthcheck runs as Docker's HEALTHCHECK: exit 0 healthy, 1 not (Docker
// reserves 2). It must not fail on the configuration, which the running
// bridge has already accepted, nor need the flags the bridge was started
// with (HEALTHCHECK runs "bridge -healthcheck" alone), so it reads
// HTTP_LISTEN and nothing else.

// procInit is the container's first process, whose -env-file the health
// check falls back on; a variable so tests can stand in for it.
var procInit = "/proc/1"

// healthcheckListen is HTTP_LISTEN as the running bridge reads it: the real
// environment wins, then the dotenv file (envFile, else .env, else the
// -env-file of a bridge running as the container's first process), then the
// default. Other variables and other lines of the file may be anything.
func healthcheckListen(environ []string, envFile string) (OptionalAddr, error) {
	value, found := "", false
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == "HTTP_LISTEN" {
			value, found = v, true
		}
	}
	if !found {
		data, err := healthcheckEnvFile(envFile)
		if err != nil {
			return "", err
		}
		value = dotenvValue(data, "HTTP_LISTEN")
	}
	value = strings.TrimSpace(value) // as the configuration does, with a warning
	if value == "" {
		field, _ := reflect.TypeFor[Config]().FieldByName("HTTPListen")
		value = field.Tag.Get("envDefault")
	}
	var addr OptionalAddr
	err := addr.UnmarshalText([]byte(value))
	return addr, err
}

// healthcheckEnvFile reads the dotenv file the bridge would read: envFile,
// else the -env-file of a bridge running as the container's first process
// (which never reads .env then), else .env; nil when there is none.
func healthcheckEnvFile(envFile string) ([]byte, error) {
	if envFile != "" {
		data, err := os.ReadFile(envFile)
		if err != nil {
			return nil, fmt.Errorf("-env-file %s: %w", envFile, err)
		}
		return data, nil
	}
	if path := initEnvFile(); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("-env-file %s of the running bridge: %w", path, err)
		}
		return data, nil
	}
	data, err := os.ReadFile(".env")
	switch {
	case err == nil:
		return data, nil
	case errors.Is(err, os.ErrNotExist):
		return nil, nil
	}
	return nil, fmt.Errorf(".env: %w", err)
}

// initEnvFile is the -env-file the container's first process was started
// with when that process is the bridge, resolved against its working
// directory; "" otherwise (not in a container, not the bridge, no flag).
func initEnvFile() string {
	cmdline, err := os.ReadFile(filepath.Join(procInit, "cmdline"))
	if err != nil {
		return ""
	}
	args := strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
	if strings.TrimSuffix(filepath.Base(args[0]), ".exe") != "bridge" {
		return ""
	}
	path := ""
	for i := 1; i < len(args); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "-") || name != "env-file" {
			continue
		}
		if !hasValue && i+1 < len(args) {
			i++
			value = args[i]
		}
		path = value
	}
	if path != "" && !filepath.IsAbs(path) {
		path = filepath.Join(procInit, "cwd", path)
	}
	return path
}

// dotenvValue is name's value in a dotenv file, read as the bridge reads
// it; lines it cannot read are skipped rather than refused.
func dotenvValue(data []byte, name string) string {
	if file, err := readDotenv(data); err == nil {
		return file.vars[name]
	}
	value := ""
	for _, line := range bytes.Split(data, []byte("\n")) {
		if file, err := readDotenv(line); err == nil {
			if v, ok := file.vars[name]; ok {
				value = v // the last line that sets it, as for the whole file
			}
		}
	}
	return value
}

// runHealthcheck asks the running bridge's /healthz: the process answers,
// so it is alive. Whether QQ and the servers are connected (/readyz) is not
// asked: they go down whenever the game restarts, and restarting the bridge
// would not bring them back. Every failure is exit 1.
func runHealthcheck(environ []string, envFile string, stderr io.Writer) int {
	listen, err := healthcheckListen(environ, envFile)
	if err != nil {
		fmt.Fprintln(stderr, "unhealthy: cannot read HTTP_LISTEN:", err)
		return exitFail
	}
	if listen.None() {
		// Without a listener there is nothing to ask; failing would leave the
		// container unhealthy for as long as it runs.
		fmt.Fprintln(stderr, "HTTP_LISTEN is none: no health endpoint to check, reporting healthy")
		return exitOK
	}
	addr := string(listen)
	if strings.HasPrefix(addr, "0.0.0.0:") || strings.HasPrefix(addr, ":") || strings.HasPrefix(addr, "[::]:") {
		addr = "127.0.0.1:" + addr[strings.LastIndex(addr, ":")+1:]
	}
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + addr + "/healthz")
	if err != nil {
		fmt.Fprintln(stderr, "unhealthy:", err)
		return exitFail
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(stderr, "unhealthy:", resp.Status)
		return exitFail
	}
	return exitOK
}
