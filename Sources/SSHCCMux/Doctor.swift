// `sshcc doctor [HOST…]`: walks every step of reaching each host the way a compile would — how the entry
// resolved (ssh -G, jump host), the connection, the host key and the known_hosts line that vouches for it,
// the login and the key that made it, the subsystem, the protocols sshccd answers, the compilers it
// accepts, and the latency — with real tiny jobs, not guesses. The first step that fails prints the same
// failure (and fix) a compile would; the steps after it cannot be tried and are skipped.

import CompileCore
import DistccWire
import MuxCore
import OpenSSHConfig
import POSIXSupport
import SSH
import Toolchains
import WireCompression

public enum Doctor {
    /// The compilers asked about: the names builds use.
    static let compilers = ["gcc", "cc", "g++", "c++", "clang", "clang++"]
    /// The protocol versions asked about, with how they travel.
    static let protocols: [(version: DistccVersion, name: String)] = [
        (DistccVersion.plain, "1 (plain)"), (DistccVersion.lzo, "2 (lzo)"), (DistccVersion.zstd, "4 (zstd)"),
        (DistccVersion.zstdStreamed, "5 (zstd, source streamed)"),
        (DistccVersion.loadReported, "6 (zstd, source streamed, load reported)"),
        (DistccVersion.asksFirst, "7 (6, results asked for by digest)"),
    ]
    /// A tiny translation unit, valid as preprocessed C and C++.
    static let source = Array("int sshcc_doctor(int x) { return x + 1; }\n".utf8)

    /// Checks each host in turn; 0 when every one is fine, 1 otherwise.
    public static func run(_ specs: [HostSpec], access: HostAccess, listSource: String) -> Int32 {
        let remote = specs.filter { !$0.isLocal }
        if remote.isEmpty {
            print("sshcc doctor: no remote host to check (\(listSource))")
            print("  fix: set SSHCC_HOSTS (e.g. SSHCC_HOSTS='build1/8'), or write the hosts file (see README.md)")
            return 1
        }
        var allFine = true
        for spec in remote {
            print("\(spec)")
            if !check(spec, access: access) { allFine = false }
        }
        print(allFine ? "every host is ready" : "some hosts need the fixes above")
        return allFine ? 0 : 1
    }

    /// One host's walk; false at the first failure (printed with its fix).
    static func check(_ spec: HostSpec, access: HostAccess) -> Bool {
        var current = "resolve"
        do throws(SSHCCFailure) {
            let plan = try HostResolver.plan(spec, access: access)
            step(
                "resolve",
                "\(plan.host.user.isEmpty ? Environment.userName : plan.host.user)@\(plan.host.hostName) port \(plan.host.port) (\(plan.source))"
            )
            switch plan.route {
            case .direct: detail("route: direct TCP, connect timeout \(Int(plan.connectTimeout)) s")
            case .hop(_, let name): detail("route: through \(name), connect timeout \(Int(plan.connectTimeout)) s")
            }
            detail(
                "keys: \(plan.identities.isEmpty ? "none configured" : plan.identities.joined(separator: " "))"
                    + (plan.identitiesOnly ? " (IdentitiesOnly)" : "")
                    + (access.agentSocket == nil ? "" : ", and ssh-agent"))
            detail("known_hosts: \(plan.knownHostsFiles.joined(separator: " "))")

            current = "connect"
            let session = try HostLogin.connect(spec, plan: plan, access: access) { found in
                switch found {
                case .connected(let nanoseconds):
                    step("connect", "SSH session up in \(milliseconds(nanoseconds)) ms")
                    current = "host key"
                case .hostKeyTrusted(let key, let place, let certified):
                    let vouched = certified ? "certified by the CA at" : "recorded at"
                    step("host key", "\(key.typeName) \(key.fingerprint), \(vouched) \(place)")
                    current = "login"
                case .loggedIn(let key):
                    step("login", "with \(key.source)\(key.algorithm.map { " (\($0))" } ?? "")")
                }
            }

            let jobDeadline = { Deadline(secondsFromNow: max(access.ioTimeout, 10)) }
            current = "subsystem"
            let first = try job(
                session, spec: spec, version: DistccVersion.plain, compiler: "gcc", deadline: jobDeadline())
            switch first {
            case .closed(let status):
                if status == 127 { throw HostLogin.sshccdMissing(spec) }
                throw SSHCCFailure(
                    .serverRefused,
                    "sshccd on \(spec) ended without answering (exit status \(status.map(String.init) ?? "none"))",
                    details: [
                        "  its log on the host tells why (sshccd --log; default ~/.local/state/sshcc/sshccd.log)"
                    ])
            case .answered:
                step("subsystem", "'\(subsystemName)' runs sshccd, which answers distcc requests")
            }
            current = "protocols"
            var answered: [String] = []
            var refused: [String] = []
            for (version, name) in protocols {
                let outcome = try job(session, spec: spec, version: version, compiler: "gcc", deadline: jobDeadline())
                if case .answered = outcome { answered.append(name) } else { refused.append(name) }
            }
            step("protocols", answered.joined(separator: ", "), fine: !answered.isEmpty)
            if !refused.isEmpty {
                detail(
                    "not answered: \(refused.joined(separator: ", ")) (an older sshccd; sshcc falls back to what it answers)"
                )
            }
            current = "compiler"
            for compiler in compilers {
                // This machine's toolchain for the name, which sshccd compares with its own.
                let local = Environment.findExecutable(compiler).flatMap(ToolchainIdentity.compute)
                let outcome = try job(
                    session, spec: spec, version: DistccVersion.plain, compiler: compiler, deadline: jobDeadline(),
                    toolchain: local?.wire)
                switch outcome {
                case .answered(let reply) where reply.exitCode == 0 && !reply.object.isEmpty:
                    step(
                        "compiler",
                        "\(compiler): accepted, "
                            + (local.map { "the same toolchain as here (\($0.summary))" } ?? "not on this machine"))
                case .answered(let reply):
                    let message = String(decoding: reply.stderr, as: UTF8.self).split(separator: "\n").first.map(
                        String.init)
                    let differs = message?.contains(ToolchainCheck.differs) == true
                    step(
                        "compiler", "\(compiler): \(message ?? "failed (status \(reply.status))")",
                        fine: differs ? false : nil)
                case .closed:
                    step("compiler", "\(compiler): sshccd ended without answering", fine: false)
                }
            }
            // One round trip opens a channel; a job on a fresh channel also starts an sshccd (the mux keeps
            // its channels, so builds pay that once per channel, not per job).
            current = "latency"
            let openStarted = Monotonic.nanoseconds()
            _ = try open(session, spec: spec, deadline: jobDeadline())
            let roundTrip = milliseconds(since: openStarted)
            let jobStarted = Monotonic.nanoseconds()
            _ = try job(session, spec: spec, version: DistccVersion.plain, compiler: "gcc", deadline: jobDeadline())
            step(
                "latency",
                "round trip \(roundTrip) ms (a channel open); tiny gcc job with a fresh sshccd \(milliseconds(since: jobStarted)) ms"
            )
            current = "server log"
            serverLog(session, spec: spec, deadline: jobDeadline())
            return true
        } catch {
            step(current, error.summary, fine: false)
            for line in error.details { detail(line.hasPrefix("  ") ? String(line.dropFirst(2)) : line) }
            return false
        }
    }

    /// This account's recent failures as sshccd logged them (its log is on the host, maybe unreadable to a
    /// compile-only key): asked through the channel. A note, never a failure: they may be old news.
    static func serverLog(_ session: Session, spec: HostSpec, deadline: Deadline) {
        let outcome = try? request(
            session, spec: spec, version: DistccVersion.plain, arguments: ServerQuery.recentFailures, source: [],
            deadline: deadline)
        guard case .answered(let reply) = outcome, reply.exitCode == 0 else {
            return step("server log", "this sshccd cannot report its log (an older version)", fine: nil)
        }
        let lines = String(decoding: reply.stdout, as: UTF8.self).split(separator: "\n")
        if lines.isEmpty { return step("server log", "no failures among sshccd's latest log lines for this account") }
        step(
            "server log", "\(lines.count) failure(s) among sshccd's latest log lines for this account, newest last:",
            fine: nil)
        for line in lines { detail(String(line)) }
    }

    enum Outcome {
        case answered(Reply)
        /// sshccd closed the channel without a reply: its exit status.
        case closed(Int32?)
    }

    /// Runs one tiny job on a channel of its own.
    static func job(
        _ session: Session, spec: HostSpec, version: DistccVersion, compiler: String, deadline: Deadline,
        toolchain: String? = nil
    ) throws(SSHCCFailure) -> Outcome {
        let name = compiler.contains("++") ? "sshcc-doctor.cpp" : "sshcc-doctor.c"
        let arguments =
            [compiler, "-c", name, "-o", "sshcc-doctor.o"]
            + (toolchain.map { [ToolchainCheck.argumentPrefix + $0] } ?? [])
        return try request(
            session, spec: spec, version: version, arguments: arguments, source: source, deadline: deadline)
    }

    /// Sends one request on a channel of its own and reads its reply.
    static func request(
        _ session: Session, spec: HostSpec, version: DistccVersion, arguments: [String], source: [UInt8],
        deadline: Deadline
    ) throws(SSHCCFailure) -> Outcome {
        var request = WireEncoder.requestFields(Request(version: version, arguments: arguments, source: []))
        if version.streamsSource {
            request += WireEncoder.sourcePiece(source, last: true, compressor: ZstdStreamCompressor())
        } else {
            request += WireEncoder.sourceFrame(source, version: version)
        }
        func lost(_ error: SSHError) -> SSHCCFailure {
            SSHCCFailure(.connectFailed, "lost \(spec) during a tiny job: \(error)")
        }
        func io<Value>(_ what: String, _ step: () -> Attempt<Value>) throws(SSHCCFailure) -> Value {
            do throws(SSHError) {
                return try session.complete(what, by: deadline, step)
            } catch {
                throw lost(error)
            }
        }
        let channel = try open(session, spec: spec, deadline: deadline)
        do throws(SSHError) {
            try session.complete("start the subsystem", by: deadline) { channel.tryStartSubsystem(subsystemName) }
        } catch {
            throw error.isRequestDenied ? HostLogin.noSubsystem(spec) : lost(error)
        }
        var offset = 0
        while offset < request.count {
            offset += try io("send a job") { channel.tryWrite(request, from: offset) }
        }
        var decoder = ReplyDecoder()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)
        defer { buffer.deallocate() }
        while true {
            let count = try io("read the reply") { channel.tryRead(into: buffer) }
            if count == 0 { return .closed(try io("wait for sshccd's end") { channel.tryWaitClosed() }) }
            decoder.append(buffer[0..<count])
            do throws(WireError) {
                if let reply = try decoder.next() { return .answered(reply) }
            } catch {
                throw SSHCCFailure(.protocolError, "\(spec) sent a malformed reply: \(error)")
            }
        }
    }

    static func open(_ session: Session, spec: HostSpec, deadline: Deadline) throws(SSHCCFailure) -> Channel {
        do throws(SSHError) {
            return try session.complete("open a channel", by: deadline) { session.tryOpenChannel() }
        } catch {
            throw SSHCCFailure(
                .serverRefused, "\(spec) refused a channel: \(error)",
                details: [
                    "  sshd allows MaxSessions channels per connection (10 by default); a Match block may forbid sessions"
                ])
        }
    }

    static func milliseconds(since start: UInt64) -> String { milliseconds(Monotonic.nanoseconds() - start) }

    static func milliseconds(_ nanoseconds: UInt64) -> String {
        let value = Double(nanoseconds) / 1e6
        return value < 10 ? "\(Int(value))." + "\(Int(value * 10) % 10)" : String(Int(value.rounded()))
    }

    /// `fine`: true ok, false FAILED, nil a note (not a failure of the host).
    static func step(_ name: String, _ text: String, fine: Bool? = true) {
        let mark = fine == true ? "ok    " : fine == false ? "FAILED" : "note  "
        print("  " + name.padding(toLength: 10, withPad: " ", startingAt: 0) + " " + mark + " " + text)
    }

    static func detail(_ text: String) { print("                        " + text) }

    /// Writes a line; every server-supplied byte in it is neutralised first.
    static func print(_ line: String) {
        try? Console.write(Array((Console.neutralised(line) + "\n").utf8), to: .output)
    }
}
