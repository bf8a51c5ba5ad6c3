// The wrapper's job sequence in this process, against a scripted mux daemon on socket pairs (no daemon
// process, no sshd): the command line goes first and the source after it, whole and in order; a daemon lost
// before its answer gets the whole job again; a failed preprocessor withdraws the job; a daemon of another
// version is replaced and the job sent again.

import CompileCore
import Foundation
import MuxCore
import POSIXSupport
import TestSupport
import Testing

@testable import SSHCCClient

/// A mux daemon that reads each connection with the daemon's own intake and answers as its script says.
final class ScriptedDaemon: @unchecked Sendable {
    enum Reply {
        case answer(JobAnswer)
        /// Reads the whole job, then closes without a word (a daemon killed before its answer).
        case vanish
        /// Answers as a daemon of another version.
        case otherVersion
    }

    private let lock = NSLock()
    private var script: [Reply]
    private var heard: [[WrapperIntake.Event]] = []
    private var threads = 0

    init(_ script: [Reply]) { self.script = script }

    /// What each connection brought, in order of connection.
    var connections: [[WrapperIntake.Event]] { lock.withLock { heard } }

    /// A connection to this daemon (the wrapper's `connect`).
    func connect() -> Result<FileDescriptor, SSHCCFailure> {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            return .failure(SSHCCFailure(.localIOError, "socketpair"))
        }
        let (index, reply): (Int, Reply) = lock.withLock {
            heard.append([])
            return (heard.count - 1, script.isEmpty ? .vanish : script.removeFirst())
        }
        let daemonEnd = OwnedHandover(FileDescriptor(owning: pair[1]))
        Threads.spawn { self.serve(daemonEnd.take(), index, reply) }
        return .success(FileDescriptor(owning: pair[0]))
    }

    private func serve(_ fd: consuming FileDescriptor, _ index: Int, _ reply: Reply) {
        var intake = WrapperIntake(version: MuxClient.version)
        while !intake.isComplete {
            guard let bytes = try? FileDescriptorIO.read(fd), !bytes.isEmpty,
                let events = try? intake.receive(bytes)
            else { return }
            lock.withLock { heard[index] += events }
            if events.contains(where: { if case .otherVersion = $0 { true } else { false } }) { return }
            if case .otherVersion = reply { break }
        }
        var out = MuxFrame(.version, text: MuxClient.version).encoded
        switch reply {
        case .answer(let answer): out += MuxCodec.encode(answer)
        case .vanish: return
        case .otherVersion:
            out = MuxFrame(.version, text: "0 sshcc old").encoded + MuxFrame(.versionRefused, text: "old").encoded
        }
        try? FileDescriptorIO.writeAll(fd, out)
    }
}

@Suite struct WrapperSequenceTests {
    static let compiled = JobAnswer.compiled(
        host: "h", result: JobResult(status: .exited(0), stderr: Array("w\n".utf8), object: [0x7f, 0x45]), notes: [])

    init() { signal(SIGPIPE, SIG_IGN) }

    /// What `Wrapper.send` gave, without the connection an answer may hold.
    enum Seen {
        case answered(JobAnswer)
        case preprocessingFailed(LocalCompiler.PreprocessFailure)
        case daemonFailed(SSHCCFailure)
    }

    /// Sends a job for `text` through `daemon` the way `sshcc gcc -c a.c -o a.o` does.
    func send(_ text: String, through daemon: ScriptedDaemon) throws -> (Seen, [UInt8], [String]) {
        let directory = try TemporaryDirectory("wrapper-sequence")
        let source = try directory.write("a.c", text)
        let argv = ["gcc", "-O2", "-c", source, "-o", directory.path + "/a.o"]
        guard case .distribute(let scanned) = ArgScanner.scan(argv) else { throw TestSupportError("not distributable") }
        let plan = scanned.withPlainText  // the sequence is the point here, compared with plain `gcc -E`
        let config = ClientConfig(
            home: directory.path,
            access: HostAccess(identity: nil, knownHosts: nil, agentSocket: nil, connectTimeout: nil, ioTimeout: 9),
            fallback: true, verbose: false, renderDiagnosticsLocally: true,
            muxPaths: MuxPaths.resolve(sshccDir: directory.path + "/mux", runtimeDir: nil, uid: getuid()))
        let job = JobSubmission(hostList: "h", access: config.access, arguments: plan.remoteArguments)
        let seen: Seen
        switch Wrapper.send(
            job, plan: plan, compiler: LocalCompiler(path: "/usr/bin/gcc", argv: argv), config: config,
            connect: daemon.connect)
        {
        case .answered(let outcome): seen = .answered(outcome.answer)
        case .preprocessingFailed(let failure): seen = .preprocessingFailed(failure)
        case .daemonFailed(let failure): seen = .daemonFailed(failure)
        case .needsPlainText(let reason): throw TestSupportError("plain text needed: \(reason)")
        }
        let preprocessed = (try? Command.check("gcc", ["-E", source]).stdout) ?? Data()
        return (seen, Array(preprocessed), plan.remoteArguments)
    }

    /// The source that one connection carried, in order; nil unless its last piece ended it.
    func source(_ events: [WrapperIntake.Event]) -> [UInt8]? {
        var text: [UInt8] = []
        for case .piece(let piece, let last) in events {
            text += piece
            if last { return text }
        }
        return nil
    }

    @Test func theCommandLineGoesFirstThenTheWholeSource() throws {
        let daemon = ScriptedDaemon([.answer(Self.compiled)])
        let (sent, preprocessed, arguments) = try send("int twice(int x) { return 2 * x; }\n", through: daemon)
        guard case .answered(let answer) = sent else { Issue.record("\(sent)"); return }
        #expect(answer == Self.compiled)
        #expect(daemon.connections.count == 1)
        let events = daemon.connections[0]
        guard case .request(.job(let job), _) = events.first else { Issue.record("\(events)"); return }
        #expect(job.arguments == arguments && job.hostList == "h")
        #expect(source(events) == preprocessed)
    }

    /// A large text goes in pieces while the preprocessor writes it; the pieces and the rest are the text.
    @Test func aLargeSourceGoesInPiecesInOrder() throws {
        let daemon = ScriptedDaemon([.answer(Self.compiled)])
        let body = (0..<6000).map { "int v\($0) = \($0);\n" }.joined()
        let (sent, preprocessed, _) = try send(body, through: daemon)
        guard case .answered = sent else { Issue.record("\(sent)"); return }
        let events = daemon.connections[0]
        #expect(events.filter { if case .piece(_, false) = $0 { true } else { false } }.count >= 1)
        #expect(source(events) == preprocessed)
    }

    @Test func aDaemonLostBeforeItsAnswerGetsTheWholeJobAgain() throws {
        let daemon = ScriptedDaemon([.vanish, .answer(Self.compiled)])
        let (sent, preprocessed, _) = try send("int x;\n", through: daemon)
        guard case .answered(let answer) = sent else { Issue.record("\(sent)"); return }
        #expect(answer == Self.compiled)
        #expect(daemon.connections.count == 2)
        let again = daemon.connections[1]
        #expect(again.count == 2, "the command line and the whole source in one piece")
        #expect(source(again) == preprocessed)
    }

    /// gcc fails to preprocess: the connection closes before any answer is read, and nothing is sent again.
    @Test func aFailedPreprocessorWithdrawsTheJob() throws {
        let daemon = ScriptedDaemon([.answer(Self.compiled)])
        let (sent, _, _) = try send("#error no\n", through: daemon)
        guard case .preprocessingFailed(.compilerFailed(let status)) = sent else { Issue.record("\(sent)"); return }
        #expect(status == 1)
        #expect(daemon.connections.count == 1)
    }

    @Test func aDaemonOfAnotherVersionIsReplacedAndTheJobSentAgain() throws {
        let daemon = ScriptedDaemon([.otherVersion, .answer(Self.compiled)])
        let (sent, preprocessed, _) = try send("int y;\n", through: daemon)
        guard case .answered(let answer) = sent else { Issue.record("\(sent)"); return }
        #expect(answer == Self.compiled)
        #expect(daemon.connections.count == 2)
        #expect(source(daemon.connections[1]) == preprocessed)
    }

    @Test func threeLostDaemonsAreAFailureForTheWrapperToFallBackOn() throws {
        let daemon = ScriptedDaemon([.vanish, .vanish, .vanish, .vanish])
        let (sent, _, _) = try send("int z;\n", through: daemon)
        guard case .daemonFailed(let failure) = sent else { Issue.record("\(sent)"); return }
        #expect(failure.code == .connectFailed && failure.summary.contains("lost the mux daemon"))
        #expect(daemon.connections.count == 4, "the first connection and three whole resends")
    }
}
