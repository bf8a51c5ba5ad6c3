// The daemon's channel engine (LiveChannel and its ChannelLifecycle) in this process, against a real sshccd
// on a pipe pair — no sshd, no mux daemon: jobs back to back on one channel in every protocol version, a
// killed sshccd charged to its channel, an older sshccd stepping the version down, a withdrawn job, and a
// reply that is not one.

import CompileCore
import DistccWire
import Foundation
import MuxCore
import POSIXSupport
import TestSupport
import Testing

@testable import SSHCCMux

/// An sshccd's stdin and stdout as the engine's non-blocking stream.
final class PipeStream: ServerStream {
    let server: ServerHarness.Live

    init(_ server: ServerHarness.Live) {
        self.server = server
        for fd in [server.descriptors.input, server.descriptors.output] {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
    }

    func write(_ bytes: [UInt8], from offset: Int) -> StreamStep<Int> {
        let written = bytes.withUnsafeBytes {
            Glibc.write(server.descriptors.input, $0.baseAddress! + offset, bytes.count - offset)
        }
        if written >= 0 { return .done(written) }
        return errno == EAGAIN || errno == EINTR ? .again : .streamClosed
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> StreamStep<Int> {
        let count = Glibc.read(server.descriptors.output, buffer.baseAddress!, buffer.count)
        if count >= 0 { return .done(count) }
        return errno == EAGAIN || errno == EINTR ? .again : .streamClosed
    }

    func waitClosed() -> StreamStep<Int32?> {
        guard let status = server.exitStatusIfExited() else { return .again }
        return .done(status)
    }
}

/// A stream that answers with fixed bytes and then ends, for replies no sshccd would send.
final class ScriptedStream: ServerStream {
    var answer: [UInt8]
    init(_ answer: [UInt8]) { self.answer = answer }
    func write(_ bytes: [UInt8], from offset: Int) -> StreamStep<Int> { .done(bytes.count - offset) }
    func read(into buffer: UnsafeMutableRawBufferPointer) -> StreamStep<Int> {
        let count = min(answer.count, buffer.count)
        answer.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        answer.removeFirst(count)
        return .done(count)
    }
    func waitClosed() -> StreamStep<Int32?> { .done(0) }
}

@Suite struct ChannelInProcessTests {
    static let arguments = ["gcc", "-O2", "-c", "a.c", "-o", "a.o"]
    static let text = "#include <stdio.h>\nint twice(int x) { printf(\"%d\", x); return 2 * x; }\n"

    init() { signal(SIGPIPE, SIG_IGN) }

    func job(_ id: Int, _ source: [UInt8]?) -> DaemonJob {
        let job = DaemonJob(id: id, arguments: Self.arguments, pools: [])
        if let source { job.supply(source, last: true) }
        return job
    }

    /// Steps the channel until it reports something or is done with; polls sshccd's output between steps.
    func events(_ live: LiveChannel, output: Int32? = nil) throws -> [ConnectionEvent] {
        for _ in 0..<600 {  // a guard against a hang (60 s), not a time limit on the job
            let events = try step(live)
            if !events.isEmpty || live.life.phase == .retired { return events }
            // Its output at its end polls readable at once: then wait for the exit a little each turn.
            var entry = pollfd(fd: live.life.phase == .closing ? -1 : output ?? -1, events: Int16(POLLIN), revents: 0)
            _ = poll(&entry, 1, 100)
        }
        Issue.record("the channel never reported")
        return []
    }

    /// One step of the channel: what it reported.
    func step(_ live: LiveChannel) throws -> [ConnectionEvent] {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        var events: [ConnectionEvent] = []
        _ = try live.step(buffer, &events) { false }
        return events
    }

    @Test func jobsGoBackToBackOnOneChannelInEveryVersion() throws {
        let harness = try ServerHarness("engine-versions")
        let request = try harness.request("a.c", Self.text, Self.arguments)
        _ = try Command.check("gcc", ["-O2", "-c", "src/a.c", "-o", "local.o"], directory: harness.directory.path)
        let local = try harness.directory.read("local.o")
        let server = try ServerHarness.Live(harness)
        let live = LiveChannel(PipeStream(server), servesOneJob: false)
        let spec = try HostList.parseEntry("h")
        let versions = [DistccVersion.plain, DistccVersion.lzo, DistccVersion.zstd, DistccVersion.zstdStreamed]
        for (id, version) in versions.enumerated() {
            #expect(live.life.isReady)
            let job = job(id, request.source)
            live.start(
                job, head: HostRequest.head(Self.arguments, for: spec, version: version), version: version, now: 0)
            let events = try events(live, output: server.descriptors.output)
            guard case .succeeded(let done, let result, _, let traffic, _, _) = events.first else {
                Issue.record("version \(version): \(events)")
                continue
            }
            #expect(done === job)
            #expect(result.status.exitCode == 0 && result.object == Array(local), "version \(version)")
            #expect(traffic.rawSent >= request.source.count)
            #expect(
                version == DistccVersion.plain ? traffic.sent == traffic.rawSent : traffic.sent < traffic.rawSent)
        }
        #expect(live.life.isReady)
        #expect(
            harness.log.components(separatedBy: "] info: job ").count - 1 == versions.count, "one sshccd served all")
    }

    /// The source follows the head in pieces, as the wrapper sends it while preprocessing (version 5).
    @Test func aSourceInPiecesGoesOutAsItComes() throws {
        let harness = try ServerHarness("engine-pieces")
        let request = try harness.request("a.c", Self.text, Self.arguments)
        let server = try ServerHarness.Live(harness)
        let live = LiveChannel(PipeStream(server), servesOneJob: false)
        let job = job(1, nil)
        let version = DistccVersion.zstdStreamed
        live.start(
            job, head: HostRequest.head(Self.arguments, for: try HostList.parseEntry("h"), version: version),
            version: version, now: 0)
        let half = request.source.count / 2
        job.supply(Array(request.source[..<half]), last: false)
        #expect(try step(live).isEmpty && live.life.awaitingSource)
        job.supply(Array(request.source[half...]), last: true)
        guard
            case .succeeded(_, let result, _, let traffic, _, _) = try events(live, output: server.descriptors.output)
                .first
        else { Issue.record("no result"); return }
        #expect(result.status.exitCode == 0 && !result.object.isEmpty)
        #expect(traffic.piecesAhead == 1)
    }

    /// sshccd killed mid-job (as the OOM killer or an operator would): the job fails on the channel's account,
    /// not the host's, and the channel is done with.
    @Test func aKilledSshccdIsTheChannelsFault() throws {
        let harness = try ServerHarness("engine-kill")
        let server = try ServerHarness.Live(harness)
        let live = LiveChannel(PipeStream(server), servesOneJob: false)
        let job = job(1, nil)  // the source never comes: sshccd waits for it
        live.start(
            job, head: HostRequest.head(Self.arguments, for: try HostList.parseEntry("h"), version: 5), version: 5,
            now: 0)
        #expect(try step(live).isEmpty)
        kill(server.pid, SIGKILL)
        let events = try events(live, output: server.descriptors.output)
        guard case .jobFailed(let failed, let fault) = events.first else { Issue.record("\(events)"); return }
        #expect(failed === job && fault == .ended(status: nil) && fault.charge == .channel)
        #expect(live.life.phase == .retired)
    }

    /// An sshccd that speaks only protocol 1 refuses a compressed request without a word: the job is handed
    /// back for an older version, which that sshccd then compiles.
    @Test func anOlderSshccdStepsTheVersionDown() throws {
        let harness = try ServerHarness("engine-older")
        let request = try harness.request("a.c", Self.text, Self.arguments)
        let spec = try HostList.parseEntry("h")
        let old = try ServerHarness.Live(harness, options: ["--protocols", "1"])
        let live = LiveChannel(PipeStream(old), servesOneJob: false)
        let job = job(1, request.source)
        live.start(job, head: HostRequest.head(Self.arguments, for: spec, version: 4), version: 4, now: 0)
        let events = try events(live, output: old.descriptors.output)
        guard case .versionRefused(let refused, let version) = events.first else { Issue.record("\(events)"); return }
        #expect(refused === job && version == 4 && HostRequest.olderVersion(than: version) == DistccVersion.plain)
        let again = ServerHarness.Live.self
        let retry = LiveChannel(
            PipeStream(try again.init(harness, options: ["--protocols", "1"])), servesOneJob: false)
        retry.start(job, head: HostRequest.head(Self.arguments, for: spec, version: 1), version: 1, now: 0)
        guard case .succeeded(_, let result, _, _, _, _) = try self.events(retry).first else {
            Issue.record("no result"); return
        }
        #expect(result.status.exitCode == 0)
    }

    /// The wrapper withdrew the job (its preprocessing failed): nothing is reported and the channel, which
    /// holds a request without its answer, is not reused.
    @Test func aWithdrawnJobRetiresTheChannel() throws {
        let harness = try ServerHarness("engine-withdrawn")
        let server = try ServerHarness.Live(harness)
        let live = LiveChannel(PipeStream(server), servesOneJob: false)
        let job = job(1, nil)
        live.start(
            job, head: HostRequest.head(Self.arguments, for: try HostList.parseEntry("h"), version: 5), version: 5,
            now: 0)
        #expect(try step(live).isEmpty)
        job.cancel()
        #expect(try step(live).isEmpty)
        #expect(live.life.phase == .retired && !live.life.isBusy)
    }

    /// Bytes that are not a reply fail the job on the host's account; a whole reply followed by more bytes is
    /// delivered, and the channel that is out of step is dropped.
    @Test func repliesThatAreNotOneAreTheHostsFault() throws {
        let garbage = LiveChannel(ScriptedStream(Array("HTTP/1.1 400 Bad Request\r\n".utf8)), servesOneJob: false)
        let job = job(1, Array("int x;\n".utf8))
        garbage.start(job, head: [], version: 1, now: 0)
        guard case .jobFailed(_, let fault) = try events(garbage).first else { Issue.record("no failure"); return }
        #expect(fault.charge == .host)
        let reply = WireEncoder.encode(Reply(status: 0, object: [1, 2, 3]))
        let extra = LiveChannel(ScriptedStream(reply + Array("DONE".utf8)), servesOneJob: false)
        extra.start(self.job(2, Array("int x;\n".utf8)), head: [], version: 1, now: 0)
        guard case .succeeded(_, let result, _, _, _, _) = try events(extra).first else {
            Issue.record("no result"); return
        }
        #expect(result.object == [1, 2, 3])
        #expect(extra.life.phase == .retired)
    }
}
