// sshccd's configuration file (/etc/sshcc/sshccd.conf): one setting per line, named as the command-line
// option without its dashes (`jobs 8`, `sandbox-read /srv/toolchains`), `#` comments. The file becomes
// command-line arguments placed before the real ones, so the command line overrides it (as with sshd's -o).
// Pure: text in, arguments or the first bad line out.

import CompileCore
import ObjectCache

public enum ServerConfigFile {
    /// The file sshccd reads when `--config` does not name another (or `none`).
    public static let defaultPath = "/etc/sshcc/sshccd.conf"

    /// Settings a file may hold: every option of the command line that takes a value, but not `config`
    /// itself (a file naming another is a loop waiting to happen).
    public static let settings = [
        "log", "tmpdir", "cache", "objects", "objects-share", "objects-size", "compilers", "allow", "jobs", "slots",
        "min-free-memory", "max-source", "max-args",
        "max-arg-length", "max-output", "max-memory", "max-cpu", "max-wall", "source-wait", "sandbox",
        "sandbox-read", "protocols", "direct-steps", "gcc-plugins",
    ]

    /// The command-line arguments `text` stands for; each line is checked as the option it names, so a bad
    /// value is reported with its line.
    public static func arguments(_ text: String, path: String) throws(UsageError) -> [String] {
        var arguments: [String] = []
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.drop(while: { $0 == " " || $0 == "\t" })
            guard !line.isEmpty, line.first != "#" else { continue }
            let name = String(line.prefix(while: { $0 != " " && $0 != "\t" }))
            var value = Substring(line.dropFirst(name.count).drop(while: { $0 == " " || $0 == "\t" }))
            while let last = value.last, last == " " || last == "\t" { value.removeLast() }
            let place = "\(path) line \(index + 1)"
            guard settings.contains(name) else {
                throw UsageError(
                    "\(place): unknown setting '\(shown(name, limit: 40))' (settings: \(settings.joined(separator: ", ")))"
                )
            }
            guard !value.isEmpty else { throw UsageError("\(place): '\(name)' needs a value") }
            let pair = ["--" + name, String(value)]
            do {
                _ = try ServerOptions.parse(pair)
            } catch {
                throw UsageError("\(place): \(error)")
            }
            arguments += pair
        }
        return arguments
    }

    /// `options` as a configuration file that gives them (`sshccd --show-config`): every setting, the ones
    /// that add to a default (`allow`, `sandbox-read`) folded into the whole list or left out when empty.
    public static func render(_ options: ServerOptions) -> String {
        let extraReadable = options.sandboxReadable.filter { !ServerOptions.defaultSandboxReadable.contains($0) }
        let lines: [(String, String?)] = [
            ("log", options.logPath),
            ("tmpdir", options.temporaryDirectory),
            ("cache", options.cacheDirectory ?? "none"),
            ("objects", options.objectsRoot ?? "none"),
            ("objects-share", ObjectCacheSettings(root: "", share: options.objectsShare).shareText),
            ("objects-size", "\(options.objectsMaximumBytes >> 20)"),
            ("compilers", options.allowList.names.sorted().joined(separator: ",")),
            ("jobs", "\(options.slots.count)"),
            ("slots", options.slots.name),
            ("min-free-memory", "\(options.slots.minimumFreeMemory >> 20)"),
            ("max-source", "\(options.wireLimits.maxSourceLength >> 20)"),
            ("max-args", "\(options.wireLimits.maxArgumentCount)"),
            ("max-arg-length", "\(options.wireLimits.maxArgumentLength)"),
            ("max-output", "\(options.limits.fileSizeBytes >> 20)"),
            ("max-memory", "\(options.limits.memoryBytes >> 20)"),
            ("max-cpu", "\(options.limits.cpuSeconds)"),
            ("max-wall", "\(options.limits.wallSeconds)"),
            ("source-wait", "\(options.sourceWaitSeconds)"),
            ("sandbox", options.sandbox ? "auto" : "off"),
            ("sandbox-read", extraReadable.isEmpty ? nil : extraReadable.joined(separator: ",")),
            ("protocols", options.wireLimits.versions.sorted().map { "\($0.rawValue)" }.joined(separator: ",")),
            ("direct-steps", options.directSteps ? "auto" : "off"),
            ("gcc-plugins", options.gccPluginDirectory),
        ]
        return lines.compactMap { name, value in value.map { "\(name) \($0)\n" } }.joined()
    }
}
