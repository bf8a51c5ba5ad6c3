// sshcc's gcc plugin, loaded by sshccd's compilers for directives-only jobs (never by a client's choice).
//
// A directives-only job runs cc1 with -fdirectives-only, which the user's local compile did not have. gcc
// records its options in the DWARF producer string (DW_AT_producer) and orders .debug_str by the strings'
// hashes, so one more option changes the producer and the place of every string in a -g object. This plugin
// takes -fdirectives-only and its own -fplugin out of the options gcc records (save_decoded_options, read
// when the producer string is made, after plugins are initialised); the compile itself is unchanged.
//
// gcc reading preprocessed text gives every line marker's file name a new string, where a compile from the
// source has one per file; and it starts a new line-table row wherever the name's address changes. A header
// included more than once whose code is interleaved (inlined together) then gets rows a local compile does
// not have. So, before any code is generated, every line map's file name is replaced by the first string
// with the same text: one address per file, as in a local compile.
//
// Built against the headers of the gcc it is for (Scripts/build-gcc-plugin.sh); gcc refuses to load it into
// any other build. GCC loads only plugins that declare GPL compatibility: this file is under the
// GPL-3.0-or-later.

#include <string>
#include <unordered_map>

#include "gcc-plugin.h"
#include "plugin-version.h"
#include "options.h"
#include "opts.h"
#include "toplev.h"

int plugin_is_GPL_compatible;

static void share_file_names(void *, void *) {
    std::unordered_map<std::string, const char *> first;
    for (unsigned i = 0; i < LINEMAPS_ORDINARY_USED(line_table); i++) {
        line_map_ordinary *map = LINEMAPS_ORDINARY_MAP_AT(line_table, i);
        if (map->to_file == nullptr) continue;
        map->to_file = first.emplace(map->to_file, map->to_file).first->second;
    }
}

int plugin_init(struct plugin_name_args *info, struct plugin_gcc_version *version) {
    if (!plugin_default_version_check(version, &gcc_version)) return 1;
    unsigned kept = 0;
    for (unsigned i = 0; i < save_decoded_options_count; i++) {
        size_t index = save_decoded_options[i].opt_index;
        if (index == OPT_fdirectives_only || index == OPT_fplugin_) continue;
        save_decoded_options[kept++] = save_decoded_options[i];
    }
    save_decoded_options_count = kept;
    register_callback(info->base_name, PLUGIN_ALL_IPA_PASSES_START, share_file_names, nullptr);
    return 0;
}
