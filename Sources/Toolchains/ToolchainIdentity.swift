// What decides the bytes of a compiler's objects, as one digest. For gcc: the commands its driver runs for a
// C and a C++ compile (`-###`: cc1 or cc1plus and the assembler, with every default option the driver adds —
// -march, -fPIE, the hardening flags of Debian's specs) and the contents of those programs, its specs,
// version and target. The driver is known by what it runs, not by its file: a wrapper that hands over to the
// same gcc (ccache, an instrument on a server's PATH) is the same toolchain. For clang: its executable (which
// also assembles), version and target. Two machines whose digests for a compiler name agree make the same
// object from the same text; a job goes only to a host whose compiler has the client's digest. Computing it
// reads some 100 MB and runs the driver a few times, so the wrapper keeps it (ToolchainCache) and sshccd
// computes it once per compiler.

import CompileCore
import Crypto
import POSIXSupport

public struct ToolchainIdentity: Equatable, Sendable {
    /// SHA-256 of the parts, 32 hex digits.
    public var digest: String
    /// What a person reads: "gcc 12.2.0 x86_64-linux-gnu".
    public var summary: String
    /// The files it was computed from (the driver first), for the cache's check that none changed.
    public var files: [String]

    public init(digest: String, summary: String, files: [String]) {
        (self.digest, self.summary, self.files) = (digest, summary, files)
    }

    /// `DIGEST SUMMARY`: how it travels (an argument sshccd takes out before anything else sees it).
    public var wire: String { digest + " " + summary }

    /// The compiler at `path` (absolute), or nil when it does not answer as gcc or clang do.
    public static func compute(_ path: String) -> ToolchainIdentity? {
        guard
            let scratch = try? Files.makeTemporaryDirectory(
                in: Environment.get("TMPDIR") ?? "/tmp", prefix: "sshcc-id-")
        else { return nil }
        defer { Files.removeTree(scratch) }
        // The driver's temporary files go to `scratch`, whose name is then taken out of what it prints.
        func ask(_ arguments: [String], stderr: Bool = false) -> String? {
            guard
                let run = try? Subprocess.run(
                    executable: path, arguments: [path] + arguments,
                    environment: ["TMPDIR=" + scratch, "PATH=" + (Environment.get("PATH") ?? "/usr/bin:/bin")],
                    directory: scratch, stdout: .capture, stderr: .capture),
                run.status == 0
            else { return nil }
            return String(decoding: stderr ? run.stderr : run.stdout, as: UTF8.self).trimmingCharacters(in: " \n")
        }
        guard let version = ask(["--version"]), let machine = ask(["-dumpmachine"]) else { return nil }
        let firstLine = String(version.prefix { $0 != "\n" })
        var texts = [firstLine, machine]
        var files: [String] = []
        let summary: String
        if firstLine.contains("clang") {
            let number = firstLine.split(separator: " ").drop { $0 != "version" }.dropFirst().first
            summary = "clang \(number.map(String.init) ?? "?") \(machine)"
            files.append(Files.realPath(path) ?? path)
        } else {
            guard let full = ask(["-dumpfullversion"]), let specs = ask(["-dumpspecs"]) else { return nil }
            summary = "gcc \(full) \(machine)"
            texts += [full, specs]
            for source in ["sshcc-id.c", "sshcc-id.cc"] {
                // A gcc without its C++ compiler (gcc-11 without g++-11) has a C toolchain only.
                guard (try? Files.create(scratch + "/" + source, [])) != nil,
                    let printed = ask(["-###", "-c", source, "-o", "sshcc-id.o"], stderr: true),
                    let commands = DriverCommands.parse(printed), !commands.isEmpty
                else {
                    texts.append("no compiler for \(source)")
                    continue
                }
                for command in commands {
                    // Temporary names differ per run: `scratch/ccXXXXXX.s` becomes `TMP.s`.
                    texts.append(
                        command.map { $0.hasPrefix(scratch + "/") ? "TMP" + $0.drop { $0 != "." } : $0 }
                            .joined(separator: " "))
                    // A bare name is found on PATH (the assembler); a compiler proper that is not installed
                    // (cc1plus of a gcc without g++) is named as missing.
                    let program = command[0].hasPrefix("/") ? command[0] : Environment.findExecutable(command[0])
                    guard let program else {
                        texts.append("missing \(command[0])")
                        continue
                    }
                    let file = Files.realPath(program) ?? program
                    if !files.contains(file) { files.append(file) }
                }
            }
        }
        var hash = SHA256()
        for text in texts {
            hash.update(data: Array(text.utf8))
            hash.update(data: [0])
        }
        for file in files {
            guard let bytes = try? Files.read(file) else { return nil }
            // Contents only (the same file installed elsewhere agrees), each with its length.
            hash.update(data: Array("\(bytes.count)\0".utf8))
            hash.update(data: bytes)
        }
        let digest = hash.finalize().prefix(16).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        return ToolchainIdentity(digest: digest, summary: summary, files: [path] + files)
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
    func trimmingCharacters(in set: String) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text.removeFirst() }
        while let last = text.last, set.contains(last) { text.removeLast() }
        return String(text)
    }
}
