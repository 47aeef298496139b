package format

import (
	"strings"

	"github.com/mcqq/bridge/minecraft"
)

// AdvancementTitle is an advancement's title for QQ, the first of:
//   - the Chinese title of its translation key (advancements.<tab>.<name>.title);
//   - when the server sent no title key, the Chinese title of its id
//     (minecraft:<tab>/<name>) — not otherwise, because Forge ≥ 1.21 reports
//     the parent's id there;
//   - the server's title text;
//   - the title inside the announcement ("… [Stone Age]");
//   - the id itself.
func AdvancementTitle(a minecraft.AdvancementInfo) string {
	if title, ok := advancementTitleByKey(a.Title.Key); ok {
		return title
	}
	if a.Title.Key == "" {
		if title, ok := advancementTitleByID(a.ID); ok {
			return title
		}
	}
	if s := strings.TrimSpace(a.Title.Text); s != "" {
		return s
	}
	if s := titleFromAnnouncement(a.Announcement); s != "" {
		return s
	}
	return strings.TrimPrefix(strings.TrimSpace(a.ID), "minecraft:")
}

// advancementPathFromKey turns "advancements.story.mine_stone.title" into
// "story/mine_stone".
func advancementPathFromKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, "advancements.")
	if !ok {
		return "", false
	}
	rest, ok = strings.CutSuffix(rest, ".title")
	if !ok {
		return "", false
	}
	tab, name, ok := strings.Cut(rest, ".")
	if !ok || tab == "" || name == "" {
		return "", false
	}
	return tab + "/" + name, true
}

func advancementTitleByKey(key string) (string, bool) {
	path, ok := advancementPathFromKey(key)
	if !ok {
		return "", false
	}
	title, ok := advancementTitles[path]
	return title, ok
}

func advancementTitleByID(id string) (string, bool) {
	path, ok := strings.CutPrefix(strings.TrimSpace(id), "minecraft:")
	if !ok {
		return "", false
	}
	if alias, ok := advancementIDAliases[path]; ok {
		path = alias
	}
	title, ok := advancementTitles[path]
	return title, ok
}

// titleFromAnnouncement takes the title out of the chat announcement
// (chat.type.advancement.<frame> with arguments [player, title]), else out of
// the last "[…]" of its text.
func titleFromAnnouncement(t minecraft.Translation) string {
	if strings.HasPrefix(t.Key, "chat.type.advancement.") && len(t.Args) >= 2 {
		title := t.Args[1]
		if title.Key == "chat.square_brackets" && len(title.Args) == 1 {
			title = title.Args[0]
		}
		if s := strings.TrimSpace(trimBrackets(zhText(title))); s != "" {
			return s
		}
	}
	open := strings.LastIndex(t.Text, "[")
	if open < 0 {
		return ""
	}
	end := strings.LastIndex(t.Text, "]")
	if end <= open {
		return ""
	}
	return strings.TrimSpace(t.Text[open+1 : end])
}

func trimBrackets(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		return s[1 : len(s)-1]
	}
	return s
}

// advancementIDAliases maps advancement ids whose path differs from their
// title key's path onto the key's path.
var advancementIDAliases = map[string]string{
	"adventure/read_power_of_chiseled_bookshelf": "adventure/read_power_from_chiseled_bookshelf",
	"husbandry/bred_all_animals":                 "husbandry/breed_all_animals",
	"husbandry/obtain_netherite_hoe":             "husbandry/netherite_hoe",
}

// advancementTitles holds the zh_cn titles of the vanilla Java Edition
// advancements (checked against 1.21.11 and 26.2; the keys are listed in
// testdata/langkeys), keyed by the path of their title key:
// advancements.<tab>.<name>.title → "<tab>/<name>". A title key that moved
// tab keeps its old path too, for older servers.
var advancementTitles = map[string]string{
	// Minecraft (story)
	"story/root":                 "Minecraft",
	"story/mine_stone":           "石器时代",
	"story/upgrade_tools":        "获得升级",
	"story/smelt_iron":           "来硬的",
	"story/obtain_armor":         "整装上阵",
	"story/lava_bucket":          "热腾腾的",
	"story/iron_tools":           "这不是铁镐么",
	"story/deflect_arrow":        "不吃这套，谢谢",
	"story/form_obsidian":        "冰桶挑战",
	"story/mine_diamond":         "钻石！",
	"story/enter_the_nether":     "勇往直下",
	"story/shiny_gear":           "钻石护体",
	"story/enchant_item":         "附魔师",
	"story/cure_zombie_villager": "僵尸科医生",
	"story/follow_ender_eye":     "隔墙有眼",
	"story/enter_the_end":        "结束了？",

	// 下界 (nether)
	"nether/root":                           "下界",
	"nether/return_to_sender":               "见鬼去吧",
	"nether/find_bastion":                   "光辉岁月",
	"nether/obtain_ancient_debris":          "深藏不露",
	"nether/fast_travel":                    "曲速泡",
	"nether/find_fortress":                  "阴森的要塞",
	"nether/obtain_crying_obsidian":         "谁在切洋葱？",
	"nether/distract_piglin":                "金光闪闪",
	"nether/ride_strider":                   "画船添足",
	"nether/uneasy_alliance":                "脆弱的同盟",
	"nether/loot_bastion":                   "战猪",
	"nether/use_lodestone":                  "天涯共此石",
	"nether/netherite_armor":                "残骸裹身",
	"nether/get_wither_skull":               "惊悚恐怖骷髅头",
	"nether/obtain_blaze_rod":               "与火共舞",
	"nether/charge_respawn_anchor":          "锚没有九条命",
	"nether/ride_strider_in_overworld_lava": "温暖如家",
	"nether/explore_nether":                 "热门景点",
	"nether/summon_wither":                  "凋零山庄",
	"nether/brew_potion":                    "本地酿造厂",
	"nether/create_beacon":                  "带信标回家",
	"nether/all_potions":                    "狂乱的鸡尾酒",
	"nether/create_full_beacon":             "信标工程师",
	"nether/all_effects":                    "为什么会变成这样呢？",

	// 末地 (end)
	"end/root":              "末地",
	"end/kill_dragon":       "解放末地",
	"end/dragon_egg":        "下一世代",
	"end/enter_end_gateway": "远程折跃",
	"end/respawn_dragon":    "结束了…再一次…",
	"end/dragon_breath":     "你需要来点薄荷糖",
	"end/find_end_city":     "在游戏尽头的城市",
	"end/elytra":            "天空即为极限",
	"end/levitate":          "这上面的风景不错",

	// 冒险 (adventure)
	"adventure/root":                                   "冒险",
	"adventure/adventuring_time":                       "探索的时光",
	"adventure/arbalistic":                             "劲弩手",
	"adventure/avoid_vibration":                        "潜行100级",
	"adventure/blowback":                               "逆风翻盘",
	"adventure/brush_armadillo":                        "这不是鳞甲么？",
	"adventure/bullseye":                               "正中靶心",
	"adventure/craft_decorated_pot_using_only_sherds":  "精修细补",
	"adventure/crafters_crafting_crafters":             "合成器合成合成器",
	"adventure/fall_from_world_height":                 "上天入地",
	"adventure/heart_transplanter":                     "移心接木",
	"adventure/hero_of_the_village":                    "村庄英雄",
	"adventure/honey_block_slide":                      "胶着状态",
	"adventure/kill_a_mob":                             "怪物猎人",
	"adventure/kill_all_mobs":                          "资深怪物猎人",
	"adventure/kill_mob_near_sculk_catalyst":           "它蔓延了",
	"adventure/lighten_up":                             "铜光焕发",
	"adventure/lightning_rod_with_villager_no_fire":    "电涌保护器",
	"adventure/minecraft_trials_edition":               "Minecraft：试炼版",
	"adventure/ol_betsy":                               "扣下悬刀",
	"adventure/overoverkill":                           "天赐良击",
	"adventure/play_jukebox_in_meadows":                "音乐之声",
	"adventure/read_power_from_chiseled_bookshelf":     "知识就是力量",
	"adventure/revaulting":                             "宝经磨炼",
	"adventure/salvage_sherd":                          "探古寻源",
	"adventure/shoot_arrow":                            "瞄准目标",
	"adventure/sleep_in_bed":                           "甜蜜的梦",
	"adventure/sniper_duel":                            "狙击手的对决",
	"adventure/spear_many_mobs":                        "生物串串香",
	"adventure/spyglass_at_dragon":                     "那是飞机吗？",
	"adventure/spyglass_at_ghast":                      "那是气球吗？",
	"adventure/spyglass_at_parrot":                     "那是鸟吗？",
	"adventure/summon_iron_golem":                      "招募援兵",
	"adventure/throw_trident":                          "抖包袱",
	"adventure/totem_of_undying":                       "超越生死",
	"adventure/trade":                                  "成交！",
	"adventure/trade_at_world_height":                  "星际商人",
	"adventure/trim_with_all_exclusive_armor_patterns": "匠心独具",
	"adventure/trim_with_any_armor_pattern":            "旧貌锻新颜",
	"adventure/two_birds_one_arrow":                    "一箭双雕",
	"adventure/use_lodestone":                          "天涯共此石",
	"adventure/under_lock_and_key":                     "珍藏密敛",
	"adventure/very_very_frightening":                  "魔女审判",
	"adventure/voluntary_exile":                        "自我放逐",
	"adventure/walk_on_powder_snow_with_leather_boots": "轻功雪上飘",
	"adventure/who_needs_rockets":                      "还要啥火箭啊？",
	"adventure/whos_the_pillager_now":                  "现在谁才是掠夺者？",

	// 农牧业 (husbandry)
	"husbandry/root": "农牧业",
	"husbandry/allay_deliver_cake_to_note_block": "生日快乐歌",
	"husbandry/allay_deliver_item_to_player":     "找到一个好朋友",
	"husbandry/axolotl_in_a_bucket":              "最萌捕食者",
	"husbandry/balanced_diet":                    "均衡饮食",
	"husbandry/breed_all_animals":                "成双成对",
	"husbandry/breed_an_animal":                  "我从哪儿来？",
	"husbandry/complete_catalogue":               "百猫全书",
	"husbandry/feed_snifflet":                    "小小嗅探兽",
	"husbandry/fishy_business":                   "腥味十足的生意",
	"husbandry/froglights":                       "相映生辉！",
	"husbandry/kill_axolotl_target":              "友谊的治愈力！",
	"husbandry/leash_all_frog_variants":          "呱呱队出动",
	"husbandry/make_a_sign_glow":                 "眼前一亮！",
	"husbandry/netherite_hoe":                    "终极奉献",
	"husbandry/place_dried_ghast_in_water":       "补水保湿！",
	"husbandry/obtain_sniffer_egg":               "怪味蛋",
	"husbandry/plant_any_sniffer_seed":           "播种往事",
	"husbandry/plant_seed":                       "开荒垦地",
	"husbandry/remove_wolf_armor":                "华丽一剪",
	"husbandry/repair_wolf_armor":                "完好如初",
	"husbandry/ride_a_boat_with_a_goat":          "羊帆起航！",
	"husbandry/safely_harvest_honey":             "与蜂共舞",
	"husbandry/silk_touch_nest":                  "举巢搬迁",
	"husbandry/tactical_fishing":                 "战术性钓鱼",
	"husbandry/tadpole_in_a_bucket":              "蚪到桶里来",
	"husbandry/tame_an_animal":                   "永恒的伙伴",
	"husbandry/uh_oh":                            "坏了",
	"husbandry/wax_off":                          "脱蜡",
	"husbandry/wax_on":                           "涂蜡",
	"husbandry/whole_pack":                       "群狼聚首",
}
