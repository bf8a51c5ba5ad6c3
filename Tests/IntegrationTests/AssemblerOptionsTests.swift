// The server's `-Wa,` rule against the real gas, byte by byte: each candidate piece (every byte after `-`,
// after `-W` — gas's clustering — and after `--`, the allowed spellings, known attacks) is given to `as`
// under strace. A piece the server allows must leave gas doing nothing but reading its input and writing its
// object: no listing on stdout, no other file looked at or made. The controls show the attacks are real:
// gas does print a listing for `-Wa` (`-W -a`) and does open what `-I`/`@` name.

import CompileCore
import Foundation
import ServerPolicy
import TestSupport
import Testing

@Suite(.serialized) struct AssemblerOptionsTests {
    /// What gas did with `piece`: true when it did only its job.
    static func clean(_ piece: String, in directory: TemporaryDirectory) throws -> (Bool, String) {
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name != "in.s" {
            try FileManager.default.removeItem(atPath: directory.path + "/" + name)
        }
        let trace = directory.path + "/../trace-" + (directory.path as NSString).lastPathComponent
        defer { try? FileManager.default.removeItem(atPath: trace) }
        let result = try Command.run(
            "strace", ["-f", "-qq", "-e", "trace=%file", "-o", trace, "as", piece, "-o", "out.o", "in.s"],
            directory: directory.path)
        let log = try String(contentsOfFile: trace, encoding: .utf8)
        var strays: [String] = []
        // gas with -g stats its working directory (and $PWD) for the object's DW_AT_comp_dir: not a file.
        let directories = [".", directory.path, FileManager.default.currentDirectoryPath]
        for line in log.split(separator: "\n") where !line.contains(" execve(") {
            for (index, part) in line.split(separator: "\"", omittingEmptySubsequences: false).enumerated()
            where index % 2 == 1 {
                let path = String(part)
                let system = ["/usr/", "/lib", "/etc/ld.so", "/proc/self/", "/sys/", "/dev/null"].contains {
                    path.hasPrefix($0)
                }
                if !(path.isEmpty || path == "in.s" || path == "out.o" || system || directories.contains(path)) {
                    strays.append(path)
                }
            }
        }
        let made = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter {
            $0 != "in.s" && $0 != "out.o"
        }
        let why =
            (result.stdout.isEmpty ? "" : "printed \(result.stdout.count) bytes; ")
            + (strays.isEmpty ? "" : "touched \(strays); ") + (made.isEmpty ? "" : "made \(made)")
        return (why.isEmpty, why)
    }

    static func allowed(_ piece: String) -> Bool {
        if case .refuse = ServerArgRules.rule(for: "-Wa," + piece) { return false }
        return true
    }

    static var candidates: [String] {
        var pieces: [String] = []
        for byte in 1...255 where byte != Int(UInt8(ascii: ",")) {
            let text = String(decoding: [UInt8(byte)], as: UTF8.self)
            pieces += ["-" + text, "-W" + text, "--" + text, "-" + text + "a"]
        }
        pieces += [
            "--noexecstack", "-mrelax-relocations=no", "--64", "--32", "--gen-debug", "--compress-debug-sections=zlib",
            "--no-warn", "--fatal-warnings", "-mtune=generic64", "--size-check=error", "--gdwarf-5",
            "-mx86-used-note=no",
            "-Wa", "-aln", "-ahls=l", "--listing-lhs-width=2", "-Iinc", "@opts", "--MD", "--MD=d", "in.s",
            "--noexec", "--gen", "-gen-debug", "-64", "-Wahl", "-WL", "-o", "-Z",
        ]
        return pieces
    }

    @Test func everyAllowedPieceLeavesGasAtItsJob() throws {
        let directory = try TemporaryDirectory("sshcc-gas")
        try "\t.text\n\tnop\n".write(toFile: directory.path + "/in.s", atomically: true, encoding: .utf8)
        var allowedCount = 0
        var outsideCount = 0
        for piece in Self.candidates {
            let (clean, why) = try Self.clean(piece, in: directory)
            if !clean { outsideCount += 1 }
            guard Self.allowed(piece) else { continue }
            allowedCount += 1
            #expect(clean, "the server allows -Wa,\(piece) but gas \(why)")
        }
        print("gas: \(Self.candidates.count) pieces, \(allowedCount) allowed, \(outsideCount) went outside the job")
        // Controls: what the rule stops does happen without it.
        #expect(try !Self.clean("-Wa", in: directory).0, "gas prints a listing for -W -a")
        #expect(try !Self.clean("-ahls=l", in: directory).0, "gas writes a listing file")
        #expect(!Self.allowed("-Wa") && !Self.allowed("-ahls=l") && !Self.allowed("@opts") && !Self.allowed("-Iinc"))
        #expect(Self.allowed("--noexecstack") && Self.allowed("-W") && Self.allowed("-mrelax-relocations=no"))
    }
}
