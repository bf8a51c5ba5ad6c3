// `sshcc --status`: the daemon's view of its hosts and jobs, rendered as text in the daemon (the wrapper
// only prints it, so the two never disagree on fields).

import POSIXSupport

struct StatusReport {
    struct Host {
        var name: String
        var slots: Int
        var stats: HostStats
        /// What its server said of each toolchain jobs brought (compiler name and digest): the same or not.
        var toolchains: [String: Bool] = [:]
        /// Stock distccd: no toolchain is checked there.
        var unverified = false
        /// Compilers its server refuses, and why (no jobs of them go there for now).
        var refusedCompilers: [String: String] = [:]
        /// Not in the host list of the latest job (an earlier list's, or another build's).
        var notInCurrentList = false
    }

    var uptimeSeconds: Double
    var hosts: [Host]
    var running: Int
    var queued: Int
    /// Local slots (total, busy), when the host list names `localhost/N`.
    var local: (Int, Int)?
    var clients: Int

    func render(pid: Int32, directory: String) -> String {
        var text = "sshcc mux daemon pid \(pid), up \(Self.duration(uptimeSeconds)), \(directory)\n"
        text += "jobs: \(running) running, \(queued) queued; \(clients) wrapper(s) connected\n"
        if let (slots, busy) = local { text += "localhost: \(busy)/\(slots) local slots busy\n" }
        if hosts.isEmpty { text += "no remote host used yet\n" }
        let now = Monotonic.nanoseconds()
        for host in hosts {
            let stats = host.stats
            var state = stats.state.rawValue
            if let retryAt = stats.retryAt, retryAt > now {
                state += " (jobs go elsewhere for \(Int((retryAt - now) / 1_000_000_000)) s more)"
            }
            text += "\(host.name): \(state)\(host.notInCurrentList ? " (not in the latest job's host list)" : "")\n"
            text +=
                "  connections \(stats.connections), channels \(stats.channelsOpen) open / \(stats.channelsBusy) busy of \(host.slots) slots\n"
            let mean = stats.meanJobMilliseconds.map { String(Int($0.rounded())) + " ms" } ?? "-"
            let refused = stats.jobsRefused > 0 ? ", \(stats.jobsRefused) refused (went elsewhere)" : ""
            text += "  jobs \(stats.jobsDone) done, \(stats.jobsFailed) failed\(refused), mean \(mean)\n"
            for (compiler, why) in host.refusedCompilers.sorted(by: { $0.key < $1.key }) {
                text += "  refuses \(compiler): \(why)\n"
            }
            text +=
                "  sent \(Self.bytes(stats.bytesSent))\(Self.share(stats.bytesSent, of: stats.rawBytesSent)), "
                + "received \(Self.bytes(stats.bytesReceived))\(Self.share(stats.bytesReceived, of: stats.rawBytesReceived))"
                + "\n  compression \(stats.compressionText), SSH compression \(stats.sshCompression)\n"
            if let error = stats.lastError { text += "  last error: \(error)\n" }
            if host.unverified {
                text += "  toolchains: unverified (stock distccd states none)\n"
            } else if !host.toolchains.isEmpty {
                let verdicts = host.toolchains.sorted { $0.key < $1.key }.map { key, same in
                    "\(key.split(separator: " ").first ?? "?") \(same ? "same as here" : "DIFFERS (no jobs go there)")"
                }
                text += "  toolchains: \(verdicts.joined(separator: ", "))\n"
            }
        }
        return text
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds)
        return whole < 60
            ? "\(whole) s"
            : whole < 3600 ? "\(whole / 60) min \(whole % 60) s" : "\(whole / 3600) h \(whole % 3600 / 60) min"
    }

    /// " = 12 % of 1 MiB" when compression changed the size.
    static func share(_ count: Int, of raw: Int) -> String {
        guard raw > 0, raw != count else { return "" }
        return " = \(Int((Double(count) * 100 / Double(raw)).rounded())) % of \(bytes(raw))"
    }

    static func bytes(_ count: Int) -> String {
        if count < 10 * 1024 { return "\(count) B" }
        if count < 10 * 1024 * 1024 { return "\(count / 1024) KiB" }
        return "\(count / 1024 / 1024) MiB"
    }
}
