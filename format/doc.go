// Package format renders messages between QQ and Minecraft, both ways, with
// no I/O: the relay resolves names and fetches quoted messages first and
// passes them in.
//
// Where things live:
//   - qq_to_game.go: a QQ message → the game line (sender, reply, and each
//     segment: text, @, face, image, sticker, voice, video, file, forward, …);
//   - cards.go: json (ark) and xml cards → "[卡片:标题]";
//   - faces.go: a QQ face → "[微笑]" in game; faces_table.go (generated from
//     testdata/qq_face_names.json) holds the id → name table;
//   - game_to_qq.go: a game event → the QQ line, via the FORMAT_* templates;
//     pictures.go: ChatImage codes and picture links in a chat line → image
//     segments (MC_IMAGE_TO_QQ);
//   - deaths.go, entities.go, advancements.go: the zh_cn tables for death
//     messages, mob names and advancement titles; translate.go fills their
//     %s patterns;
//   - strip.go: colour codes and markdown out.
package format
