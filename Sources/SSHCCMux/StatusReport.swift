// `sshcc --status`: the daemon's view of its hosts and jobs, rendered as text in the daemon (the wrapper
// only prints it, so the two never disagree on fields).

import CompileCore
import MuxCore
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
        /// What placement counts on: the learned speed (nil: nothing learned yet) and how many of this
        /// daemon's jobs the host runs at once (its declared slots, or fewer when its server has fewer).
        var speed: Speed?
        var capacity = 0
    }

    /// A host's learned speed, as status shows it.
    struct Speed {
        /// Seconds a usual job takes there, overhead included, and the overhead alone.
        var seconds: Double
        var overhead: Double
        var samples: Int
    }

    /// A job the daemon holds: where it is and what it waits for.
    struct Job {
        enum State: String { case running, queued, local }
        var id: Int
        var file: String
        var state: State
        /// Where it runs or is headed (nil: no host chosen yet).
        var host: String?
        /// Seconds in this state.
        var seconds: Double
        var waiting: String?
    }

    /// A host failing or refusing a job, or going down.
    struct Failure: Sendable {
        /// UTC, as the log writes it.
        var time: String
        var host: String
        var file: String?
        var summary: String
        /// The same failure of the same host, met this many times in a row (the latest is shown).
        var count = 1
    }

    /// The latest failures, newest last; a failure like the one before it (a host's one outage fails every
    /// job it held, then the host) only counts up.
    struct RecentFailures {
        private(set) var lines: [Failure] = []
        static let kept = 10

        mutating func add(_ failure: Failure) {
            if let last = lines.last, last.host == failure.host, last.summary == failure.summary {
                var merged = failure
                merged.file = failure.file ?? last.file
                merged.count = last.count + 1
                lines[lines.count - 1] = merged
                return
            }
            lines.append(failure)
            if lines.count > Self.kept { lines.removeFirst() }
        }
    }

    var uptimeSeconds: Double
    var hosts: [Host]
    var running: Int
    var queued: Int
    /// Local slots (total, busy), when the host list names `localhost/N`.
    var local: (Int, Int)?
    var localSpeed: Speed?
    var clients: Int
    /// How many jobs the farm runs for this daemon now (`sshcc --jobs`): each host of the latest list that is
    /// up, at its capacity less what other users hold or wait for there, and the local slots.
    var farmCapacity = 0
    var jobs: [Job] = []
    var recentFailures: [Failure] = []
    /// Jobs the daemon sent back to be compiled locally, by reason (most of them quietly: said once).
    var sentBack: [String: Int] = [:]

    func render(pid: Int32, directory: String) -> String {
        var text = "sshcc mux daemon pid \(pid), up \(Self.duration(uptimeSeconds)), \(directory)\n"
        text += "jobs: \(running) running, \(queued) queued; \(clients) wrapper(s) connected\n"
        text += "\(StatusWords.capacity) \(farmCapacity) jobs at once (make -j: sshcc --jobs)\n"
        if let (slots, busy) = local {
            text +=
                "localhost: \(busy)/\(slots) local slots busy\(localSpeed.map { ", " + Self.speedText($0) } ?? "")\n"
        }
        for job in jobs {
            let place = job.host.map { job.state == .running ? " on \($0)" : job.state == .local ? " here" : "" } ?? ""
            text +=
                "  \(job.state.rawValue + String(repeating: " ", count: 7 - job.state.rawValue.count)) \(job.file)\(place), \(Self.seconds(job.seconds))"
            text += job.waiting.map { ", waiting for \($0)" } ?? ""
            text += "\n"
        }
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
            text += "  " + Self.loadText(stats.load, note: stats.loadNote, capacity: host.capacity) + "\n"
            text += "  " + (host.speed.map(Self.speedText) ?? "speed: not learned yet") + "\n"
            let mean = stats.meanJobMilliseconds.map { String(Int($0.rounded())) + " ms" } ?? "-"
            let refused = stats.jobsRefused > 0 ? ", \(stats.jobsRefused) refused (went elsewhere)" : ""
            let hits =
                stats.cacheHits > 0
                ? " (\(stats.cacheHits) from its object cache, \(stats.cacheHits * 100 / max(stats.jobsDone, 1))%)" : ""
            text += "  jobs \(stats.jobsDone) done\(hits), \(stats.jobsFailed) failed\(refused), mean \(mean)\n"
            if stats.askedFirst > 0 {
                text +=
                    "  \(stats.askedFirst) asked for their result before sending the source, "
                    + "\(stats.sourcesNeeded) of them then sent it\n"
            }
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
        if !sentBack.isEmpty {
            text += "compiled locally instead: \(sentBack.values.reduce(0, +)) job(s)\n"
            for (reason, count) in sentBack.sorted(by: { $0.value > $1.value }) { text += "  \(count) × \(reason)\n" }
        }
        if !recentFailures.isEmpty {
            text += "recent failures (newest last; the log has them all):\n"
            for failure in recentFailures {
                text += "  \(failure.time) \(failure.host)\(failure.file.map { " (\($0))" } ?? ""): \(failure.summary)"
                text += failure.count > 1 ? " (\(failure.count) times)\n" : "\n"
            }
        }
        return text
    }

    /// "load: 3/4 slots busy (1 yours), 1 other user waiting, 4 CPUs, 1200 MiB free; takes 1 of this daemon's
    /// jobs at once".
    static func loadText(_ load: ServerLoad?, note: String?, capacity: Int) -> String {
        guard let load else {
            return "load: " + (note.map { "unknown (\($0)); takes \(capacity) jobs at once" } ?? "not reported yet")
        }
        let waiting = load.waiting == 1 ? "1 other user waiting" : "\(load.waiting) other users waiting"
        return
            "load: \(load.busy)/\(load.slots) slots busy (\(load.mine) yours), \(waiting), \(load.cpus) CPUs, "
            + "\(load.memoryMiB) MiB free; takes \(capacity) of this daemon's jobs at once"
    }

    /// "speed: 0.84 s per usual job (0.02 s of it the link), learned from 31 jobs".
    static func speedText(_ speed: Speed) -> String {
        "speed: \(fine(speed.seconds)) per usual job (\(fine(speed.overhead)) of it the link), learned from "
            + "\(speed.samples) job\(speed.samples == 1 ? "" : "s")"
    }

    /// Milliseconds below 10 s ("128 ms"), else seconds.
    static func fine(_ value: Double) -> String {
        value < 10 ? "\(Int((value * 1000).rounded())) ms" : seconds(value)
    }

    static func speedJSON(_ speed: Speed?) -> JSONValue {
        speed.map {
            .object([
                ("seconds_per_job", .number($0.seconds)), ("overhead_seconds", .number($0.overhead)),
                ("samples", .int($0.samples)),
            ])
        } ?? .null
    }

    /// The same report for scripts (`sshcc --status --json`): one JSON object, keys as documented in README.md.
    func json(pid: Int32, directory: String) -> String {
        let now = Monotonic.nanoseconds()
        let hostValues: [JSONValue] = hosts.map { host in
            let stats = host.stats
            var retry = JSONValue.null
            if let at = stats.retryAt, at > now { retry = .int(Int((at - now) / 1_000_000_000)) }
            let mean: JSONValue = stats.meanJobMilliseconds.map { .int(Int($0.rounded())) } ?? .null
            let refused: [(String, JSONValue)] = host.refusedCompilers.sorted { $0.key < $1.key }.map {
                ($0.key, .string($0.value))
            }
            let differ: [JSONValue] = host.toolchains.filter { !$0.value }.keys.sorted().map { .string($0) }
            var members: [(String, JSONValue)] = [
                ("name", .string(host.name)), ("state", .string(stats.state.rawValue)),
                ("in_current_list", .bool(!host.notInCurrentList)), ("slots", .int(host.slots)),
                ("retry_in_seconds", retry), ("connections", .int(stats.connections)),
            ]
            members += [
                ("channels_open", .int(stats.channelsOpen)), ("channels_busy", .int(stats.channelsBusy)),
                ("jobs_done", .int(stats.jobsDone)), ("jobs_failed", .int(stats.jobsFailed)),
                ("jobs_refused", .int(stats.jobsRefused)), ("cache_hits", .int(stats.cacheHits)),
                ("asked_first", .int(stats.askedFirst)), ("sources_needed", .int(stats.sourcesNeeded)),
                ("mean_job_ms", mean),
            ]
            members += [
                ("bytes_sent", .int(stats.bytesSent)), ("bytes_received", .int(stats.bytesReceived)),
                ("protocol", .int(Int(stats.protocolVersion.rawValue))),
                ("ssh_compression", .string(stats.sshCompression)),
                ("last_error", stats.lastError.map { .string($0) } ?? .null),
                ("refused_compilers", .object(refused)), ("toolchains_differ", .array(differ)),
            ]
            let load: JSONValue =
                stats.load.map { load in
                    .object([
                        ("slots", .int(load.slots)), ("busy", .int(load.busy)), ("mine", .int(load.mine)),
                        ("other_users_waiting", .int(load.waiting)), ("cpus", .int(load.cpus)),
                        ("memory_mib", .int(load.memoryMiB)),
                    ])
                } ?? .null
            members += [("load", load), ("capacity", .int(host.capacity)), ("speed", Self.speedJSON(host.speed))]
            return .object(members)
        }
        let jobValues: [JSONValue] = jobs.map { job in
            .object([
                ("file", .string(job.file)), ("state", .string(job.state.rawValue)),
                ("host", job.host.map(JSONValue.string) ?? .null), ("seconds", .number(job.seconds)),
                ("waiting_for", job.waiting.map(JSONValue.string) ?? .null),
            ])
        }
        let failureValues: [JSONValue] = recentFailures.map { failure in
            .object([
                ("time", .string(failure.time)), ("host", .string(failure.host)),
                ("file", failure.file.map(JSONValue.string) ?? .null), ("summary", .string(failure.summary)),
                ("count", .int(failure.count)),
            ])
        }
        return JSONValue.object([
            ("pid", .int(Int(pid))), ("directory", .string(directory)), ("uptime_seconds", .number(uptimeSeconds)),
            ("running", .int(running)), ("queued", .int(queued)), ("wrappers", .int(clients)),
            (
                "local_slots",
                local.map {
                    .object([("slots", .int($0.0)), ("busy", .int($0.1)), ("speed", Self.speedJSON(localSpeed))])
                } ?? .null
            ),
            ("farm_capacity", .int(farmCapacity)), ("hosts", .array(hostValues)), ("jobs", .array(jobValues)),
            ("recent_failures", .array(failureValues)),
            ("compiled_locally", .object(sentBack.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
        ]).text + "\n"
    }

    /// "0.4 s", "12 s", "3 min 5 s".
    static func seconds(_ value: Double) -> String {
        value < 10 ? "\(Int(value * 10) / 10).\(Int(value * 10) % 10) s" : duration(value)
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
