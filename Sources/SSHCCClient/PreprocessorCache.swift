// What the wrapper learnt about running the preprocessor without gcc's driver (CompileCore/
// PreprocessorCommand), kept in the mux directory — private, checked before use — one small file per flag
// set, working directory and compiler. An entry cannot change a compile: its file holds its whole key and
// is used only when that matches, and the key names the driver's file (and the entry cc1's) by device, inode,
// size and modification time, so an upgraded compiler is a new key. The driver's environment variables are
// in the key; the variables cc1 reads itself (CPATH…) reach it either way.

import CompileCore
import POSIXSupport

struct PreprocessorCache {
    /// The mux directory's subdirectory.
    let directory: String

    /// What is known for a key.
    enum Learnt: Equatable {
        /// cc1 at `program` (as it was when learnt: `fingerprint`) with `command` (stand-ins in it).
        case direct(program: String, fingerprint: [UInt64], command: [String])
        /// The driver does more than start cc1 for these flags: it keeps running.
        case driver
    }

    /// Entries are a few hundred bytes; a directory of many flag sets must not grow without end.
    static let capacity = 4_096
    static let magic = "sshcc-preprocessor-1"
    static let driverVariables = ["GCC_EXEC_PREFIX", "COMPILER_PATH", "LIBRARY_PATH", "GCC_COMPARE_DEBUG"]

    /// The cache in `muxDirectory`, nil unless that directory is this user's and private (then nobody else
    /// can have put anything below it). Its own directory is made when something is stored.
    static func open(in muxDirectory: String) -> PreprocessorCache? {
        guard Files.privateDirectoryProblem(muxDirectory) == nil else { return nil }
        return PreprocessorCache(directory: muxDirectory + "/preprocessors")
    }

    /// The key of `template` for the driver at `compiler`, here and now; nil when the driver cannot be read.
    static func key(compiler: String, template: PreprocessorCommand.Template) -> String? {
        guard let fingerprint = Files.fingerprint(compiler), let cwd = CurrentProcess.workingDirectory else {
            return nil
        }
        let environment = driverVariables.map { "\($0)=\(Environment.get($0) ?? "\u{1}")" }
        return
            ([compiler, fingerprint.map(String.init).joined(separator: ","), cwd] + environment
            + template.arguments).joined(separator: "\0")
    }

    func lookup(_ key: String) -> Learnt? {
        guard let bytes = try? Files.read(path(key), limit: 1 << 20) else { return nil }
        let fields = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        let keyFields = key.split(separator: "\0", omittingEmptySubsequences: false).count
        guard fields.count >= 2 + keyFields, fields[0] == Self.magic,
            fields[1..<(1 + keyFields)].joined(separator: "\0") == key
        else { return nil }
        let rest = Array(fields[(1 + keyFields)...])
        if rest == ["driver"] { return .driver }
        guard rest.count >= 4, rest[0] == "direct" else { return nil }
        let fingerprint = rest[2].split(separator: ",").compactMap { UInt64($0) }
        return .direct(program: rest[1], fingerprint: fingerprint, command: Array(rest[3...]))
    }

    func store(_ key: String, _ learnt: Learnt) {
        let value: [String]
        switch learnt {
        case .driver: value = ["driver"]
        case .direct(let program, let fingerprint, let command):
            value = ["direct", program, fingerprint.map(String.init).joined(separator: ",")] + command
        }
        guard (try? Files.makePrivateDirectory(directory)) != nil else { return }
        if let names = try? Files.list(directory), names.count >= Self.capacity {
            for name in names { Files.remove(directory + "/" + name) }
        }
        try? Files.replace(path(key), Array(([Self.magic, key] + value).joined(separator: "\0").utf8), mode: 0o600)
    }

    private func path(_ key: String) -> String { directory + "/" + TextHash.fnv1a(key) }
}
