// What the fuzzer drives, and what the fuzz regression tests replay: everything sshccd does with a client's
// bytes before a compiler runs — the request decoder fed in fuzzer-chosen pieces, the argument allow-list,
// the source and assembly checks — plus the client's reply decoder. Any crash is a bug; so is a broken
// invariant (checked with preconditions, which the fuzzer reports as crashes). The client's known_hosts
// reader rides along: a known_hosts file is text another party may have written too.

import CompileCore
import DistccWire
import KnownHostsFormat
import ServerPolicy

public enum ServerInputHarness {
    /// Small limits, so the fuzzer reaches the over-limit paths with short inputs.
    static let limits: WireLimits = {
        var limits = WireLimits()
        limits.maxArgumentCount = 64
        limits.maxArgumentLength = 4096
        limits.maxSourceLength = 1 << 20
        limits.maxMessageLength = 1 << 20
        limits.maxObjectLength = 1 << 20
        return limits
    }()

    /// Runs one input. The first byte chooses the piece size the stream is cut into (1…256 bytes).
    public static func run(_ data: [UInt8]) {
        guard let first = data.first else { return }
        let piece = Int(first) + 1
        let stream = Array(data.dropFirst())
        serverSide(stream, piece: piece)
        clientSide(stream, piece: piece)
        assemblyInPieces(stream, piece: piece)
        _ = SourcePolicy.refusal(stream)
        _ = SourcePolicy.refusal(stream, clang: true)
        knownHosts(stream)
        hostCertificate(stream)
        MuxInputHarness.run(stream, piece: piece)
    }

    /// The assembly check over the text in fuzzer-sized pieces (as sshccd relays it to the assembler) refuses
    /// exactly what the check of the whole text refuses, and passes on only checked bytes, in order.
    static func assemblyInPieces(_ stream: [UInt8], piece: Int) {
        let whole = AssemblyPolicy.refusal(stream)
        var screen = AssemblyScreen()
        var passed: [UInt8] = []
        var start = 0
        var refused = false
        repeat {
            let end = min(stream.count, start + piece)
            guard let lines = screen.pass(Array(stream[start..<end]), atEnd: end == stream.count) else {
                refused = true
                break
            }
            passed += lines
            start = end
        } while start < stream.count
        guard refused == (whole != nil), AssemblyPolicy.refusal(passed) == nil,
            passed.elementsEqual(stream.prefix(passed.count)), refused || passed == stream
        else { fatalError("the assembly screen and the whole-text check disagree") }
    }

    /// A certificate as ssh-keyscan hands over a server's bytes: read without trapping; one that reads is
    /// re-read identically and passes the checks only with every rule met.
    static func hostCertificate(_ stream: [UInt8]) {
        guard let certificate = OpenSSHCertificate(blob: stream) else { return }
        precondition(OpenSSHCertificate(blob: stream) == certificate)
        precondition(stream.starts(with: certificate.signed) && certificate.signed.count < stream.count)
        let problem = certificate.problem(
            hostKey: certificate.keyBlob, hostName: "h", now: 1_800_000_000, authorities: [certificate.authorityKey],
            isRevoked: { _ in false }, signatureIsValid: { _, _, _ in true })
        if problem == nil {
            precondition(certificate.role == 2 && certificate.criticalOptions.isEmpty)
            precondition(certificate.validAfter <= 1_800_000_000 && 1_800_000_000 < certificate.validBefore)
        }
        let forged = certificate.problem(
            hostKey: certificate.keyBlob, hostName: "h", now: 1_800_000_000, authorities: [certificate.authorityKey],
            isRevoked: { _ in false }, signatureIsValid: { _, _, _ in false })
        precondition(forged != nil, "a certificate passed without a valid signature")
    }

    /// Every entry read from known_hosts bytes is well formed, and a key revoked by a readable line stays
    /// revoked whatever other lines say.
    static func knownHosts(_ stream: [UInt8]) {
        let lines = KnownHostsLine.parse(stream)
        for case .entry(let entry) in lines {
            precondition(!entry.keyBase64.isEmpty && !entry.keyType.isEmpty && entry.line >= 1)
            if entry.marker == .revoked {
                let verdict = KnownHostsRevocation.check(entry.keyBase64, in: lines)
                precondition(verdict != .notRevoked, "a revoked key passed")
            }
        }
        // Every entry's key, checked under every name it might be about: a revoked key never matches, and a
        // match is reported only for an entry that holds exactly the key.
        let sources = [KnownHostsSource(path: "f", lines: lines)]
        let hmac: HMACSHA1 = { key, message in Array((key + message).prefix(20)) }
        for case .entry(let entry) in lines.prefix(8) {
            for name in entry.hosts.split(separator: ",").prefix(4).map(String.init) + ["[h]:22", "h"] {
                let finding = KnownHostsCheck.check(
                    keyType: entry.keyType, keyBase64: entry.keyBase64, name: name, in: sources, hmac: hmac)
                if case .match(let place) = finding {
                    precondition(KnownHostsRevocation.check(entry.keyBase64, in: lines) == .notRevoked)
                    let matched = lines.contains {
                        if case .entry(let e) = $0 {
                            e.line == place.line && e.keyBase64 == entry.keyBase64
                        } else {
                            false
                        }
                    }
                    precondition(matched, "a match reported for a line that does not hold the key")
                }
                _ = KnownHostsCheck.algorithms(
                    for: name, in: sources, supported: ["ssh-ed25519", "ssh-rsa"], hmac: hmac)
            }
        }
    }

    static func serverSide(_ stream: [UInt8], piece: Int) {
        var decoder = RequestDecoder(limits: limits)
        feed(stream, piece: piece, append: { decoder.append($0) }) {
            while let request = try decoder.next() {
                check(request)
                // A question (protocol 7): answered either way, as a server with or without the result would.
                if let digest = request.sourceDigest {
                    precondition(digest.count == Request.digestLength && request.source.isEmpty)
                    decoder.answered(needSource: digest[0] & 1 == 0)
                }
            }
        }
        _ = try? decoder.finish()
    }

    /// Feeds `stream` in pieces, calling `drain` after each, until the end or until `drain` throws (every
    /// error must describe itself).
    static func feed(
        _ stream: [UInt8], piece: Int, append: (ArraySlice<UInt8>) -> Void, drain: () throws -> Void
    ) {
        var offset = 0
        while offset < stream.count {
            append(stream[offset..<min(offset + piece, stream.count)])
            offset += piece
            do {
                try drain()
            } catch {
                _ = "\(error)"
                return
            }
        }
    }

    /// A request the policy accepts compiles inside the job directory with allowed options only.
    static func check(_ request: Request) {
        precondition(request.arguments.count <= limits.maxArgumentCount)
        precondition(request.source.count <= limits.maxSourceLength)
        guard
            case .compile(let plan) = ServerArgPolicy.plan(
                request.arguments, allowList: CompilerAllowList(), jobDirectory: "/job")
        else { return }
        for path in [plan.inputPath, plan.assemblyPath, plan.outputPath] {
            precondition(path.hasPrefix("/job/") && !path.dropFirst(5).contains("/"), "path escapes the job: \(path)")
        }
        precondition(!plan.compilerName.contains("/"))
        for argument in plan.arguments + plan.assembleArguments where argument.hasPrefix("-") || argument.hasPrefix("@")
        {
            for banned in ["-fplugin", "-B", "-wrapper", "-specs", "--specs", "-Xclang", "-save-temps", "@", "-fdump"] {
                precondition(!argument.hasPrefix(banned), "allowed: \(argument)")
            }
        }
        for argument in plan.arguments where argument.contains("/") && !argument.hasPrefix("/job/") {
            precondition(
                ServerArgRules.pathMappingPrefixes.contains(where: argument.hasPrefix), "path allowed: \(argument)")
        }
    }

    static func clientSide(_ stream: [UInt8], piece: Int) {
        var decoder = ReplyDecoder(limits: limits)
        feed(stream, piece: piece, append: { decoder.append($0) }) {
            while let reply = try decoder.next() {
                precondition(reply.object.count <= limits.maxObjectLength)
                _ = reply.exitCode
                _ = reply.terminatingSignal
            }
        }
    }
}
