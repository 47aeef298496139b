package format

import (
	"encoding/json"
	"maps"
	"os"
	"testing"
)

// TestFaceTableIsGenerated fails when faces_table.go no longer matches
// testdata/qq_face_names.json: run `go generate ./format`.
func TestFaceTableIsGenerated(t *testing.T) {
	raw, err := os.ReadFile("testdata/qq_face_names.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Faces map[string]string `json:"faces"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(file.Faces, faceNames) {
		t.Fatalf("faces_table.go has %d faces, the JSON %d or different names; run go generate ./format",
			len(faceNames), len(file.Faces))
	}
}

func TestFaceName(t *testing.T) {
	for id, want := range map[string]string{"14": "微笑", " 14 ": "微笑", "0": "惊讶"} {
		if got, ok := FaceName(id); !ok || got != want {
			t.Errorf("FaceName(%q) = %q, %v; want %q", id, got, ok, want)
		}
	}
	for _, id := range []string{"", "abc", "-1", "100000"} {
		if got, ok := FaceName(id); ok {
			t.Errorf("FaceName(%q) = %q, want unknown", id, got)
		}
	}
}
