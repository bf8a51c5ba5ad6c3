// Compression through a real sshd: every host option compiles byte-identically with the compiler's own
// messages, the bytes on the wire shrink as promised, a large source streams in pieces, an sshccd that
// refuses the streamed source or compressed requests (as older ones do) still gets the job in a version it
// reads, and stock distccd gets LZO.

import Foundation
import TestSupport
import Testing

@Suite struct CompressionTests {
    /// Preprocessed, about 40 KB of typical C: system headers and a little code with a warning (SERR).
    static let source = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        int main(int argc, char **argv) {
            int unused;
            char *copy = strdup(argc > 1 ? argv[1] : "none");
            printf("%zu\\n", strlen(copy));
            free(copy);
            return 0;
        }
        """

    struct Outcome {
        var status: String
        var sshccdLog: String
    }

    /// Over 64 KiB once preprocessed (the wrapper's piece size): many functions, one warning.
    static let largeSource =
        source + (0..<3000).map { "int f\($0)(int x) { return x * \($0 % 17) + \($0); }\n" }.joined()

    /// Compiles the source locally and through `options`' host entry; both must agree exactly.
    func compile(options: String, sshccdOptions: [String] = [], jobs: Int = 2, source: String = source) throws
        -> Outcome
    {
        let server = try SSHDServer(sshccdOptions: sshccdOptions)
        let project = try Fixtures.project()
        try project.write("src/headers.c", source)
        let environment = server.clientEnvironment([
            "SSHCC_HOSTS": server.hostSpec + options, "SSHCC_FALLBACK": "0", "SSHCC_VERBOSE": "1",
        ])
        let arguments = ["gcc", "-O2", "-Wall", "-c", "src/headers.c", "-o"]
        let local = try Fixtures.local(arguments + ["local.o"], in: project.path, environment: environment)
        #expect(local.stderrText.contains("unused variable"))
        for job in 0..<jobs {
            let remote = try Fixtures.sshcc(arguments + ["remote\(job).o"], in: project.path, environment: environment)
            #expect(remote.status == 0)
            #expect(remote.stderrText.contains("compiled on"), "\(remote.stderrText)")
            #expect(remote.stderrText.contains(local.stderrText), "the compiler's warning, as it is")
            #expect(try project.read("remote\(job).o") == project.read("local.o"), "job \(job): object differs")
        }
        let status = try Fixtures.sshcc(["--status"], in: project.path, environment: environment).stdoutText
        let log = (try? String(contentsOfFile: server.sshccdLog, encoding: .utf8)) ?? ""
        attachLogsOnFailure(server, status.contains("jobs \(jobs) done, 0 failed"))
        return Outcome(status: status, sshccdLog: log)
    }

    /// The percentage of raw bytes sent, from `sshcc --status` ("sent 5 KiB = 12 % of 40 KiB").
    func sentShare(_ status: String) -> Int? {
        guard let range = status.range(of: #"sent [0-9]+ [KMi]*B = ([0-9]+) %"#, options: .regularExpression) else {
            return nil
        }
        return Int(status[range].split(separator: "=")[1].split(separator: " ")[0])
    }

    /// zstd sends a quarter of the raw text or less, LZO (faster, weaker on gcc's directives-only text, which
    /// keeps comments) 40 % or less.
    @Test(arguments: [
        ("", "zstd, protocol 7 (source streamed", 25), (",zstd", "zstd, protocol 7 (source streamed", 25),
        (",lzo", "lzo, protocol 2", 40),
    ])
    func compressedHostsSendAQuarterOrLess(option: String, method: String, most: Int) throws {
        let outcome = try compile(options: option)
        #expect(outcome.status.contains("compression \(method)"), "\(outcome.status)")
        #expect(outcome.status.contains("SSH compression none"), "\(outcome.status)")
        let share = try #require(sentShare(outcome.status), "\(outcome.status)")
        #expect(share <= most, "\(outcome.status)")
    }

    @Test func plainHostsSendTheBytesAsTheyAre() throws {
        let outcome = try compile(options: ",plain")
        #expect(outcome.status.contains("compression plain"), "\(outcome.status)")
        #expect(sentShare(outcome.status) == nil, "no compression: sent equals raw\n\(outcome.status)")
    }

    /// libssh2's own zlib (the SSH transport compresses everything): negotiated with sshd's default config.
    @Test func sshLevelZlibIsNegotiated() throws {
        let outcome = try compile(options: ",plain,sshzlib")
        #expect(outcome.status.contains("SSH compression zlib"), "\(outcome.status)")
    }

    /// A source over the wrapper's piece size goes to sshccd in pieces while gcc -E still writes it, and
    /// compiles to the same object with the same warning.
    @Test func aLargeSourceTravelsInPieces() throws {
        let outcome = try compile(options: "", source: Self.largeSource)
        let ahead = outcome.status.firstMatch(of: /source streamed, ([0-9]+) pieces ahead/).flatMap { Int($0.1) }
        #expect((ahead ?? 0) >= 2, "at least one piece per job went ahead of its end\n\(outcome.status)")
        let share = try #require(sentShare(outcome.status), "\(outcome.status)")
        #expect(share <= 25, "\(outcome.status)")
    }

    /// An sshccd of before version 7 (it speaks 1, 2, 4, 5 and 6) closes the channel on DIST 7 with a protocol
    /// error. The mux sends that job again in version 6 (no question before the source), and all later ones too.
    @Test func aServerWithoutQuestionsGetsVersionSix() throws {
        let outcome = try compile(
            options: "", sshccdOptions: ["--protocols", "1,2,4,5,6"], jobs: 3, source: Self.largeSource)
        #expect(outcome.sshccdLog.contains("announces protocol version 7; this peer speaks version 1, 2, 4, 5, 6"))
        #expect(outcome.sshccdLog.components(separatedBy: "announces protocol version").count == 2, "refused once")
        #expect(outcome.status.contains("compression zstd, protocol 6 (source streamed"), "\(outcome.status)")
        #expect(outcome.status.contains("refused protocol 7 (results asked for by digest)"), "\(outcome.status)")
    }

    /// An sshccd of before version 6 (it speaks 1, 2, 4 and 5) closes the channel on DIST 7, then DIST 6, with a
    /// protocol error. The mux sends that job again in version 5 (no load in the reply), and all later ones too.
    @Test func aServerWithoutLoadReportsGetsVersionFive() throws {
        let outcome = try compile(
            options: "", sshccdOptions: ["--protocols", "1,2,4,5"], jobs: 3, source: Self.largeSource)
        #expect(outcome.sshccdLog.contains("announces protocol version 6; this peer speaks version 1, 2, 4, 5"))
        #expect(outcome.sshccdLog.components(separatedBy: "announces protocol version").count == 3, "7, 6 once")
        #expect(outcome.status.contains("compression zstd, protocol 5 (source streamed"), "\(outcome.status)")
        #expect(outcome.status.contains("refused protocol 6 (load reports)"), "\(outcome.status)")
        // The load question is an ordinary request: such a server still tells its load when asked (the last
        // answer may have come while a job still held its slot).
        #expect(outcome.status.contains(/load: [0-4]\/4 slots busy/), "\(outcome.status)")
    }

    /// An sshccd of before version 5 (it speaks 1, 2 and 4) closes the channel on DIST 6, then DIST 5, with a
    /// protocol error. The mux sends that job again with its source whole (version 4), and all later ones too.
    @Test func aServerWithoutStreamingGetsTheSourceWhole() throws {
        let outcome = try compile(
            options: "", sshccdOptions: ["--protocols", "1,2,4"], jobs: 3, source: Self.largeSource)
        for version in [7, 6, 5] {
            let refusal = "announces protocol version \(version); this peer speaks version 1, 2, 4"
            #expect(outcome.sshccdLog.components(separatedBy: refusal).count == 2, "refused \(version) once")
        }
        #expect(outcome.sshccdLog.components(separatedBy: "announces protocol version").count == 4)
        #expect(outcome.status.contains("compression zstd, protocol 4,"), "\(outcome.status)")
        #expect(outcome.status.contains("refused protocol 5 (source streamed)"), "\(outcome.status)")
        let share = try #require(sentShare(outcome.status), "\(outcome.status)")
        #expect(share <= 25, "\(outcome.status)")
    }

    /// An sshccd that speaks only version 1 closes the channel on DIST 5, then on DIST 4, with a protocol
    /// error, as every sshccd before compression did. The mux sends that job again uncompressed, and all later
    /// ones too.
    @Test func aServerWithoutCompressionGetsVersionOne() throws {
        let outcome = try compile(options: ",zstd", sshccdOptions: ["--protocols", "1"], jobs: 3)
        for version in [6, 5, 4] {
            let refusal = "announces protocol version \(version); this peer speaks version 1"
            #expect(outcome.sshccdLog.components(separatedBy: refusal).count == 2, "refused \(version) once")
        }
        #expect(outcome.status.contains("compression plain"), "\(outcome.status)")
        #expect(outcome.status.contains("refused protocol 4"), "\(outcome.status)")
    }

    /// Debian's distccd speaks protocol 2: `,distccd` hosts get LZO by default.
    @Test func stockDistccdGetsLZO() throws {
        let outcome = try compile(options: ",distccd")
        #expect(outcome.status.contains("compression lzo"), "\(outcome.status)")
        let share = try #require(sentShare(outcome.status), "\(outcome.status)")
        #expect(share <= 40, "\(outcome.status)")
    }
}
