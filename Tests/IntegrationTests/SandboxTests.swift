// Defence in depth: each compiler runs in a Landlock sandbox (sshccd --sandbox auto). An instrument
// in the compiler's place tries what a compromised cc1 would: read a file outside the system directories,
// list /tmp (other jobs), write outside its job, open a TCP socket, read a file beside its own installation. All fail under the sandbox and succeed
// without it (the control), and the compile itself still works.

import DistccWire
import Foundation
import POSIXSupport
import TestSupport
import Testing

@Suite struct SandboxTests {
    /// The instrument's probes; each prints `NAME-ok` or `NAME-denied` on stderr.
    static func probes(secret: String, outside: String, beside: String) -> String {
        """
        if cat \(secret) >&2 2>/dev/null; then echo read-ok >&2; else echo read-denied >&2; fi
        if cat \(beside) >/dev/null 2>&1; then echo beside-ok >&2; else echo beside-denied >&2; fi
        if ls /tmp >/dev/null 2>&1; then echo list-ok >&2; else echo list-denied >&2; fi
        if echo x > \(outside) 2>/dev/null; then echo write-ok >&2; else echo write-denied >&2; fi
        python3 -c '
        import socket, sys
        try:
            server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen()
            socket.create_connection(server.getsockname()).close(); print("tcp-ok", file=sys.stderr)
        except PermissionError:
            print("tcp-denied", file=sys.stderr)
        '
        exec /usr/bin/gcc "$@"
        """
    }

    /// `direct`: the steps run without the driver, as sshccd does by default: the instrument answers `-###`
    /// with a command line naming the probe script, which sshccd then runs itself as the step.
    func run(sandboxed: Bool, direct: Bool = false) throws -> (reply: Reply?, stderr: String, wrote: Bool) {
        #expect(Sandbox.landlockABI > 0, "this kernel has no Landlock; sshccd would run compilers unsandboxed")
        let harness = try ServerHarness("sshccd-sandbox", sandboxed: sandboxed, directSteps: direct)
        let elsewhere = try TemporaryDirectory("sshcc-secret")
        let secret = try elsewhere.write("secret.txt", "TOP-SECRET\n")
        let outside = elsewhere.path + "/written"
        // A file beside the compiler's installation (its bin/ is harness.bin): not the compiler's to read.
        let beside = try harness.directory.write("beside.txt", "BESIDE\n")
        let probes = "#!/bin/sh\n" + Self.probes(secret: secret, outside: outside, beside: beside) + "\n"
        if direct {
            try harness.directory.write("bin/probe-step", probes)
            chmod(harness.bin + "/probe-step", 0o755)
            try harness.directory.write(
                "bin/gcc",
                """
                #!/bin/sh
                case " $* " in *" -### "*)
                  line=" \(harness.bin)/probe-step"
                  for a in "$@"; do [ "$a" = "-###" ] || line="$line $a"; done
                  echo "$line" >&2; exit 0;;
                esac
                exec /usr/bin/gcc "$@"

                """)
        } else {
            try harness.directory.write("bin/gcc", probes)
        }
        chmod(harness.bin + "/gcc", 0o755)
        let request = try harness.request("a.c", "int value(int x) { return x * 3; }\n", ["gcc", "-O2", "-c", "a.c"])
        let (_, replies) = try harness.serve([request])
        let stderr = String(decoding: replies.first?.stderr ?? [], as: UTF8.self)
        #expect(harness.leftovers.isEmpty)
        return (replies.first, stderr, FileManager.default.fileExists(atPath: outside))
    }

    @Test(arguments: [false, true])
    func compilerCanTouchNothingButItsJobAndTheSystem(direct: Bool) throws {
        let (reply, stderr, wrote) = try run(sandboxed: true, direct: direct)
        #expect(reply?.exitCode == 0 && reply?.object.isEmpty == false, "the compile works: \(stderr)")
        for probe in ["read", "beside", "list", "write", "tcp"] {
            #expect(stderr.contains("\(probe)-denied"), "\(probe): \(stderr)")
        }
        #expect(!stderr.contains("TOP-SECRET"))
        #expect(!wrote)
    }

    @Test func withoutTheSandboxTheProbesSucceed() throws {
        let (reply, stderr, wrote) = try run(sandboxed: false)
        #expect(reply?.exitCode == 0)
        for probe in ["read", "beside", "list", "write", "tcp"] {
            #expect(stderr.contains("\(probe)-ok"), "\(probe): \(stderr)")
        }
        #expect(stderr.contains("TOP-SECRET"))
        #expect(wrote)
    }
}
