package format

import (
	"strings"

	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
)

//go:generate go run ./internal/genfaces -in testdata/qq_face_names.json -out faces_table.go

// faceComponent is how a QQ face segment shows in the game: its name in
// brackets, "[微笑]", in yellow; "[表情]" for an id the table does not know.
func faceComponent(seg qq.Segment) minecraft.Component {
	name, ok := FaceName(seg.ID)
	if !ok {
		name = "表情"
	}
	return minecraft.Component{Text: "[" + name + "]", Color: colorFace}
}

// FaceName returns the name QQ shows for a system face id ("14" → "微笑"),
// ok=false for an id the table does not know. Large faces (Milky's
// is_large) share the same ids.
func FaceName(id string) (string, bool) {
	name, ok := faceNames[strings.TrimSpace(id)]
	return name, ok
}
