package format

import (
	"strings"
	"testing"

	"github.com/mcqq/bridge/minecraft"
)

func literal(s string) minecraft.Translation { return minecraft.Translation{Text: s} }

func tr(key, text string, args ...minecraft.Translation) minecraft.Translation {
	return minecraft.Translation{Key: key, Args: args, Text: text}
}

func TestGameToQQDefaults(t *testing.T) {
	zombie := tr("entity.minecraft.zombie", "Zombie")
	tests := []struct {
		name string
		ev   minecraft.Event
		want string
	}{
		{"chat", minecraft.Event{Kind: minecraft.Chat, Player: "Steve", Message: "§aHello &lworld & co"}, "Steve：Hello world & co"},
		{"join", minecraft.Event{Kind: minecraft.Join, Player: "§6Steve"}, "Steve 加入了游戏"},
		{"quit", minecraft.Event{Kind: minecraft.Quit, Player: "Steve"}, "Steve 离开了游戏"},
		{"death", minecraft.Event{Kind: minecraft.Death, Player: "Steve",
			Death: tr("death.attack.mob", "Steve was slain by Zombie", literal("Steve"), zombie)}, "Steve被僵尸杀死了"},
		{"advancement", minecraft.Event{Kind: minecraft.Advancement, Player: "Steve",
			Advancement: minecraft.AdvancementInfo{ID: "minecraft:story/mine_stone",
				Title: tr("advancements.story.mine_stone.title", "Stone Age")}}, "Steve 达成了进度 [石器时代]"},
		{"command", minecraft.Event{Kind: minecraft.Command, Player: "Steve", Message: "tp Steve 0 64 0"}, "Steve 执行了命令 /tp Steve 0 64 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := GameToQQ(tt.ev, DefaultTemplates(), "")
			if !ok || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func TestGameToQQNotRelayed(t *testing.T) {
	hidden := minecraft.Event{Kind: minecraft.Advancement, Player: "Steve",
		Advancement: minecraft.AdvancementInfo{ID: "minecraft:recipes/misc/torch", Hidden: true}}
	if line, ok := GameToQQ(hidden, DefaultTemplates(), ""); ok {
		t.Errorf("hidden advancement relayed as %q", line)
	}
	if line, ok := GameToQQ(minecraft.Event{Kind: 0, Player: "Steve"}, DefaultTemplates(), ""); ok {
		t.Errorf("unknown event relayed as %q", line)
	}
	blank := DefaultTemplates()
	blank.Join = "  "
	if line, ok := GameToQQ(minecraft.Event{Kind: minecraft.Join, Player: "Steve"}, blank, ""); ok {
		t.Errorf("blank template relayed as %q", line)
	}
}

func TestCustomTemplates(t *testing.T) {
	custom := Templates{
		Chat:        "[{server}] <{player}> {message}",
		Join:        "{server}: +{player}",
		Quit:        "{server}: -{player}",
		Death:       "☠ {text} ({player}@{server})",
		Advancement: "🏆 {player}: {title}",
		Command:     "{player} ran {command} on {server}",
	}
	if err := custom.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	ev := func(kind minecraft.EventKind) minecraft.Event {
		return minecraft.Event{Kind: kind, Server: "survival", Player: "Steve", Message: "hi {player}",
			Death:       tr("death.attack.drown", "Steve drowned", literal("Steve")),
			Advancement: minecraft.AdvancementInfo{Title: tr("advancements.end.kill_dragon.title", "Free the End")}}
	}
	tests := []struct {
		kind minecraft.EventKind
		want string
	}{
		// A value holding "{player}" is not expanded again.
		{minecraft.Chat, "[survival] <Steve> hi {player}"},
		{minecraft.Join, "survival: +Steve"},
		{minecraft.Quit, "survival: -Steve"},
		{minecraft.Death, "☠ Steve淹死了 (Steve@survival)"},
		{minecraft.Advancement, "🏆 Steve: 解放末地"},
		{minecraft.Command, "Steve ran hi {player} on survival"},
	}
	for _, tt := range tests {
		if got, ok := GameToQQ(ev(tt.kind), custom, ""); !ok || got != tt.want {
			t.Errorf("%v: got %q, %v; want %q", tt.kind, got, ok, tt.want)
		}
	}
}

func TestTemplatePlaceholderThatDoesNotApplyIsEmpty(t *testing.T) {
	tpl := DefaultTemplates()
	tpl.Join = "{player}{title}{message} joined {"
	got, _ := GameToQQ(minecraft.Event{Kind: minecraft.Join, Player: "Steve"}, tpl, "")
	if got != "Steve joined {" {
		t.Errorf("got %q", got)
	}
}

// {qq} is the bound member's name, one line, colour codes stripped; empty
// for an unbound player. Uses tells the relay whether to look it up.
func TestQQPlaceholder(t *testing.T) {
	tpl := DefaultTemplates()
	tpl.Chat = "{player}({qq})：{message}"
	if err := tpl.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if !tpl.Uses("qq") || DefaultTemplates().Uses("qq") {
		t.Errorf("Uses(qq): %v with it, %v without", tpl.Uses("qq"), DefaultTemplates().Uses("qq"))
	}
	chat := minecraft.Event{Kind: minecraft.Chat, Player: "Steve", Message: "hi"}
	if got, _ := GameToQQ(chat, tpl, "§a[管理]\nAlice"); got != "Steve([管理] Alice)：hi" {
		t.Errorf("bound: %q", got)
	}
	if got, _ := GameToQQ(chat, tpl, ""); got != "Steve()：hi" {
		t.Errorf("unbound: %q", got)
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultTemplates().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	tpl := DefaultTemplates()
	tpl.Chat = "{player}: {nope}"
	tpl.Death = "{Text} {} {not a placeholder}"
	err := tpl.Validate()
	if err == nil {
		t.Fatal("Validate accepted {nope}")
	}
	for _, want := range []string{"FORMAT_CHAT: unknown placeholder {nope}", "FORMAT_DEATH: unknown placeholder {Text}"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "{}") || strings.Contains(err.Error(), "not a placeholder") {
		t.Errorf("error %q reports braces that are plain text", err)
	}
}

// Each template with unknown placeholders is one error naming all of them,
// each once, so the configuration error is one line per variable.
func TestUnknownPlaceholdersOnePerVariable(t *testing.T) {
	tpl := DefaultTemplates()
	tpl.Chat = "{name}: {msg} {name} {message}"
	tpl.Join = "{who} joined"
	got := tpl.UnknownPlaceholders()
	if len(got) != 2 {
		t.Fatalf("got %d errors; want one per variable: %v", len(got), got)
	}
	if got[0].Variable != "FORMAT_CHAT" || strings.Join(got[0].Names, ",") != "name,msg" {
		t.Errorf("first: %+v", got[0])
	}
	if !strings.HasPrefix(got[0].Error(), "FORMAT_CHAT: unknown placeholders {name}, {msg} (known: {server}") {
		t.Errorf("text %q", got[0].Error())
	}
	if got[1].Error() != "FORMAT_JOIN: "+got[1].Problem() || !strings.HasPrefix(got[1].Problem(), "unknown placeholder {who} (known:") {
		t.Errorf("second: %q", got[1].Error())
	}
}

func TestDeathText(t *testing.T) {
	zombie := tr("entity.minecraft.zombie", "Zombie")
	sword := tr("chat.square_brackets", "[Excalibur]", literal("Excalibur"))
	tests := []struct {
		name   string
		death  minecraft.Translation
		player string
		want   string
	}{
		{"mob", tr("death.attack.mob", "Steve was slain by Zombie", literal("Steve"), zombie), "Steve", "Steve被僵尸杀死了"},
		{"named mob keeps its name", tr("death.attack.mob", "Steve was slain by Bob", literal("Steve"), literal("Bob")), "Steve", "Steve被Bob杀死了"},
		{"player with a named item", tr("death.attack.player.item", "Steve was slain by Alex using [Excalibur]",
			literal("Steve"), literal("Alex"), sword), "Steve", "Steve被Alex用[Excalibur]杀死了"},
		{"item before killer in the pattern", tr("death.attack.onFire.item", "…", literal("Steve"), zombie, sword), "Steve",
			"Steve在与持有[Excalibur]的僵尸战斗时被烤得酥脆"},
		{"mace smash", tr("death.attack.mace_smash.item", "Steve was smashed by Alex with [Mace]",
			literal("Steve"), literal("Alex"), tr("chat.square_brackets", "[Mace]", literal("Mace"))), "Steve", "Steve被Alex用[Mace]一锤毙命"},
		{"creaking", tr("death.attack.mob", "Steve was slain by Creaking", literal("Steve"), tr("entity.minecraft.creaking", "Creaking")),
			"Steve", "Steve被嘎枝杀死了"},
		{"spear (1.21.11)", tr("death.attack.spear", "Steve was speared by Parched", literal("Steve"), tr("entity.minecraft.parched", "Parched")),
			"Steve", "Steve被焦骸刺穿了"},
		{"killer first in the pattern (26.2)", tr("death.attack.sulfurCubeHot.player", "Alex showed Steve that not just the floor is lava",
			literal("Steve"), literal("Alex")), "Steve", "Alex让Steve知道了不只有地板是熔岩做的"},
		{"fall", tr("death.fell.accident.ladder", "Steve fell off a ladder", literal("Steve")), "Steve", "Steve从梯子上摔了下来"},
		{"bad respawn point", tr("death.attack.badRespawnPoint.message", "Steve was killed by [Intentional Game Design]",
			literal("Steve"), tr("chat.square_brackets", "[Intentional Game Design]", tr("death.attack.badRespawnPoint.link", "Intentional Game Design"))),
			"Steve", "Steve被[刻意的游戏设计]杀死了"},
		{"modded entity keeps the server's name", tr("death.attack.mob", "Steve was slain by Ent",
			literal("Steve"), tr("entity.twilightforest.ent", "Ent")), "Steve", "Steve被Ent杀死了"},
		{"legacy string args", tr("death.attack.mob", "Steve was slain by Zombie", literal("Steve"), literal("Zombie")), "Steve", "Steve被Zombie杀死了"},
		{"no args: the player is the victim", tr("death.attack.drown", "Steve drowned"), "Steve", "Steve淹死了"},
		{"missing killer: server text", tr("death.attack.mob", "Steve was slain by ???", literal("Steve")), "Steve", "Steve was slain by ???"},
		{"unknown key keeps the server's Chinese", tr("death.attack.modded", "17TheWord被机器压扁了", literal("17TheWord")), "17TheWord", "17TheWord被机器压扁了"},
		{"Spigot: text only", minecraft.Translation{Text: "Steve was slain by Zombie"}, "Steve", "Steve was slain by Zombie"},
		{"nothing at all", minecraft.Translation{}, "Steve", "Steve 死亡了"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DeathText(tt.death, tt.player); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDeathTextDeepNestingDoesNotRecurseForever(t *testing.T) {
	arg := literal("x")
	for i := 0; i < 10000; i++ {
		arg = tr("chat.square_brackets", "[deep]", arg)
	}
	got := DeathText(tr("death.attack.mob", "fallback", literal("Steve"), arg), "Steve")
	if !strings.HasPrefix(got, "Steve被[[[") {
		t.Errorf("got %q", got)
	}
}

func TestAdvancementTitle(t *testing.T) {
	tests := []struct {
		name string
		a    minecraft.AdvancementInfo
		want string
	}{
		{"by title key", minecraft.AdvancementInfo{ID: "minecraft:story/mine_stone",
			Title: tr("advancements.story.mine_stone.title", "Stone Age")}, "石器时代"},
		{"by id when no title (Spigot)", minecraft.AdvancementInfo{ID: "minecraft:nether/find_fortress"}, "阴森的要塞"},
		{"id differing from its key", minecraft.AdvancementInfo{ID: "minecraft:husbandry/obtain_netherite_hoe"}, "终极奉献"},
		{"id moved to another tab", minecraft.AdvancementInfo{ID: "minecraft:adventure/use_lodestone"}, "天涯共此石"},
		{"happy ghast (1.21.6)", minecraft.AdvancementInfo{ID: "minecraft:husbandry/place_dried_ghast_in_water",
			Title: tr("advancements.husbandry.place_dried_ghast_in_water.title", "Stay Hydrated!")}, "补水保湿！"},
		{"creaking heart (1.21.4) by id", minecraft.AdvancementInfo{ID: "minecraft:adventure/heart_transplanter"}, "移心接木"},
		{"old tab of a moved key", minecraft.AdvancementInfo{Title: tr("advancements.nether.use_lodestone.title", "Country Lode, Take Me Home")}, "天涯共此石"},
		{"modded title key wins over a vanilla parent id (Forge)", minecraft.AdvancementInfo{ID: "minecraft:story/root",
			Title: tr("advancements.create.andesite_alloy.title", "Alliterations Aplenty")}, "Alliterations Aplenty"},
		{"server text when unknown", minecraft.AdvancementInfo{ID: "mymod:x",
			Title: tr("advancements.mymod.x.title", "模组进度")}, "模组进度"},
		{"announcement when no title", minecraft.AdvancementInfo{ID: "mymod:x",
			Announcement: tr("chat.type.advancement.task", "Steve has made the advancement [Deep Dive]",
				literal("Steve"), tr("chat.square_brackets", "[Deep Dive]", literal("Deep Dive")))}, "Deep Dive"},
		{"announcement text only (MCDR)", minecraft.AdvancementInfo{
			Announcement: literal("Steve has made the advancement [Deep Dive]")}, "Deep Dive"},
		{"id as the last resort", minecraft.AdvancementInfo{ID: "minecraft:story/unknown_new"}, "story/unknown_new"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AdvancementTitle(tt.a); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormatTranslation(t *testing.T) {
	tests := []struct {
		pattern string
		args    []string
		want    string
		ok      bool
	}{
		{"%s和%s", []string{"A", "B"}, "A和B", true},
		{"%2$s在%1$s", []string{"A", "B"}, "B在A", true},
		{"100%% %s", []string{"A"}, "100% A", true},
		{"%d%x%", []string{"A"}, "%d%x%", true},
		{"%1$s被%2$s杀死了", []string{"A"}, "", false},
		{"%0$s", []string{"A"}, "%0$s", true},
		{"无参数", nil, "无参数", true},
	}
	for _, tt := range tests {
		got, ok := formatTranslation(tt.pattern, tt.args)
		if got != tt.want || ok != tt.ok {
			t.Errorf("formatTranslation(%q, %q) = %q, %v; want %q, %v", tt.pattern, tt.args, got, ok, tt.want, tt.ok)
		}
	}
}

// TestTables checks the hand-written tables for the mistakes a typo makes:
// a death message that does not name its victim or asks for a fourth
// argument, an entity or advancement key in the wrong shape, an alias to
// nowhere.
func TestTables(t *testing.T) {
	for key, pattern := range deathMessages {
		if !strings.HasPrefix(key, "death.") {
			t.Errorf("death key %q", key)
		}
		if _, ok := formatTranslation(pattern, []string{"a", "b", "c"}); !ok {
			t.Errorf("%s: pattern %q needs more than three arguments", key, pattern)
		}
		victimless := key == "death.attack.badRespawnPoint.link" || key == "death.attack.message_too_long"
		if !victimless && !strings.Contains(pattern, "%1$s") {
			t.Errorf("%s: pattern %q does not name the victim", key, pattern)
		}
	}
	for key, name := range entityNames {
		if !strings.HasPrefix(key, "entity.minecraft.") || strings.TrimSpace(name) == "" {
			t.Errorf("entity %q = %q", key, name)
		}
	}
	tabs := map[string]bool{"story": true, "nether": true, "end": true, "adventure": true, "husbandry": true}
	for path, title := range advancementTitles {
		tab, name, ok := strings.Cut(path, "/")
		if !ok || !tabs[tab] || name == "" || strings.ContainsAny(name, "./") || strings.TrimSpace(title) == "" {
			t.Errorf("advancement %q = %q", path, title)
		}
		key := "advancements." + tab + "." + name + ".title"
		if got, ok := advancementTitleByKey(key); !ok || got != title {
			t.Errorf("key %s does not find %q", key, title)
		}
	}
	for id, path := range advancementIDAliases {
		if _, ok := advancementTitles[path]; !ok {
			t.Errorf("alias %s → %s points to no title", id, path)
		}
	}
}
