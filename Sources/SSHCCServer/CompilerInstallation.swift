// What a sandboxed compiler may read besides the system directories: its own installation and nothing
// beside it. For a compiler outside the system directories (a toolchain in /home/build/gcc-14/bin), that is
// the compiler itself and the directories it names for its programs and libraries (`-print-search-dirs`,
// clang's `-print-resource-dir`) that lie under its prefix (the directory above its bin/) — not the whole
// prefix's parent, which could hold anything. Asked once per compiler and sshccd, through `query`, which runs
// the compiler as limited and sandboxed as a step (reading only the system and the compiler itself).

import CompileCore
import POSIXSupport

final class CompilerInstallation {
    private var known: [String: [String]] = [:]

    /// The paths `executable` may read on top of `system`; `query(compiler, arguments)` runs the resolved
    /// compiler and returns its standard output, nil when it failed.
    func readable(_ executable: String, system: [String], query: (String, [String]) -> String?) -> [String] {
        let real = Files.realPath(executable) ?? executable
        if let paths = known[real] { return paths }
        var paths: [String] = []
        if !Self.isUnder(real, any: system) {
            paths = [real]
            let prefix = PathName.directory(PathName.directory(real))
            for arguments in [["-print-search-dirs"], ["-print-resource-dir"]] {
                guard let output = query(real, arguments) else { continue }
                for directory in Self.directories(in: output) {
                    guard let resolved = Files.realPath(directory), prefix != "/",
                        Self.isUnder(resolved, any: [prefix]),
                        !Self.isUnder(resolved, any: system + paths)
                    else { continue }
                    paths.append(resolved)
                }
            }
        }
        known[real] = paths
        return paths
    }

    static func isUnder(_ path: String, any roots: [String]) -> Bool {
        roots.contains { root in path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/") }
    }

    /// The directories in `-print-search-dirs` output (`install: D`, `programs: =D:D`, `libraries: =D:D`) or
    /// a bare path (`-print-resource-dir`).
    static func directories(in text: String) -> [String] {
        var found: [String] = []
        for line in text.split(separator: "\n") {
            var value = Substring(line)
            if let colon = line.firstIndex(of: ":"), !line.hasPrefix("/") {
                value = line[line.index(after: colon)...].drop(while: { $0 == " " || $0 == "=" })
            }
            found += value.split(separator: ":").map(String.init).filter { $0.hasPrefix("/") }
        }
        return found
    }
}
