package onebot_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/onebot"
)

const fixtureSelfID = 2401234567

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeFixture(t *testing.T, name string) (qq.Event, onebot.FrameKind) {
	t.Helper()
	ev, kind, err := onebot.DecodeEvent(readFixture(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev, kind
}

// fixtureCase says what one file in testdata is and checks the decoded result.
type fixtureCase struct {
	// kind is what DecodeEvent must say; 0 means the file is not a frame a
	// bot sends us (a request we send, a webhook envelope, a lookup table),
	// so DecodeEvent must refuse it, and check covers its content instead.
	kind  onebot.FrameKind
	check func(t *testing.T, name string, frame []byte, ev qq.Event)
}

func TestFixtures(t *testing.T) {
	response := func(status string, retcode int64, echo string) func(*testing.T, string, []byte, qq.Event) {
		return func(t *testing.T, name string, frame []byte, _ qq.Event) {
			r, err := onebot.DecodeResponse(frame)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != status || r.Retcode != retcode || r.Echo != echo {
				t.Errorf("response = %+v; want status %q retcode %d echo %q", r, status, retcode, echo)
			}
			err = r.Err("some_action")
			var apiErr *qq.APIError
			switch {
			case status == "ok" && err != nil:
				t.Errorf("ok response gave error %v", err)
			case status != "ok" && !errors.As(err, &apiErr):
				t.Errorf("failed response gave %v, want *qq.APIError", err)
			case apiErr != nil && (apiErr.Action != "some_action" || apiErr.Retcode != retcode || apiErr.Message == ""):
				t.Errorf("APIError = %+v", apiErr)
			}
		}
	}
	meta := func(t *testing.T, _ string, _ []byte, ev qq.Event) {
		if ev.SelfID != fixtureSelfID {
			t.Errorf("self_id = %d, want %d", ev.SelfID, fixtureSelfID)
		}
	}
	ignored := func(t *testing.T, _ string, _ []byte, ev qq.Event) {
		if ev.SelfID != fixtureSelfID {
			t.Errorf("self_id = %d, want %d", ev.SelfID, fixtureSelfID)
		}
	}
	sameAsArray := func(arrayFixture string) func(*testing.T, string, []byte, qq.Event) {
		return func(t *testing.T, _ string, _ []byte, ev qq.Event) {
			want, _ := decodeFixture(t, arrayFixture)
			if !reflect.DeepEqual(ev, want) {
				t.Errorf("CQ-string form decodes differently from %s:\n got  %#v\n want %#v", arrayFixture, ev, want)
			}
		}
	}
	segmentCatalog := func(t *testing.T, name string, frame []byte, _ qq.Event) {
		checkSegmentCatalog(t, frame)
	}

	cases := map[string]fixtureCase{
		"get_group_member_info_request.json": {check: actionRequest(0)},
		"get_group_member_list_request.json": {check: actionRequest(0)},
		"get_msg_request.json":               {check: actionRequest(0)},
		"send_group_msg_request.json": {check: func(t *testing.T, _ string, frame []byte, _ qq.Event) {
			segs := actionMessage(t, frame, 3)
			if segs[1].Type != qq.SegAt || segs[1].Target != "1019283746" {
				t.Errorf("at segment = %+v", segs[1])
			}
		}},
		"send_group_msg_request_string_autoescape.json": {check: func(t *testing.T, _ string, frame []byte, _ qq.Event) {
			// With auto_escape the bot takes the string literally; our
			// parser sees no valid code in it either.
			segs := actionMessage(t, frame, 1)
			if got := segs[0].Text; got != "[MC] <Steve> a[b]c & d" {
				t.Errorf("text = %q", got)
			}
		}},
		"http_post_quick_operation_reply.json": {check: func(*testing.T, string, []byte, qq.Event) {}},
		"http_post_webhook_request_headers.json": {check: func(t *testing.T, _ string, frame []byte, _ qq.Event) {
			var w struct {
				Body string `json:"body_compact"`
			}
			if err := json.Unmarshal(frame, &w); err != nil {
				t.Fatal(err)
			}
			ev, kind, err := onebot.DecodeEvent([]byte(w.Body))
			want, _ := decodeFixture(t, "napcat_group_message_array.json")
			if err != nil || kind != onebot.FrameGroupMessage || !reflect.DeepEqual(ev, want) {
				t.Errorf("webhook body: kind %v, err %v, event differs from napcat_group_message_array.json: %v", kind, err, !reflect.DeepEqual(ev, want))
			}
		}},
		"json_card_samples.json": {check: checkCardSamplesSurviveCQ},
		"qq_face_names.json":     {check: func(*testing.T, string, []byte, qq.Event) {}},

		"lifecycle_connect.json": {kind: onebot.FrameMeta, check: meta},
		"napcat_heartbeat.json":  {kind: onebot.FrameMeta, check: meta},
		"llbot_heartbeat.json":   {kind: onebot.FrameMeta, check: meta},

		"napcat_group_message_array.json": {kind: onebot.FrameGroupMessage, check: func(t *testing.T, _ string, _ []byte, ev qq.Event) {
			checkGroupMessage(t, ev, "1847362519")
			face := ev.Message.Segments[3]
			if !reflect.DeepEqual(face, qq.Segment{Type: qq.SegFace, ID: "14"}) {
				t.Errorf("face = %+v; want id 14 (raw and the null resultId are not the model's)", face)
			}
			if img := ev.Message.Segments[4]; img.Sticker || !strings.HasPrefix(img.URL, "https://multimedia.nt.qq.com.cn/") {
				t.Errorf("image = %+v; want a picture (sub_type 0)", img)
			}
			if ev.Message.Sender.Role != "admin" {
				t.Errorf("role = %q", ev.Message.Sender.Role)
			}
		}},
		"napcat_group_message_string_cq.json": {kind: onebot.FrameGroupMessage, check: sameAsArray("napcat_group_message_array.json")},
		// The array fixture with the image url as some builds send it,
		// CQ-escaped ("&amp;"): it must decode to the same, working link.
		"napcat_group_message_array_escaped_url.json": {kind: onebot.FrameGroupMessage, check: sameAsArray("napcat_group_message_array.json")},
		"llbot_group_message_array.json": {kind: onebot.FrameGroupMessage, check: func(t *testing.T, _ string, _ []byte, ev qq.Event) {
			checkGroupMessage(t, ev, "-904512391")
			if at := ev.Message.Segments[1]; at.Name != "Bob" {
				t.Errorf("at = %+v; want LLBot's name Bob", at)
			}
			if img := ev.Message.Segments[4]; img.Sticker || img.URL == "" {
				t.Errorf("image = %+v; want a picture (LLBot's subType 0)", img)
			}
		}},
		"llbot_group_message_string_cq.json": {kind: onebot.FrameGroupMessage, check: sameAsArray("llbot_group_message_array.json")},
		"napcat_private_message_array.json": {kind: onebot.FramePrivateMessage, check: func(t *testing.T, _ string, _ []byte, ev qq.Event) {
			m := ev.Message
			if ev.Kind != qq.PrivateMessage || ev.GroupID != 0 || m.ID != "2013884571" ||
				m.Sender.UserID != 1019283746 || m.Sender.Nickname != "Alice" ||
				m.PlainText() != "在吗？白名单加一下 Steve" || len(m.Segments) != 1 {
				t.Errorf("private message decoded as %+v", ev)
			}
		}},

		"napcat_message_sent_group.json": {kind: onebot.FrameIgnored, check: ignored},
		"napcat_notice_group_poke.json":  {kind: onebot.FrameIgnored, check: ignored},
		"llbot_notice_group_poke.json":   {kind: onebot.FrameIgnored, check: ignored},
		"notice_friend_recall.json":      {kind: onebot.FrameIgnored, check: ignored},
		"notice_group_card.json":         {kind: onebot.FrameIgnored, check: ignored},
		"notice_group_decrease.json": {kind: onebot.FrameMemberLeft, check: func(t *testing.T, _ string, _ []byte, ev qq.Event) {
			if ev.Kind != qq.MemberLeft || ev.GroupID != 712345678 || ev.UserID != 1122334455 || ev.SelfID != 2401234567 {
				t.Errorf("member left decoded as %+v", ev)
			}
		}},
		"notice_group_increase.json": {kind: onebot.FrameIgnored, check: ignored},
		"notice_group_recall.json":   {kind: onebot.FrameIgnored, check: ignored},
		"request_friend.json":        {kind: onebot.FrameIgnored, check: ignored},
		"request_group_add.json":     {kind: onebot.FrameIgnored, check: ignored},

		"napcat_incoming_segments_catalog.json": {check: segmentCatalog},
		"llbot_incoming_segments_catalog.json":  {check: segmentCatalog},

		"get_login_info_response.json":                    {kind: onebot.FrameResponse, check: response("ok", 0, "mcbridge-53")},
		"llbot_get_group_info_response.json":              {kind: onebot.FrameResponse, check: response("ok", 0, "mcbridge-52")},
		"llbot_get_group_member_info_response.json":       {kind: onebot.FrameResponse, check: response("ok", 0, "mcbridge-50")},
		"llbot_response_failed_token_ws.json":             {kind: onebot.FrameResponse, check: response("failed", 1403, "")},
		"llbot_response_failed_unknown_action.json":       {kind: onebot.FrameResponse, check: response("failed", 1404, "mcbridge-45")},
		"llbot_response_failed_ws_exception.json":         {kind: onebot.FrameResponse, check: response("failed", 1200, "mcbridge-44")},
		"llbot_send_group_msg_response_ok.json":           {kind: onebot.FrameResponse, check: response("ok", 0, "mcbridge-42")},
		"napcat_get_group_info_response.json":             {kind: onebot.FrameResponse, check: response("ok", 0, "mcbridge-52")},
		"napcat_get_group_member_info_response.json":      {kind: onebot.FrameResponse, check: response("ok", 0, "mcbridge-50")},
		"napcat_get_stranger_info_response.json":          {kind: onebot.FrameResponse, check: response("ok", 0, "mcbridge-55")},
		"napcat_http_response_failed_unknown_action.json": {kind: onebot.FrameResponse, check: response("failed", 200, "k2j4h5g6f7d8s")},
		"napcat_response_failed_bad_params.json":          {kind: onebot.FrameResponse, check: response("failed", 1400, "mcbridge-46")},
		"napcat_response_failed_token_ws.json":            {kind: onebot.FrameResponse, check: response("failed", 1403, "")},
		"napcat_response_failed_unknown_action.json":      {kind: onebot.FrameResponse, check: response("failed", 1404, "mcbridge-45")},
		"napcat_response_failed_ws_exception.json":        {kind: onebot.FrameResponse, check: response("failed", 1200, "mcbridge-44")},
		"napcat_send_group_msg_response_ok.json":          {kind: onebot.FrameResponse, check: response("ok", 0, "mcbridge-42")},
	}

	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in testdata: %v", err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			tc, ok := cases[name]
			if !ok {
				t.Fatal("fixture has no entry in this table; say what it is")
			}
			frame := readFixture(t, name)
			ev, kind, err := onebot.DecodeEvent(frame)
			switch {
			case tc.kind == 0 && err == nil:
				t.Fatalf("DecodeEvent accepted a file that is not a bot frame as %v", kind)
			case tc.kind != 0 && err != nil:
				t.Fatalf("DecodeEvent: %v", err)
			case kind != tc.kind:
				t.Fatalf("kind = %v, want %v", kind, tc.kind)
			}
			tc.check(t, name, frame, ev)
		})
	}
	for name := range cases {
		if _, err := os.Stat(filepath.Join("testdata", name)); err != nil {
			t.Errorf("table entry %s has no fixture file", name)
		}
	}
}

func actionRequest(wantSegments int) func(*testing.T, string, []byte, qq.Event) {
	return func(t *testing.T, _ string, frame []byte, _ qq.Event) { actionMessage(t, frame, wantSegments) }
}

// actionMessage decodes params.message of an action request fixture and
// checks the segment count.
func actionMessage(t *testing.T, frame []byte, wantSegments int) []qq.Segment {
	t.Helper()
	var req struct {
		Action string `json:"action"`
		Params struct {
			Message json.RawMessage `json:"message"`
		} `json:"params"`
	}
	if err := json.Unmarshal(frame, &req); err != nil || req.Action == "" {
		t.Fatalf("not an action request: %v", err)
	}
	segs, err := onebot.DecodeSegments(req.Params.Message)
	if err != nil || len(segs) != wantSegments {
		t.Fatalf("message: %d segments, err %v; want %d", len(segs), err, wantSegments)
	}
	return segs
}

func checkGroupMessage(t *testing.T, ev qq.Event, wantID string) {
	t.Helper()
	m := ev.Message
	if ev.Kind != qq.GroupMessage || ev.SelfID != fixtureSelfID || ev.GroupID != 712345678 || ev.GroupName != "MC服务器交流群" {
		t.Errorf("event header = kind %v self %d group %d %q", ev.Kind, ev.SelfID, ev.GroupID, ev.GroupName)
	}
	if m.ID != wantID || !m.Time.Equal(time.Unix(1765432100, 0)) {
		t.Errorf("message id %q time %v", m.ID, m.Time)
	}
	if m.Sender.UserID != 1019283746 || m.Sender.Card != "[管理] Alice_MC" || m.Sender.Nickname != "Alice" {
		t.Errorf("sender = %+v", m.Sender)
	}
	var types []string
	for _, s := range m.Segments {
		types = append(types, s.Type)
	}
	if got := strings.Join(types, ","); got != "reply,at,text,face,image" {
		t.Fatalf("segment types = %s", got)
	}
	if got := m.PlainText(); got != " 今晚8点服务器维护, [重要] 请提前下线 & 保存" {
		t.Errorf("text = %q", got)
	}
	if m.Segments[1].Target != "1357924680" || !strings.HasPrefix(m.Segments[4].URL, "https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=") {
		t.Errorf("at/image = %+v / %+v", m.Segments[1], m.Segments[4])
	}
}

// checkSegmentCatalog decodes every segment of a catalog fixture and checks
// that its CQ form parses to the same segment.
func checkSegmentCatalog(t *testing.T, frame []byte) {
	var catalog struct {
		Segments []struct {
			Name    string          `json:"name"`
			Segment json.RawMessage `json:"segment"`
			CQ      string          `json:"cq"`
		} `json:"segments"`
	}
	if err := json.Unmarshal(frame, &catalog); err != nil || len(catalog.Segments) == 0 {
		t.Fatalf("catalog: %v", err)
	}
	for _, entry := range catalog.Segments {
		fromArray, err := onebot.DecodeSegments(json.RawMessage("[" + string(entry.Segment) + "]"))
		if err != nil || len(fromArray) != 1 {
			t.Errorf("%s: %v", entry.Name, err)
			continue
		}
		quoted, _ := json.Marshal(entry.CQ)
		fromCQ, err := onebot.DecodeSegments(quoted)
		if err != nil {
			t.Errorf("%s: CQ form: %v", entry.Name, err)
			continue
		}
		if !reflect.DeepEqual(fromCQ, fromArray) {
			t.Errorf("%s: CQ form differs from array form:\n CQ    %#v\n array %#v", entry.Name, fromCQ, fromArray)
		}
	}
}

// checkCardSamplesSurviveCQ: ark JSON is full of commas and brackets, the
// characters CQ escaping exists for.
func checkCardSamplesSurviveCQ(t *testing.T, _ string, frame []byte, _ qq.Event) {
	var cards struct {
		Samples []struct {
			Data string `json:"data"`
		} `json:"samples"`
	}
	if err := json.Unmarshal(frame, &cards); err != nil || len(cards.Samples) == 0 {
		t.Fatalf("card samples: %v", err)
	}
	for i, s := range cards.Samples {
		seg := qq.Segment{Type: qq.SegJSON, Payload: s.Data}
		got := onebot.ParseCQ(onebot.EncodeCQ([]qq.Segment{seg}))
		if len(got) != 1 || got[0].Payload != s.Data {
			t.Errorf("sample %d does not survive a CQ round trip: %#v", i, got)
		}
	}
}

func TestOwnMessageIgnored(t *testing.T) {
	// NapCat reports the bot's own messages as message_sent; an
	// implementation that reports them as plain messages is caught by
	// user_id == self_id.
	frame := strings.Replace(string(readFixture(t, "napcat_message_sent_group.json")),
		`"post_type": "message_sent"`, `"post_type": "message"`, 1)
	_, kind, err := onebot.DecodeEvent([]byte(frame))
	if err != nil || kind != onebot.FrameIgnored {
		t.Fatalf("own message as post_type message: kind %v, err %v; want ignored", kind, err)
	}
}

func TestLenientTypes(t *testing.T) {
	// Every number as a string and every string-ish datum as a number.
	frame := `{"post_type":"message","message_type":"group","self_id":"2401234567","user_id":"1019283746",
		"group_id":"712345678","group_name":12345,"message_id":"-5","time":"1765432100",
		"sender":{"user_id":"1019283746","nickname":42,"card":null,"role":"member"},
		"message":[{"type":"face","data":{"id":14,"large":true,"missing":null}},{"type":"text","data":{"text":"hi"}},
		{"type":"brand_new","data":{"n":1.5,"s":"x"}},{"type":"shake"}]}`
	ev, kind, err := onebot.DecodeEvent([]byte(frame))
	if err != nil || kind != onebot.FrameGroupMessage {
		t.Fatalf("kind %v, err %v", kind, err)
	}
	want := qq.Event{
		Kind: qq.GroupMessage, SelfID: 2401234567, GroupID: 712345678, GroupName: "12345",
		Message: qq.Message{
			ID:     "-5",
			Time:   time.Unix(1765432100, 0),
			Sender: qq.Member{UserID: 1019283746, Nickname: "42", Role: "member"},
			Segments: []qq.Segment{
				{Type: "face", ID: "14"},
				qq.Text("hi"),
				{Type: "brand_new"},
				{Type: "shake"},
			},
		},
	}
	if !reflect.DeepEqual(ev, want) {
		t.Fatalf("got  %#v\nwant %#v", ev, want)
	}
}

func TestForwardContent(t *testing.T) {
	// NapCat with parseMultMsg inlines the forwarded messages.
	frame := `{"post_type":"message","message_type":"group","self_id":1,"user_id":2,"group_id":3,"message_id":4,
		"message":[{"type":"forward","data":{"id":"7454101238470911234","content":[
			{"message_id":11,"time":1765432000,"user_id":5,"sender":{"user_id":5,"nickname":"Bob","card":""},
			 "message":[{"type":"text","data":{"text":"今晚维护"}}]},
			{"message_id":12,"user_id":6,"sender":{"user_id":6,"nickname":"Carol"},"message":"收到&#91;CQ:face,id=14]"}
		]}}]}`
	ev, kind, err := onebot.DecodeEvent([]byte(frame))
	if err != nil || kind != onebot.FrameGroupMessage {
		t.Fatalf("kind %v, err %v", kind, err)
	}
	seg := ev.Message.Segments[0]
	if seg.ID != "7454101238470911234" || seg.Text != "" {
		t.Errorf("forward = %+v; want the id and no raw content", seg)
	}
	if len(seg.Forward) != 2 {
		t.Fatalf("forward messages = %d, want 2", len(seg.Forward))
	}
	first, second := seg.Forward[0], seg.Forward[1]
	if first.ID != "11" || first.Sender.Nickname != "Bob" || first.PlainText() != "今晚维护" || !first.Time.Equal(time.Unix(1765432000, 0)) {
		t.Errorf("first forwarded message = %+v", first)
	}
	if second.Sender.UserID != 6 || second.PlainText() != "收到[CQ:face,id=14]" {
		t.Errorf("second forwarded message = %+v", second)
	}
}

func TestDecodeEventRejectsBadFrames(t *testing.T) {
	for name, frame := range map[string]string{
		"not JSON":               `{"post_type":`,
		"array":                  `[1,2]`,
		"string":                 `"hello"`,
		"empty":                  ``,
		"no post_type or status": `{"echo":"x"}`,
		"post_type object":       `{"post_type":{}}`,
		"group_id object":        `{"post_type":"message","message_type":"group","group_id":{"a":1},"message":[]}`,
		"group without id":       `{"post_type":"message","message_type":"group","user_id":1,"message":[]}`,
		"user_id not a number":   `{"post_type":"message","message_type":"private","user_id":"u_abc","message":[]}`,
		"user_id bool":           `{"post_type":"message","message_type":"private","user_id":true,"message":[]}`,
		"message a number":       `{"post_type":"message","message_type":"private","user_id":1,"message":5}`,
		"segment data array":     `{"post_type":"message","message_type":"private","user_id":1,"message":[{"type":"text","data":["x"]}]}`,
		"segment without type":   `{"post_type":"message","message_type":"private","user_id":1,"message":[{"data":{}}]}`,
		"segment not an object":  `{"post_type":"message","message_type":"private","user_id":1,"message":["text"]}`,
		"sender card object":     `{"post_type":"message","message_type":"private","user_id":1,"sender":{"card":{}},"message":[]}`,
		"meta self_id garbage":   `{"post_type":"meta_event","meta_event_type":"heartbeat","self_id":"NaN!"}`,
	} {
		if _, kind, err := onebot.DecodeEvent([]byte(frame)); err == nil {
			t.Errorf("%s: accepted as %v", name, kind)
		}
	}
}

func TestOddNoticesAreIgnoredNotErrors(t *testing.T) {
	// Notices carry fields the bridge never reads; their types must not matter.
	frame := `{"post_type":"notice","notice_type":"notify","self_id":1,"user_id":"u_AbC","time":"soon","message":{}}`
	if _, kind, err := onebot.DecodeEvent([]byte(frame)); err != nil || kind != onebot.FrameIgnored {
		t.Fatalf("kind %v, err %v; want ignored", kind, err)
	}
}

func TestDecodeMessage(t *testing.T) {
	// get_msg data is a message event object.
	frame := readFixture(t, "llbot_group_message_array.json")
	m, err := onebot.DecodeMessage(frame)
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "-904512391" || m.Sender.Card != "[管理] Alice_MC" || len(m.Segments) != 5 {
		t.Fatalf("message = %+v", m)
	}
	if _, err := onebot.DecodeMessage([]byte(`null`)); err == nil {
		t.Fatal("null data accepted as a message")
	}
}

// TestImplementationQuirksAreNormalised: what NapCat and LLBot spell
// differently reaches the formatter in one shape, from either message format.
func TestImplementationQuirksAreNormalised(t *testing.T) {
	for _, tc := range []struct {
		name, array, cq string
		want            qq.Segment
	}{
		{"LLBot subType", `{"type":"image","data":{"subType":1,"url":"https://x/a.gif"}}`, "[CQ:image,subType=1,url=https://x/a.gif]",
			qq.Segment{Type: qq.SegImage, URL: "https://x/a.gif", Sticker: true}},
		{"picture", `{"type":"image","data":{"sub_type":0,"summary":""}}`, "[CQ:image,sub_type=0]",
			qq.Segment{Type: qq.SegImage}},
		{"NapCat market face as an image", `{"type":"image","data":{"summary":"[狗头]"}}`, "[CQ:image,summary=&#91;狗头&#93;]",
			qq.Segment{Type: qq.SegImage, Summary: "[狗头]", Sticker: true}},
		{"plain [图片] summary", `{"type":"image","data":{"sub_type":0,"summary":"[图片]"}}`, "[CQ:image,sub_type=0,summary=&#91;图片&#93;]",
			qq.Segment{Type: qq.SegImage, Summary: "[图片]"}},
		{"escaped link", `{"type":"image","data":{"url":"https://x/?a=1&amp;b=2"}}`, "[CQ:image,url=https://x/?a=1&amp;amp;b=2]",
			qq.Segment{Type: qq.SegImage, URL: "https://x/?a=1&b=2"}},
		{"file name in the file field", `{"type":"file","data":{"file":"world.zip"}}`, "[CQ:file,file=world.zip]",
			qq.Segment{Type: qq.SegFile, Name: "world.zip"}},
		{"file token in the file field", `{"type":"file","data":{"file":"NapCatOneBotUUID-token"}}`, "[CQ:file,file=NapCatOneBotUUID-token]",
			qq.Segment{Type: qq.SegFile}},
		{"file name wins over the file field", `{"type":"file","data":{"name":"a.zip","file":"b.zip"}}`, "[CQ:file,file=b.zip,name=a.zip]",
			qq.Segment{Type: qq.SegFile, Name: "a.zip"}},
		{"card payload sent as an object", `{"type":"json","data":{"data":{"app":"x","n":1}}}`, `[CQ:json,data={"app":"x"&#44;"n":1}]`,
			qq.Segment{Type: qq.SegJSON, Payload: `{"app":"x","n":1}`}},
	} {
		quoted, _ := json.Marshal(tc.cq)
		for form, raw := range map[string]string{"array": "[" + tc.array + "]", "CQ": string(quoted)} {
			segs, err := onebot.DecodeSegments(json.RawMessage(raw))
			if err != nil || len(segs) != 1 {
				t.Fatalf("%s, %s form: %v", tc.name, form, err)
			}
			if !reflect.DeepEqual(segs[0], tc.want) {
				t.Errorf("%s, %s form:\n got %+v\nwant %+v", tc.name, form, segs[0], tc.want)
			}
		}
	}
}
