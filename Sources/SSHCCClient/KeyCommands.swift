// Compile-only keys: `sshcc --keygen [FILE]` makes a dedicated ed25519 key pair and `sshcc --authorize PUBKEY`
// prints the authorized_keys line that lets that key run sshccd and nothing else: `restrict` (no forwarding,
// no pty, no agent, no X11) and a forced command (whatever the client asks for — a shell, a command, the
// sftp subsystem — sshd runs sshccd instead).

import CompileCore
import POSIXSupport

enum KeyCommands {
    /// sshccd where servers get it the way this machine got sshcc: the Debian package's /usr/bin, else the
    /// install script's default /usr/local/bin (the line is printed for the administrator to check).
    static var defaultServerCommand: String {
        let own = Files.realPath("/proc/self/exe").map(PathName.directory)
        return own == "/usr/bin" ? "/usr/bin/sshccd" : "/usr/local/bin/sshccd"
    }

    /// The authorized_keys line for the public key `line` (`type base64 [comment]`), or why not.
    static func authorizedKeysLine(publicKey line: String, serverCommand: String) -> Result<String, SSHCCFailure> {
        let fields = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard fields.count >= 2,
            fields[0].hasPrefix("ssh-") || fields[0].hasPrefix("ecdsa-") || fields[0].hasPrefix("sk-"),
            fields[1].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+/=".contains($0)) })
        else { return .failure(SSHCCFailure(.usage, "not an OpenSSH public key line: '\(line.prefix(40))'")) }
        guard !serverCommand.isEmpty, !serverCommand.contains("\""), !serverCommand.contains("\\"),
            !serverCommand.contains(where: \.isNewline)
        else {
            return .failure(
                SSHCCFailure(.usage, "the sshccd command must not contain quotes, backslashes or newlines"))
        }
        let comment = fields.count > 2 ? " " + String(fields[2].prefix { !$0.isNewline }) : ""
        return .success("restrict,command=\"\(serverCommand)\" \(fields[0]) \(fields[1])\(comment)")
    }

    /// `--authorize PUBKEY [--sshccd COMMAND]`.
    static func authorize(_ arguments: [String]) -> Int32 {
        guard let (given, command) = parse(arguments, usage: "sshcc --authorize PUBLIC-KEY-FILE [--sshccd COMMAND]"),
            let path = given
        else { return ExitCode.usage.rawValue }
        return printLine(forKeyAt: path, serverCommand: command)
    }

    /// `--keygen [FILE] [--sshccd COMMAND]`: a new ed25519 key (no passphrase: builds run unattended; the key
    /// can do nothing but compile) and the line for the servers.
    static func keygen(_ arguments: [String]) -> Int32 {
        guard let (given, command) = parse(arguments, usage: "sshcc --keygen [FILE] [--sshccd COMMAND]", optional: true)
        else { return ExitCode.usage.rawValue }
        // As ssh-keygen and ssh find ~/.ssh: from the password database, not $HOME.
        let path = given ?? (Environment.passwordHome ?? Environment.home) + "/.ssh/sshcc_ed25519"
        guard !Files.exists(path) else {
            Console.error("sshcc: \(path) exists; not overwriting it (use --authorize \(path).pub for its line)\n")
            return ExitCode.usage.rawValue
        }
        let directory = PathName.directory(path)
        do {
            try Files.makeDirectory(directory, mode: 0o700)
            let result = try Subprocess.run(
                executable: Environment.findExecutable("ssh-keygen") ?? "/usr/bin/ssh-keygen",
                arguments: ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", keyComment, "-f", path],
                stdout: .inherit, stderr: .inherit)
            guard result.status == 0 else {
                Console.error("sshcc: ssh-keygen failed (status \(result.status))\n")
                return ExitCode.localIOError.rawValue
            }
        } catch {
            Console.error("sshcc: cannot make a key at \(path): \(error)\n")
            return ExitCode.localIOError.rawValue
        }
        try? Console.write(
            Array("sshcc: new compile key \(path); use it with SSHCC_IDENTITY=\(path)\n".utf8), to: .output)
        return printLine(forKeyAt: path + ".pub", serverCommand: command)
    }

    /// Who a key is when a server's administrator reads authorized_keys or sshd's log: this user on this
    /// machine, and when the key was made.
    static var keyComment: String {
        "sshcc \(Environment.userName)@\(Environment.hostName) \(WallClock.timestamp().prefix(10))"
    }

    private static func printLine(forKeyAt path: String, serverCommand: String) -> Int32 {
        let text: String
        do { text = String(decoding: try Files.read(path, limit: 16 << 10), as: UTF8.self) } catch {
            Console.error("sshcc: cannot read \(path): \(error)\n")
            return ExitCode.localIOError.rawValue
        }
        switch authorizedKeysLine(publicKey: text, serverCommand: serverCommand) {
        case .failure(let failure):
            Console.error("sshcc: \(failure.summary)\n")
            return failure.code.rawValue
        case .success(let line):
            if line.contains("\" ssh-rsa ") {
                Console.error(
                    "sshcc: warning: \(path) is an RSA key: sshcc cannot log in with it (this libssh2 signs only with SHA-1 ssh-rsa, which OpenSSH 8.8 and later refuse); sshcc --keygen makes an ed25519 key\n"
                )
            }
            let help = """
                Add this line to ~/.ssh/authorized_keys of the compile account on each server (the key can then
                run sshccd and nothing else; sshcc and distcc's SSH mode both reach sshccd through it):

                \(line)

                """
            try? Console.write(Array(help.utf8), to: .output)
            return 0
        }
    }

    /// A positional path (required unless `optional`) and `--sshccd COMMAND`.
    private static func parse(_ arguments: [String], usage: String, optional: Bool = false)
        -> (String?, String)?
    {
        var path: String?
        var command = defaultServerCommand
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            if argument == "--sshccd", let value = rest.popFirst() {
                command = value
            } else if !argument.hasPrefix("-"), path == nil {
                path = argument
            } else {
                Console.error("usage: \(usage)\n")
                return nil
            }
        }
        guard optional || path != nil else {
            Console.error("usage: \(usage)\n")
            return nil
        }
        return (path, command)
    }
}
