package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A DATA_DIR the bridge cannot use stops start-up with one line naming
// DATA_DIR and the path, before anything connects.
func TestUnusableDataDirStopsStartup(t *testing.T) {
	t.Chdir(t.TempDir()) // no .env
	notADir := filepath.Join(t.TempDir(), "a-file")
	must(t, os.WriteFile(notADir, []byte("x"), 0o600))
	dataDir := filepath.Join(notADir, "data")
	environ := []string{"QQ_URL=ws://127.0.0.1:1/", "MC_0_NAME=survival", "MC_0_WS_URL=ws://127.0.0.1:1",
		"MC_0_GROUPS=" + strconv.Itoa(groupA), "HTTP_LISTEN=none", "LOG_FORMAT=text", "DATA_DIR=" + dataDir}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), nil, environ, &out, &errOut); code != exitFail {
		t.Fatalf("exit %d; want %d\n%s", code, exitFail, errOut.String())
	}
	var found []string
	for _, line := range strings.Split(errOut.String(), "\n") {
		if strings.Contains(line, "DATA_DIR") {
			found = append(found, line)
		}
	}
	if len(found) != 1 || !strings.Contains(found[0], "DATA_DIR "+dataDir+":") || !strings.Contains(found[0], "not a directory") {
		t.Errorf("want one line naming DATA_DIR %s and why; log:\n%s", dataDir, errOut.String())
	}
	if strings.Contains(errOut.String(), "connected") {
		t.Errorf("something connected before the database was open:\n%s", errOut.String())
	}
}
