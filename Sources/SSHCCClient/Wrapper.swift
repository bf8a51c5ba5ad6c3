// The wrapper's whole job, start to exit: find the real compiler, decide local or remote, preprocess,
// send to a host, deliver the object and messages exactly as the compiler would, or fall back locally.
// Returns the exit status; running locally replaces the process with the real compiler.

import CompileCore
import MuxCore
import POSIXSupport
import PreprocessedText
import Toolchains

public enum Wrapper {
    /// Runs sshcc with its full argv (program name first) and returns the exit status.
    public static func main(_ argv: [String]) -> Int32 {
        CurrentProcess.ignoreBrokenPipes()
        let invokedAs = PathName.base(argv.first ?? "sshcc")
        var compilerArgv: [String]
        if invokedAs.hasPrefix("sshcc") {
            guard argv.count >= 2 else {
                Console.error("sshcc: no compiler named (sshcc --help says how to use it)\n")
                return ExitCode.usage.rawValue
            }
            if argv[1].hasPrefix("-") || argv[1] == "doctor" { return Commands.run(argv[1], Array(argv.dropFirst(2))) }
            compilerArgv = Array(argv.dropFirst())
        } else {
            // Masquerade: called through a symlink named like the compiler.
            compilerArgv = [invokedAs] + argv.dropFirst()
        }

        let config = ClientConfig.fromEnvironment()
        guard enterNesting() <= maximumNesting else {
            Console.error(
                "sshcc: '\(compilerArgv[0])' leads back to sshcc \(maximumNesting) times: a loop through PATH "
                    + "(is a ccache or other compiler wrapper directory after sshcc's masquerade directory? put it "
                    + "before, or use CCACHE_PREFIX=sshcc)\n")
            return ExitCode.usage.rawValue
        }
        guard let compilerPath = findCompiler(compilerArgv[0]) else {
            Console.error("sshcc: compiler '\(compilerArgv[0])' not found on PATH\n")
            return ExitCode.compilerMissing.rawValue
        }
        let compiler = LocalCompiler(path: compilerPath, argv: compilerArgv)

        switch ArgScanner.scan(compilerArgv) {
        case .local(let reason):
            if config.verbose { Console.error("sshcc: running locally: \(reason)\n") }
            return compiler.execute()
        case .distribute(let plan):
            return distribute(plan, compiler: compiler, config: config)
        }
    }

    static func distribute(_ plan: CompilePlan, compiler: LocalCompiler, config: ClientConfig) -> Int32 {
        let hosts: (specs: [HostSpec], source: String, text: String, problems: [String])
        do {
            hosts = try config.hosts()
        } catch {
            return fallBack(compiler, config: config, because: error)
        }
        guard hosts.specs.contains(where: { !$0.isLocal }) else {
            // Only local slots (or nothing): no daemon needed to compile here.
            if hosts.specs.isEmpty {
                return fallBack(
                    compiler, config: config, because: SSHCCFailure(.noHosts, "no compile host (\(hosts.source))"))
            }
            // No daemon to say it once: each compile says it (the list has nothing remote left).
            for problem in hosts.problems { Console.error("sshcc: warning: \(problem); the entry is skipped\n") }
            return compiler.execute()
        }

        var plan = plan
        var outcome: MuxClient.Outcome
        let toolchain = ToolchainCache.identity(of: compiler.path, muxDirectory: config.muxPaths.directory)
        defer {
            if !toolchain.kept, let identity = toolchain.identity {
                ToolchainCache.keep(identity, of: compiler.path, muxDirectory: config.muxPaths.directory)
            }
        }
        while true {
            var job = JobSubmission(
                hostList: hosts.text, access: config.access, arguments: plan.remoteArguments,
                toolchain: toolchain.identity?.wire)
            job.hostListSource = hosts.source
            switch send(job, plan: plan, compiler: compiler, config: config) {
            case .answered(let answered): outcome = answered
            case .preprocessingFailed(let failure): return exitStatus(failure, compiler: compiler)
            case .daemonFailed(let failure): return fallBack(compiler, config: config, because: failure)
            case .needsPlainText(let reason):
                // Plain text moves -g columns: only a local compile gives that object.
                if config.verbose {
                    Console.error(
                        "sshcc: \(plan.source): \(plan.recordsDebugInfo ? "compiling locally" : "sending plain -E text"): "
                            + "\(reason)\n")
                }
                if plan.recordsDebugInfo { return compiler.execute() }
                plan = plan.withPlainText
                continue
            }
            break
        }
        switch outcome.answer {
        case .compiled(let host, let result, let notes, let fromCache):
            printNotes(notes)
            if config.verbose && ServerRefusal(exitCode: result.status.exitCode, stderr: result.stderr) == nil {
                Console.error(
                    "sshcc: \(plan.source) " + (fromCache ? "cache hit on \(host)\n" : "compiled on \(host)\n"))
            }
            return deliver(result, plan: plan, compiler: compiler, config: config)
        case .runLocally(let notes):
            printNotes(notes)
            if config.verbose { Console.error("sshcc: \(plan.source): compiling in a local slot\n") }
            // The compiler inherits the daemon connection: the slot is free when the compiler exits.
            if let connection = outcome.connection.take() {
                connection.inheritOnExec()
                _ = connection.release()
            }
            return compiler.execute()
        case .failure(let code, let summary, let details, let notes, let told):
            printNotes(notes)
            if told, config.fallback {
                // Said once already (a host down or refusing; each differing toolchain named in the notes):
                // the build need not hear it per file.
                if config.verbose { Console.error("sshcc: \(plan.source): \(summary); compiling locally\n") }
                return compiler.execute()
            }
            let failure = SSHCCFailure(ExitCode(rawValue: code) ?? .connectFailed, summary, details: details)
            return fallBack(compiler, config: config, because: failure)
        }
    }

    enum Sent: ~Copyable {
        case answered(MuxClient.Outcome)
        /// The preprocessor failed (its messages held: a local compile reports the file): the job was withdrawn.
        case preprocessingFailed(LocalCompiler.PreprocessFailure)
        /// No mux daemon could be reached or kept.
        case daemonFailed(SSHCCFailure)
        /// The directives-only text cannot be compiled exactly elsewhere (DirectivesOnlyText): the job was
        /// withdrawn.
        case needsPlainText(String)
    }

    /// The job's trip through the mux daemon, in order: the preprocessor starts; the command line goes to
    /// the daemon while it runs (the host gets its compiler ready meanwhile); the text follows in pieces as the
    /// preprocessor writes it, the rest once it is whole; then the preprocessor's status, and only if that is
    /// success, the answer. A failed preprocessor withdraws the job by closing the connection, and so does a
    /// directives-only text that needs plain text after all; the preprocessor's messages are shown only once
    /// it has succeeded (after a failure a local compile reports the file). When the
    /// connection failed or the daemon was lost or replaced, the whole job goes again (`MuxClient.submit`).
    static func send(
        _ job: JobSubmission, plan: CompilePlan, compiler: LocalCompiler, config: ClientConfig,
        connect: MuxClient.Connect? = nil
    ) -> Sent {
        let paths = config.muxPaths
        let connect =
            connect ?? {
                do throws(SSHCCFailure) { return .success(try DaemonLauncher.connect(paths)) } catch {
                    return .failure(error)
                }
            }
        var preprocessor = compiler.startPreprocessor(plan, config: config)
        var heldMessages: [UInt8] = []
        var link = MuxClient.open(job, connect: connect)
        var sentAhead = 0
        let text: Result<[UInt8], LocalCompiler.PreprocessFailure>
        if preprocessor != nil {
            text = preprocessor!.text(pieceSize: MuxClient.pieceSize) { piece in
                guard link != nil else { return }
                if MuxClient.send(link!, piece, last: false) {
                    sentAhead += piece.count
                } else {
                    link = nil  // closed: the whole job goes again once the text is complete
                }
            }
        } else {
            text = compiler.preprocess(plan).map { whole in
                heldMessages = whole.messages
                return whole.text
            }
        }
        let source: [UInt8]
        switch text {
        case .success(let whole): source = whole
        case .failure(let failure):
            link = nil  // withdraws the job
            _ = preprocessor?.failure()  // reaped
            return .preprocessingFailed(failure)
        }
        // The text comes ~1 ms before the preprocessor's status (cc1 and the driver still exit): the rest of
        // it goes out first, then the status is awaited.
        // (A failed write is found out by reading: a daemon of another version answers before it closes.)
        if link != nil { _ = MuxClient.send(link!, source[sentAhead...], last: true) }
        if let failed = preprocessor?.failure() {
            link = nil  // withdraws the job
            return .preprocessingFailed(failed)
        }
        if plan.directivesOnly,
            let reason = DirectivesOnlyText.plainTextReason(source, readFile: { try? Files.read($0) })
        {
            link = nil  // withdraws the job
            return .needsPlainText(reason)
        }
        if let messages = preprocessor?.messages { heldMessages = (try? messages.contents()) ?? [] }
        if !heldMessages.isEmpty { try? Console.write(heldMessages, to: .error) }
        preprocessor?.learning?.learn()  // while the job is away
        if let fd = link.take(), let outcome = MuxClient.answer(fd, paths: config.muxPaths, verbose: config.verbose) {
            return .answered(outcome)
        }
        do {
            return .answered(
                try MuxClient.submit(
                    job, source: source, paths: config.muxPaths, verbose: config.verbose, connect: connect))
        } catch {
            return .daemonFailed(error)
        }
    }

    /// What the wrapper exits with when preprocessing failed (the preprocessor's messages are already out).
    static func exitStatus(_ failure: LocalCompiler.PreprocessFailure, compiler: LocalCompiler) -> Int32 {
        switch failure {
        case .compilerFailed, .crashedWithoutDriver: return compiler.execute()
        case .io(let error):
            Console.error("sshcc: \(error)\n")
            return ExitCode.localIOError.rawValue
        }
    }

    /// What happened on other hosts before the job found its way (a host down, a host key problem).
    static func printNotes(_ notes: [String]) {
        for note in notes {
            if note.hasPrefix(" ") {
                Console.error(note + "\n")
            } else if note.hasPrefix("warning: ") {
                Console.error("sshcc: \(note)\n")
            } else {
                Console.error("sshcc: \(note); trying again\n")
            }
        }
    }

    /// Writes the object, prints the compiler's output, returns its status: what a local run would have done.
    static func deliver(_ result: JobResult, plan: CompilePlan, compiler: LocalCompiler, config: ClientConfig) -> Int32
    {
        let reply = result
        if let refusal = ServerRefusal(exitCode: reply.status.exitCode, stderr: reply.stderr) {
            return fallBack(
                compiler, config: config,
                because: SSHCCFailure(.serverRefused, "server refused the job: sshccd: \(refusal.message)"))
        }
        guard let status = reply.status.exitCode else {
            let signal = reply.status.signal ?? 0
            return fallBack(
                compiler, config: config,
                because: SSHCCFailure(.remoteCrashed, "remote compiler killed by signal \(signal)"))
        }
        if status == 0 {
            do {
                try Files.replace(plan.output, result.object)
            } catch {
                Console.error("sshcc: cannot write the object file: \(error)\n")
                return ExitCode.localIOError.rawValue
            }
        }
        try? Console.writeCompilerOutput(reply.stdout, to: .output)
        let stderr = reply.stderr
        if !stderr.isEmpty && config.renderDiagnosticsLocally,
            let local = compiler.diagnostics(),
            Diagnostics.sameMessages(remote: stderr, local: local)
                || (status == 0 && Diagnostics.coversLocal(remote: stderr, local: local))
        {
            try? Console.write(local, to: .error)  // the local compiler's own words, as it wrote them
        } else {
            try? Console.writeCompilerOutput(stderr, to: .error)
        }
        return status
    }

    /// Compiles locally after a failure, with a one-line warning, unless SSHCC_FALLBACK=0.
    static func fallBack(
        _ compiler: LocalCompiler, config: ClientConfig, because failure: SSHCCFailure
    ) -> Int32 {
        let explanation = failure.details.isEmpty ? "" : failure.details.joined(separator: "\n") + "\n"
        guard config.fallback else {
            Console.error("sshcc: error: \(failure.summary) (SSHCC_FALLBACK=0: not compiling locally)\n" + explanation)
            return failure.code.rawValue
        }
        Console.error("sshcc: warning: \(failure.summary); compiling locally\n" + explanation)
        return compiler.execute()
    }

    /// The real compiler: `name` on PATH, skipping sshcc itself (masquerade directories, symlinks to it).
    /// A path naming sshcc (`sshcc /masq/gcc`, as ccache calls it) is looked up by its base name instead.
    static func findCompiler(_ name: String) -> String? {
        let me = Files.realPath("/proc/self/exe")
        let lookup = name.contains("/") && me != nil && Files.realPath(name) == me ? PathName.base(name) : name
        return Environment.findExecutable(lookup) { directory in
            guard let me else { return false }
            return Files.realPath(directory + "/" + lookup) == me
        }
    }

    /// How many sshcc processes are above this one (SSHCC_DEPTH, passed down to the compilers sshcc runs).
    /// More than a few means PATH leads back to sshcc through another wrapper: a loop.
    static func enterNesting() -> Int {
        let depth = (Environment.get("SSHCC_DEPTH").flatMap { Int($0) } ?? 0) + 1
        Environment.set("SSHCC_DEPTH", String(depth))
        return depth
    }
    static let maximumNesting = 4

    /// `sshcc --help`; also the source of the sshcc(1) man page (help2man, Scripts/package).
    static let usage = """
        Usage: sshcc COMPILER [ARGS...]
          or:  sshcc doctor [HOST...]
          or:  sshcc --status [--watch] [--json] | --jobs | --stop | --show-hosts
          or:  sshcc --keygen [FILE] | --authorize PUBKEY [--sshccd PATH] | --install-masquerade DIR
          or:  sshcc --version | --help

        Compiles C and C++ on a farm of compile servers reached over SSH: a drop-in compiler wrapper
        (make -j16 CC="sshcc gcc" CXX="sshcc g++"). It preprocesses here, sends the job to sshccd through one
        authenticated SSH connection per server kept open by a per-user daemon (sshcc-mux), and writes the
        object and the compiler's messages as a local compile would. A job the farm cannot take is compiled
        locally unless SSHCC_FALLBACK=0.

        Commands:
          COMPILER [ARGS...]   compile (gcc, g++, cc, c++, clang, clang++, versioned and cross names);
                               through a symlink named like the compiler, sshcc is that compiler
          doctor [HOST...]     check each step of reaching the hosts (or the named ones) and say what to fix
          --status [--watch] [--json]
                               the mux daemon's hosts, each job (file, host, how long, what it waits for) and
                               recent failures; --watch: every second, waiting for a daemon and surviving its
                               restarts; --json: one JSON object (a line per second with --watch)
          --jobs               how many jobs the farm runs for you now, for make -j"$(sshcc --jobs)": each
                               host's real slots less other users' load, and local slots (without a daemon:
                               the declared slots)
          --stop               stop the mux daemon
          --show-hosts         print the parsed host list and where it came from
          --keygen [FILE]      make a compile-only ed25519 key and print its authorized_keys line
          --authorize PUBKEY   print the compile-only authorized_keys line for an existing public key
                               (FILE: ~/.ssh/sshcc_ed25519; --sshccd PATH: the server's sshccd, by default
                               /usr/bin/sshccd when this sshcc is the package's, else /usr/local/bin/sshccd)
          --install-masquerade DIR
                               link gcc, cc, g++, c++, clang... in DIR to sshcc (put DIR first on PATH)
          --version, --help

        Environment:
          SSHCC_HOSTS          the hosts: [user@]host[:port][/slots][,distccd][,zstd|,lzo|,plain][,sshzlib],
                               separated by spaces; else ~/.config/sshcc/hosts. localhost/N: N local slots
          SSHCC_IDENTITY       the one private key to use; else the keys OpenSSH would offer
          SSHCC_KNOWN_HOSTS    the one known_hosts file to read; else those OpenSSH would read
          SSHCC_SSH_CONFIG     the file ssh -F would read instead of ~/.ssh/config
          SSHCC_FALLBACK=0     fail instead of compiling locally (exit codes above 100)
          SSHCC_VERBOSE=1      say where each job ran
          SSHCC_DIR            the mux daemon's private directory (default $XDG_RUNTIME_DIR/sshcc)
          SSHCC_CONNECT_TIMEOUT, SSHCC_IO_TIMEOUT
                               seconds (default 10 and 300)
          SSHCC_IDLE_TIMEOUT   seconds the daemon stays idle before it exits (default 600)
          SSHCC_BACKOFF        seconds a failed host gets no jobs (default 60)
          SSHCC_ASK            auto, always or never: ask a server's object cache for a job's
                               result before sending its source (default auto: where that wins)
          SSHCC_LOG_LEVEL=debug
                               the daemon's log (mux.log in SSHCC_DIR) records every job, not only
                               connections, failures and backoffs
          SSHCC_DIAGNOSTICS=remote
                               print the server's messages as they came
          SSHCC_PREPROCESSOR=driver
                               always preprocess through the compiler driver

        Exit status: the compiler's own; sshcc's own failures use 101 to 115 (see the documentation).

        """
}

extension String {
    var trimmingTrailingNewlines: String {
        var text = self
        while text.last == "\n" { text.removeLast() }
        return text
    }
}
