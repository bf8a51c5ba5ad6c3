// The mux socket's side of the fuzzer: what the daemon makes of a wrapper's bytes (WrapperIntake), what a
// wrapper makes of a daemon's answer (MuxCodec.answer), and where the daemon finds a reply's end without
// decoding it (ReplyExtent, checked against ReplyDecoder). Every request or answer that reads must encode
// back to itself; a reply the decoder reads whole must end exactly where the extent says.

import CompileCore
import DistccWire
import MuxCore

enum MuxInputHarness {
    static let version = "5 sshcc fuzz"

    static func run(_ stream: [UInt8], piece: Int) {
        daemonSide(stream, piece: piece)
        wrapperSide(stream, piece: piece)
        replyEnd(stream, piece: piece)
    }

    static func daemonSide(_ stream: [UInt8], piece: Int) {
        var intake = WrapperIntake(version: version)
        var events: [WrapperIntake.Event] = []
        ServerInputHarness.feed(stream, piece: piece, append: { events += (try? intake.receive($0)) ?? [] }) {}
        var sourceEnded = false
        for (index, event) in events.enumerated() {
            switch event {
            case .request(let request, let peer):
                precondition(index == 0, "a request after other events")
                precondition(peer == version || request == .stop, "another version's request was served")
                if case .job(let job) = request {
                    precondition(job.arguments.first?.isEmpty == false)
                    var again = WrapperIntake(version: version)
                    let reread = try? again.receive(MuxCodec.jobHead(job, version: version))
                    precondition(reread == [.request(request, peerVersion: version)], "a job that does not re-read")
                }
            case .piece(_, let last):
                precondition(index > 0 && !sourceEnded, "a piece without its job, or after the source ended")
                sourceEnded = last
            case .otherVersion(let peer):
                precondition(peer != version && events.count == 1, "told another version wrongly")
            }
        }
    }

    static func wrapperSide(_ stream: [UInt8], piece: Int) {
        var inbox = MuxInbox()
        ServerInputHarness.feed(stream, piece: piece, append: { _ = try? inbox.receive($0) }) {}
        guard let answer = try? MuxCodec.answer(from: inbox.frames) else { return }
        var reread = MuxInbox()
        _ = try? reread.receive(MuxFrame(.version, text: version).encoded + MuxCodec.encode(answer))
        precondition((try? MuxCodec.answer(from: reread.frames)) == answer, "an answer that does not re-read")
    }

    static func replyEnd(_ stream: [UInt8], piece: Int) {
        var extent = ReplyExtent(limits: ServerInputHarness.limits)
        var end: Int?
        var offset = 0
        while offset < stream.count, end == nil {
            let chunk = Array(stream[offset..<min(offset + piece, stream.count)])
            guard let progress = try? extent.consume(chunk) else { return }
            if case .complete(let trailing) = progress { end = offset + chunk.count - trailing }
            offset += chunk.count
        }
        var decoder = ReplyDecoder(limits: ServerInputHarness.limits)
        decoder.append(stream)
        guard let reply = try? decoder.next() else { return }
        precondition(end != nil, "the decoder read a reply whose end was not found")
        var whole = ReplyDecoder(limits: ServerInputHarness.limits)
        whole.append(stream[..<end!])
        precondition((try? whole.next()) == reply && whole.isAtBoundary, "the reply ends elsewhere")
    }
}
