package format

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTablesCoverTheGameLanguageFiles checks the zh_cn tables against the
// keys of the game's own language files (testdata/langkeys/<version>.tsv,
// taken from en_us.json of the newest 1.21.x and 26.x releases): every
// death message, advancement title and entity name the game can send must
// be there, so none of them reaches QQ in English.
func TestTablesCoverTheGameLanguageFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/langkeys/*.tsv")
	if err != nil || len(files) == 0 {
		t.Fatalf("no key lists: %v", err)
	}
	for _, file := range files {
		keys := readLangKeys(t, file)
		var missing []string
		for _, k := range keys {
			if !tableHas(k) {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s: %d of %d keys are missing from the tables:\n%s", file, len(missing), len(keys),
				strings.Join(missing, "\n"))
		}
	}
}

// tableHas tells whether the table for key's kind holds it.
func tableHas(key string) bool {
	switch {
	case strings.HasPrefix(key, "death."):
		_, ok := deathMessages[key]
		return ok
	case strings.HasPrefix(key, "advancements."):
		_, ok := advancementTitleByKey(key)
		return ok
	case strings.HasPrefix(key, "entity."):
		_, ok := entityNames[key]
		return ok
	}
	return false
}

// readLangKeys reads the first column of a key list, skipping comments.
func readLangKeys(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var keys []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, _, _ := strings.Cut(line, "\t")
		keys = append(keys, key)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}
