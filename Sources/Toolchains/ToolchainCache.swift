// A compiler's toolchain identity, kept in a private directory (checked before use) — the wrapper's mux
// directory, sshccd's own under its temporary directory — so that a job, or a new sshccd's first job, costs a
// few stat calls instead of hashing the compiler: one small file per compiler path, holding the
// identity and each of its files' device, inode, size and modification time. A changed file (an upgraded
// gcc, another assembler on PATH) is a miss, and the identity is computed again.

import CompileCore
import POSIXSupport

public struct ToolchainCache {
    let directory: String
    static let magic = "sshcc-toolchain-1"

    /// Nil unless `privateDirectory` is this user's and private.
    static func open(in privateDirectory: String) -> ToolchainCache? {
        guard Files.privateDirectoryProblem(privateDirectory) == nil else { return nil }
        return ToolchainCache(directory: privateDirectory + "/toolchains")
    }

    /// The identity of the compiler at `compiler` (an absolute path): kept in `muxDirectory` (any private
    /// directory of this user), or computed and kept — `kept` false when it could not be (a first job: the
    /// mux directory is made once the daemon starts; `keep` it then).
    public static func identity(of compiler: String, muxDirectory: String) -> (
        identity: ToolchainIdentity?, kept: Bool
    ) {
        let cache = open(in: muxDirectory)
        if let kept = cache?.lookup(compiler) { return (kept, true) }
        guard let computed = ToolchainIdentity.compute(compiler) else { return (nil, true) }
        cache?.store(compiler, computed)
        return (computed, cache != nil)
    }

    public static func keep(_ identity: ToolchainIdentity, of compiler: String, muxDirectory: String) {
        open(in: muxDirectory)?.store(compiler, identity)
    }

    func lookup(_ compiler: String) -> ToolchainIdentity? {
        guard let bytes = try? Files.read(path(compiler), limit: 1 << 16) else { return nil }
        let fields = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        guard fields.count >= 5, fields.count % 2 == 1, fields[0] == Self.magic, fields[1] == compiler,
            Self.stamp(compiler) == fields[2]
        else { return nil }
        var files: [String] = []
        var index = 5
        while index + 1 < fields.count {
            guard Self.stamp(fields[index]) == fields[index + 1] else { return nil }
            files.append(fields[index])
            index += 2
        }
        return ToolchainIdentity(digest: fields[3], summary: fields[4], files: files)
    }

    func store(_ compiler: String, _ identity: ToolchainIdentity) {
        guard let stamp = Self.stamp(compiler), (try? Files.makePrivateDirectory(directory)) != nil else { return }
        var fields = [Self.magic, compiler, stamp, identity.digest, identity.summary]
        for file in identity.files {
            guard let fileStamp = Self.stamp(file) else { return }
            fields += [file, fileStamp]
        }
        try? Files.replace(path(compiler), Array(fields.joined(separator: "\0").utf8), mode: 0o600)
    }

    static func stamp(_ path: String) -> String? {
        Files.fingerprint(path).map { $0.map(String.init).joined(separator: ",") }
    }

    private func path(_ compiler: String) -> String { directory + "/" + TextHash.fnv1a(compiler) }
}
