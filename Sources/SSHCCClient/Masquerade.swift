// Masquerade: a directory of symlinks named like compilers (gcc, cc, g++…) that point at sshcc. Put first on
// PATH, it makes every build that calls `gcc` use sshcc without changing the build. sshcc then finds the
// real compiler further along PATH, skipping anything that is sshcc itself.

import CompileCore
import POSIXSupport

enum Masquerade {
    /// Compiler names linked besides the defaults: versioned (gcc-12) and cross (x86_64-linux-gnu-gcc) names
    /// found on PATH, when the server's allow-list would accept them.
    static func compilerNames(onPath path: String?) -> [String] {
        var names = Set(CompilerAllowList.defaultNames)
        let allowList = CompilerAllowList()
        for directory in (path ?? "").split(separator: ":") {
            guard let entries = try? Files.list(String(directory)) else { continue }
            for entry in entries where allowList.allowedName(for: entry) != nil && !entry.hasPrefix("sshcc") {
                names.insert(entry)
            }
        }
        return names.sorted()
    }

    /// `sshcc --install-masquerade DIR`: creates DIR and its links; prints what to put on PATH.
    static func install(_ arguments: [String]) -> Int32 {
        guard arguments.count == 1, let directory = arguments.first, !directory.hasPrefix("-") else {
            Console.error("usage: sshcc --install-masquerade DIR\n")
            return ExitCode.usage.rawValue
        }
        guard let me = Files.realPath("/proc/self/exe") else {
            Console.error("sshcc: cannot tell where sshcc is installed\n")
            return ExitCode.localIOError.rawValue
        }
        let absolute = directory.hasPrefix("/") ? directory : (Files.realPath(".") ?? ".") + "/" + directory
        let searchPath = Environment.get("PATH")?.split(separator: ":").filter {
            Files.realPath(String($0)) != Files.realPath(absolute)
        }.joined(separator: ":")
        var created: [String] = []
        do {
            try Files.makeDirectory(absolute, mode: 0o755)
            for name in compilerNames(onPath: searchPath) {
                let link = absolute + "/" + name
                if Files.realPath(link) == me { continue }
                try Files.symlink(me, at: link)
                created.append(name)
            }
        } catch {
            Console.error("sshcc: cannot install the masquerade directory \(absolute): \(error)\n")
            return ExitCode.localIOError.rawValue
        }
        let summary = created.isEmpty ? "already complete" : "linked \(created.joined(separator: " "))"
        let text = """
            sshcc: masquerade directory \(absolute): \(summary) → \(me)
            Put it first on PATH for builds that should compile through sshcc:
                export PATH=\(absolute):$PATH

            """
        try? Console.write(Array(text.utf8), to: .output)
        return 0
    }
}
