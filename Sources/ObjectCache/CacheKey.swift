// What names a compile's result in the object cache: the server's version (whose checks admitted the job), its
// toolchain identity, the command lines its
// compiler steps run (the job's private directory written as a fixed token: it differs per job and must not
// reach the object), and the preprocessed source by its SHA-256 (so that a client may ask for a result by that
// digest before it sends the source). SHA-256 over all three, each length-prefixed, so no two different inputs
// read as one. Pure.

import Crypto

public struct CacheKey: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// The key of a job compiled by the toolchain `toolchain` (its identity's digest) with `steps` (each step's
    /// arguments, argv[0] first) in `jobDirectory`, from `source`, under `rules` (the server's own version: an
    /// answer kept under one version's checks is not served under another's).
    public static func of(
        toolchain: String, steps: [[String]], jobDirectory: String, source: [UInt8], rules: String
    ) -> CacheKey {
        of(
            toolchain: toolchain, steps: steps, jobDirectory: jobDirectory, sourceDigest: sourceDigest(source),
            rules: rules)
    }

    /// What a key names a source by, and a client's question (protocol 7, `DOTH`) too: SHA-256 of its text.
    public static func sourceDigest(_ source: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: source)) }

    /// The same key from the source's SHA-256 alone.
    public static func of(
        toolchain: String, steps: [[String]], jobDirectory: String, sourceDigest: [UInt8], rules: String
    ) -> CacheKey {
        var hash = SHA256()
        func add(_ bytes: some Collection<UInt8>) {
            var length = UInt64(bytes.count).bigEndian
            withUnsafeBytes(of: &length) { hash.update(bufferPointer: $0) }
            hash.update(data: Array(bytes))
        }
        add(Array("sshcc-object-key 2".utf8))
        add(Array(rules.utf8))
        add(Array(toolchain.utf8))
        add(Array("\(steps.count)".utf8))
        for step in steps {
            add(Array("\(step.count)".utf8))
            for argument in step { add(Array(normalised(argument, jobDirectory: jobDirectory).utf8)) }
        }
        add(sourceDigest)
        return CacheKey(bytes: Array(hash.finalize()))!
    }

    /// `argument` with the job's directory written as `@JOB@`.
    static func normalised(_ argument: String, jobDirectory: String) -> String {
        guard !jobDirectory.isEmpty, argument.contains(jobDirectory) else { return argument }
        return argument.replacing(jobDirectory, with: "@JOB@")
    }

    /// Lower-case hex: the entry's file name.
    public var description: String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
