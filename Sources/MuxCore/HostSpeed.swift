// How fast a host compiles, learned from the jobs it ran: seconds of compiling per unit of job size, and the
// seconds a job spends besides (the link both ways, the server's set-up). Kept across builds in SSHCC_DIR
// (`speeds`, one line per host) so that a build starts with what the last one learned. Pure.

public struct HostSpeed: Equatable, Sendable {
    /// Seconds of compile for a job of one size unit (`unit(of:)`).
    public var compileSeconds: Double
    /// Seconds a job spends on the link and around the compile.
    public var overheadSeconds: Double
    /// Jobs learned from (the first few move the estimate more).
    public var samples: Int

    public init(compileSeconds: Double, overheadSeconds: Double, samples: Int) {
        self.compileSeconds = compileSeconds
        self.overheadSeconds = overheadSeconds
        self.samples = samples
    }

    /// A job's size in units: the square root of its preprocessed size over 64 KiB, within 1/4 and 8. Compile
    /// time grows with size, but less than in proportion (a big file is mostly declarations), and a size
    /// alone never makes an estimate absurd.
    public static func unit(of bytes: Int) -> Double {
        min(8, max(0.25, (Double(bytes) / 65536).squareRoot()))
    }

    /// The expected seconds of a job of `bytes` here, compile and overhead.
    public func seconds(for bytes: Int) -> Double { compileSeconds * Self.unit(of: bytes) + overheadSeconds }

    /// Learns from one job: `compile` seconds of compiling (nil: unknown, the whole time counts), `total` as the
    /// client saw it, `waited` for a slot on the server (not the host's speed).
    public mutating func learn(bytes: Int, compile: Double?, total: Double, waited: Double) {
        let perUnit = (compile ?? max(0, total - waited)) / Self.unit(of: bytes)
        let overhead = compile.map { max(0, total - $0 - waited) } ?? 0
        // The first job sets the estimate; the next few move it more than later ones.
        let weight = samples == 0 ? 1 : samples < 4 ? 0.5 : 0.25
        compileSeconds += weight * (perUnit - compileSeconds)
        overheadSeconds += weight * (overhead - overheadSeconds)
        samples += 1
    }

    /// A job ran `elapsed` seconds here and was still not done (another host's copy won): the host is slower
    /// than that for its size — taken as half as long again, the middle of what such a job has left.
    public mutating func atLeast(bytes: Int, elapsed: Double) {
        let perUnit = 1.5 * max(0, elapsed - overheadSeconds) / Self.unit(of: bytes)
        compileSeconds = max(compileSeconds, perUnit)
    }
}

/// The `speeds` file: `HOST COMPILE OVERHEAD SAMPLES` per line. Read as hostile (another run of an older
/// version, a damaged disk): bad lines are skipped, numbers bounded, at most `maximumHosts` hosts.
public enum HostSpeedFile {
    public static let maximumHosts = 4096

    public static func text(_ speeds: [String: HostSpeed]) -> String {
        speeds.sorted { $0.key < $1.key }.prefix(maximumHosts).map { host, speed in
            "\(host) \(speed.compileSeconds) \(speed.overheadSeconds) \(speed.samples)\n"
        }.joined()
    }

    public static func parse(_ text: String) -> [String: HostSpeed] {
        var speeds: [String: HostSpeed] = [:]
        for line in text.split(separator: "\n").prefix(maximumHosts) {
            let fields = line.split(separator: " ")
            guard fields.count == 4, fields[0].utf8.count <= 1024,
                let compile = Double(fields[1]), let overhead = Double(fields[2]), let samples = Int(fields[3]),
                compile.isFinite, overhead.isFinite, (0...86_400).contains(compile), (0...86_400).contains(overhead),
                samples >= 1
            else { continue }
            speeds[String(fields[0])] = HostSpeed(
                compileSeconds: compile, overheadSeconds: overhead, samples: min(samples, 1_000_000))
        }
        return speeds
    }
}
