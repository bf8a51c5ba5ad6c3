// A channel's job lifecycle, transition by transition: when a job succeeds or fails and whose fault it is,
// when a channel may take another job, and the version step-down.

import CompileCore
import DistccWire
import MuxCore
import Testing

struct ChannelLifecycleTests {
    typealias Life = ChannelLifecycle<String>
    let second: UInt64 = 1_000_000_000

    func carrying(_ job: String = "j", version: DistccVersion = .zstdStreamed, oneJob: Bool = false) -> Life {
        var life = Life(servesOneJob: oneJob)
        life.assign(job, version: version, now: 10)
        return life
    }

    func describe(_ actions: [Life.Action]) -> [String] {
        actions.map {
            switch $0 {
            case .succeeded(let job, let nanoseconds): "\(job) done in \(nanoseconds)"
            case .failed(let job, let fault): "\(job) failed: \(fault) (\(fault.charge))"
            case .versionRefused(let job, let version): "\(job) refused version \(version)"
            }
        }
    }

    @Test func aJobGoesOutComesBackAndTheChannelIsReadyAgain() {
        var life = carrying()
        #expect(!life.isReady && life.isBusy && life.phase == .sending)
        life.requestSent()
        #expect(life.phase == .sending, "the source is still coming")
        life.sourceComplete()
        life.requestSent()
        #expect(life.phase == .receiving)
        life.replyBytes(now: 20)
        #expect(describe(life.replyComplete(now: 25, trailingBytes: false)) == ["j done in 15"])
        #expect(life.isReady && !life.isBusy && life.phase == .idle)
    }

    /// A reply before the whole request went out (a refusal), or with bytes after it: sshccd is out of step,
    /// so the job is answered but the channel is dropped.
    /// Protocol 7: the question goes, `NEED` comes back, the source goes, the reply comes; the channel is in
    /// step throughout (`NEED` is not a reply that came before the request).
    @Test func aQuestionAnsweredNeedSendsTheSourceThenTheReplyComes() {
        var life = carrying(version: .asksFirst)
        life.sourceComplete()
        life.requestSent()
        #expect(life.phase == .receiving)
        life.replyBytes(now: 20)
        life.sourceRequested()
        #expect(life.phase == .sending)
        life.requestSent()
        #expect(life.phase == .receiving)
        life.replyBytes(now: 30)
        #expect(describe(life.replyComplete(now: 35, trailingBytes: false)) == ["j done in 25"])
        #expect(life.isReady)
        // In an older version there is no question to answer: nothing changes.
        var older = carrying(version: .loadReported)
        older.sourceComplete()
        older.requestSent()
        older.sourceRequested()
        #expect(older.phase == .receiving)
    }

    @Test(arguments: [(true, false), (false, true)])
    func aReplyOutOfStepRetiresTheChannel(early: Bool, trailing: Bool) {
        var life = carrying()
        if !early {
            life.sourceComplete()
            life.requestSent()
        }
        #expect(describe(life.replyComplete(now: 11, trailingBytes: trailing)) == ["j done in 1"])
        #expect(life.phase == .retired && !life.isReady)
    }

    @Test func stockDistccdServesOneJob() {
        var life = carrying(oneJob: true)
        life.sourceComplete()
        life.requestSent()
        _ = life.replyComplete(now: 11, trailingBytes: false)
        #expect(life.phase == .retired)
    }

    /// sshccd killed, crashed or OOM-killed: the channel's fault only.
    @Test func anSshccdThatEndsFailsItsJobOnTheChannelsAccount() {
        var life = carrying()
        life.sourceComplete()
        life.requestSent()
        life.replyBytes(now: 11)
        life.outputEnded()
        #expect(life.phase == .closing)
        #expect(describe(life.closed(status: nil)) == ["j failed: ended(status: nil) (channel)"])
        #expect(life.phase == .retired)
    }

    @Test func aMissingSshccdIsTheHostsFault() {
        var life = carrying(version: 1)
        life.outputEnded()
        #expect(describe(life.closed(status: 127)) == ["j failed: serverMissing (host)"])
    }

    /// A protocol error before one reply byte, on a compressed request: an older sshccd. The job goes again
    /// in an older version; a plain request's protocol error, or one after reply bytes, is a failure.
    @Test func aProtocolErrorOnACompressedRequestStepsTheVersionDown() {
        let protocolError = ExitCode.protocolError.rawValue
        var refused = carrying(version: 5)
        refused.outputEnded()
        #expect(describe(refused.closed(status: protocolError)) == ["j refused version 5"])
        var plain = carrying(version: 1)
        plain.outputEnded()
        #expect(
            describe(plain.closed(status: protocolError)) == [
                "j failed: ended(status: Optional(\(protocolError))) (channel)"
            ])
        var late = carrying(version: 4)
        late.replyBytes(now: 11)
        late.outputEnded()
        #expect(describe(late.closed(status: protocolError)).first?.contains("failed") == true)
    }

    @Test func aBadReplyIsTheHostsFaultAndDropsTheChannel() {
        var life = carrying()
        #expect(describe(life.replyMalformed("DONE garbage")) == ["j failed: badReply(\"DONE garbage\") (host)"])
        #expect(life.phase == .retired && !life.isBusy)
    }

    /// sshccd closed its input mid-request: reading goes on (its refusal may be there) and the channel is
    /// not reused.
    @Test func aRefusedWriteKeepsReading() {
        var life = carrying()
        life.writeRefused()
        #expect(life.phase == .receiving && life.retiring)
        #expect(describe(life.replyComplete(now: 12, trailingBytes: false)) == ["j done in 2"])
        #expect(life.phase == .retired)
    }

    @Test func bytesNobodyAskedForRetireAnIdleChannel() {
        var life = Life()
        life.replyBytes(now: 1)
        #expect(life.phase == .retired && !life.isReady)
        var quiet = Life()
        quiet.outputEnded()
        #expect(quiet.phase == .retired, "an idle sshccd that ended has nothing to wait for")
    }

    @Test func aWithdrawnJobRetiresItsChannelSilently() {
        var life = carrying()
        life.withdraw()
        #expect(life.phase == .retired && !life.isBusy)
        #expect(life.closed(status: 0).isEmpty)
    }

    /// No progress for the timeout fails the job (the host's fault); waiting for the wrapper's source is not
    /// a stall, however long the preprocessing.
    @Test func aStallFailsTheJobButPreprocessingIsNotAStall() {
        var life = carrying()
        #expect(life.tick(now: 100 * second, timeout: 5 * second).isEmpty, "source still coming")
        life.sourceComplete()
        life.requestSent()
        #expect(life.tick(now: 104 * second, timeout: 5 * second).isEmpty)
        life.progressed(now: 104 * second)
        #expect(life.tick(now: 109 * second, timeout: 5 * second).isEmpty)
        #expect(describe(life.tick(now: 110 * second, timeout: 5 * second)) == ["j failed: stalled(seconds: 5) (host)"])
        #expect(life.phase == .retired)
    }

    @Test func aLostConnectionFailsTheJobOnTheChannelsAccount() {
        var life = carrying()
        #expect(describe(life.connectionLost("reset")) == ["j failed: connectionLost(\"reset\") (channel)"])
        var idle = Life()
        #expect(idle.connectionLost("reset").isEmpty)
    }
}
