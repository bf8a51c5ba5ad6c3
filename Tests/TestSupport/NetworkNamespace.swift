// A private network for tests: a network namespace of the test's own (only its loopback, up), where
// servers run that the test's client cannot reach directly — build servers behind a bastion. The bastion is
// reached from the host's loopback through an inetd-style relay: each connection to it starts a real
// `sshd -i` inside the namespace (sshd serving one connection on its stdin/stdout), so the bastion is an
// OpenSSH server whose forwardings see only the private network. Needs root (ip netns).

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

public final class NetworkNamespace: @unchecked Sendable {
    public let name: String

    public init() throws {
        name = "sshcc-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try Command.check("/usr/sbin/ip", ["netns", "add", name])
        try Command.check("/usr/sbin/ip", ["netns", "exec", name, "/usr/sbin/ip", "link", "set", "lo", "up"])
    }

    deinit { _ = try? Command.run("/usr/sbin/ip", ["netns", "delete", name]) }

    /// `argv` run inside the namespace.
    public func wrap(_ argv: [String]) -> [String] { ["/usr/sbin/ip", "netns", "exec", name] + argv }
}

/// A listener on 127.0.0.1 of the host that serves each connection with `sshd -i -f CONFIG` inside a
/// namespace. Stopped (with the sshd processes it started) by its own PID.
public final class InetdRelay: @unchecked Sendable {
    public private(set) var port = 0
    private var pid: pid_t = 0

    public init(namespace: NetworkNamespace, sshdConfig: String, log: String, directory: TemporaryDirectory) throws {
        let script = try directory.write(
            "inetd-relay.py",
            """
            import os, signal, socket, subprocess, sys
            signal.signal(signal.SIGCHLD, signal.SIG_IGN)
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(16)
            with open(sys.argv[1] + ".tmp", "w") as f:
                f.write(str(listener.getsockname()[1]))
            os.rename(sys.argv[1] + ".tmp", sys.argv[1])
            while True:
                connection, _ = listener.accept()
                subprocess.Popen(sys.argv[2:], stdin=connection, stdout=connection, stderr=subprocess.DEVNULL)
                connection.close()
            """)
        let portFile = directory.path + "/inetd-relay.port"
        let argv = namespace.wrap(["/usr/sbin/sshd", "-i", "-f", sshdConfig, "-E", log])
        pid = try Command.spawn("/usr/bin/python3", [script, portFile] + argv)
        guard
            eventually(
                within: 10,
                {
                    (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0) } != nil
                }),
            let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text)
        else { throw TestSupportError("the inetd relay did not start") }
        self.port = port
    }

    deinit {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}
