// sshcc's gcc plugin, per compiler. A directives-only job's compiler needs `-fdirectives-only`, which a local
// compile does not have, and gcc records its options in the DWARF producer string: a different string, and
// (as gcc orders .debug_str by hash) a different order of every string in a -g object. The plugin
// (Sources/GCCPlugin) takes that option and its own `-fplugin` out of the list gcc records, so the object is
// the local one. A plugin loads only into the gcc build it was compiled for, so each file in the directory
// is tried once per compiler (a compile of an empty file) and the first that loads is used; none means -g
// directives-only jobs are refused with the reason (the client then compiles them locally).

import POSIXSupport

struct GCCPlugins {
    let directory: String
    /// Per compiler executable: the plugin that loads into it, or nil when none does.
    private var found: [String: String?] = [:]

    init(directory: String) { self.directory = directory }

    /// The plugin for `executable`; `loads(plugin)` tries one (true when the compiler ran with it).
    mutating func plugin(for executable: String, loads: (String) -> Bool) -> String? {
        if let known = found[executable] { return known }
        let candidates = ((try? Files.list(directory)) ?? []).filter { $0.hasSuffix(".so") }.sorted()
        var plugin: String?
        for candidate in candidates where loads(directory + "/" + candidate) {
            plugin = directory + "/" + candidate
            break
        }
        found[executable] = plugin
        return plugin
    }
}
