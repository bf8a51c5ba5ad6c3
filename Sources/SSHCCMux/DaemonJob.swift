// A compile job inside the daemon: the encoded distcc request, its scheduling ticket, the failures met
// while it moved between hosts, and the one-shot result its wrapper's thread waits on.

import CompileCore
import MuxCore
import POSIXSupport

final class DaemonJob: @unchecked Sendable {
    let id: Int
    /// The distcc request exactly as sshccd will read it.
    let request: [UInt8]
    let answer = OneShot<JobAnswer>()
    // The fields below are guarded by the Dispatcher's monitor.
    var ticket: Scheduler.Ticket
    /// Each host that failed the job, in order.
    var failures: [(host: String, failure: ClientFailure)] = []

    init(id: Int, request: [UInt8], pools: [PoolKey]) {
        self.id = id
        self.request = request
        ticket = Scheduler.Ticket(id: id, pools: pools)
    }

    /// Lines for the wrapper about the hosts that failed the job before its outcome (`dropping` the
    /// last failure when that failure is the outcome itself).
    func notes(dropping last: Int = 0) -> [String] {
        failures.dropLast(last).flatMap { host, failure in
            [failure.summary.contains(host) ? failure.summary : "\(host): \(failure.summary)"] + failure.details
        }
    }
}

/// What the host drivers tell the dispatcher. Called on a driver's thread, never under a driver lock.
protocol DriverEvents: AnyObject, Sendable {
    func jobSucceeded(_ job: DaemonJob, on key: PoolKey, reply: [UInt8])
    func jobFailed(_ job: DaemonJob, on key: PoolKey, _ failure: ClientFailure)
    func hostDown(_ key: PoolKey, _ failure: ClientFailure, retryInSeconds: Double)
    func hostUp(_ key: PoolKey)
}
